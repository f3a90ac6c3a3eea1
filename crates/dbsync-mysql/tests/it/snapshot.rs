//! The initial copy's chunked reads, against a real MariaDB.

use std::sync::Arc;

use chrono::{NaiveDate, TimeZone, Utc};
use dbsync_core::{BitString, Geometry, Time, Uuid, Value};
use dbsync_mysql::snapshot::ChunkReader;
use dbsync_testkit::Dataset;

async fn connect(database: &str) -> mysql_async::Conn {
    let opts =
        dbsync_mysql::session::options_from_url(&dbsync_testkit::mariadb().url(database)).unwrap();
    dbsync_mysql::session::connect(opts, "the test MariaDB")
        .await
        .unwrap()
}

async fn table(
    conn: &mut mysql_async::Conn,
    database: &str,
    name: &str,
) -> Arc<dbsync_core::TableSchema> {
    let tables = dbsync_mysql::schema::read_tables(conn, database)
        .await
        .unwrap();
    Arc::new(tables.into_iter().find(|t| t.name.name == name).unwrap())
}

/// Reads the whole table chunk by chunk, checking that keys only ever increase.
async fn read_all(
    conn: &mut mysql_async::Conn,
    reader: &ChunkReader,
    rows_per_chunk: usize,
) -> Vec<Vec<Value>> {
    let mut rows = Vec::new();
    let mut after: Option<Vec<Value>> = None;
    loop {
        let chunk = reader.read(conn, after.as_deref()).await.unwrap();
        let done = chunk.len() < rows_per_chunk;
        if let Some(last) = chunk.last() {
            after = Some(reader.key_of(last));
        }
        rows.extend(chunk);
        if done {
            return rows;
        }
    }
}

#[tokio::test]
async fn chunks_cover_a_composite_key_exactly_once() {
    let mariadb = dbsync_testkit::mariadb();
    let database = mariadb.create_database("chunks").unwrap();
    mariadb.load(&database, Dataset::Sakila).unwrap();
    let mut conn = connect(&database).await;
    let film_actor = table(&mut conn, &database, "film_actor").await;
    let key = film_actor.primary_key.clone();
    let reader = ChunkReader::new(film_actor, &key, 1000).unwrap();
    let rows = read_all(&mut conn, &reader, 1000).await;
    assert_eq!(rows.len(), 5462);
    let keys: Vec<Vec<Value>> = rows.iter().map(|row| reader.key_of(row)).collect();
    assert!(
        keys.windows(2).all(|pair| matches!(
            (&pair[0][..], &pair[1][..]),
            ([Value::UInt(a1), Value::UInt(f1)], [Value::UInt(a2), Value::UInt(f2)]) if (a1, f1) < (a2, f2)
        )),
        "keys strictly increase across chunk boundaries"
    );
}

#[tokio::test]
async fn a_table_without_a_key_is_refused() {
    let mariadb = dbsync_testkit::mariadb();
    let database = mariadb.create_database("nokey").unwrap();
    mariadb
        .execute(Some(&database), "CREATE TABLE loose (a INT)")
        .unwrap();
    let mut conn = connect(&database).await;
    let loose = table(&mut conn, &database, "loose").await;
    let error = ChunkReader::new(loose, &[], 10).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "table {database}.loose: has no primary key, so its rows cannot be told apart; add one or declare `primary_key` for the table in the pair's `tables`"
        )
    );
}

#[tokio::test]
async fn every_type_family_reads_exactly() {
    let mariadb = dbsync_testkit::mariadb();
    let database = mariadb.create_database("snapshot_types").unwrap();
    mariadb
        .execute(
            Some(&database),
            "SET SESSION sql_mode = '';
             CREATE TABLE t (
                id INT PRIMARY KEY,
                u64 BIGINT UNSIGNED, i64 BIGINT, i24 MEDIUMINT, u8 TINYINT UNSIGNED,
                f FLOAT, d DOUBLE, wide DECIMAL(65,30),
                span TIME(6), day DATE, at DATETIME(6), ts TIMESTAMP(6) NULL, yr YEAR,
                emoji VARCHAR(20) CHARACTER SET utf8mb4, latin CHAR(10) CHARACTER SET latin1,
                raw BINARY(4), blob_data BLOB, doc JSON,
                mood ENUM('sad','ok'), flags SET('a','b','c'), bits BIT(64), bit1 BIT(1),
                place POINT, uid UUID
             );
             INSERT INTO t VALUES
               (1, 18446744073709551615, -9223372036854775808, -8388608, 255,
                1.5, -2.25e-300, '-99999999999999999999999999999999999.999999999999999999999999999999',
                '-838:59:59.000000', '2024-02-29', '2024-02-29 23:59:59.999999', '2038-01-19 03:14:07.999999', 2155,
                'a😀b', 'café  ', x'01000000', x'00ff80fe', '{\"b\": 1, \"a\": [true, null]}',
                'ok', 'a,c', b'1111111111111111111111111111111111111111111111111111111111111111', b'1',
                ST_GeomFromText('POINT(1 2)', 4326), '123e4567-e89b-12d3-a456-426614174000'),
               (2, 0, 0, 0, 0, 0, 0, 0, '838:59:59', '0000-00-00', '0000-00-00 00:00:00', '0000-00-00 00:00:00', 0,
                '', '', x'', x'', '[]', '', '', b'0', b'0', ST_GeomFromText('POINT(0 0)'), '00000000-0000-0000-0000-000000000000'),
               (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                NULL, NULL, NULL, NULL, NULL, NULL, NULL)",
        )
        .unwrap();
    let mut conn = connect(&database).await;
    let t = table(&mut conn, &database, "t").await;
    let reader = ChunkReader::new(t, &["id".to_owned()], 10).unwrap();
    let rows = read_all(&mut conn, &reader, 10).await;
    let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
    let point = |srid: u32, x: f64, y: f64| {
        let mut wkb = vec![1, 1, 0, 0, 0];
        wkb.extend_from_slice(&x.to_le_bytes());
        wkb.extend_from_slice(&y.to_le_bytes());
        Value::Geometry(Geometry { srid, wkb })
    };
    assert_eq!(
        rows[0],
        [
            Value::Int(1),
            Value::UInt(u64::MAX),
            Value::Int(i64::MIN),
            Value::Int(-8388608),
            Value::UInt(255),
            Value::Float(1.5),
            Value::Double(-2.25e-300),
            Value::Decimal(
                "-99999999999999999999999999999999999.999999999999999999999999999999"
                    .parse()
                    .unwrap()
            ),
            Value::Time(Time::from_parts(true, 838, 59, 59, 0).unwrap()),
            Value::Date(date(2024, 2, 29)),
            Value::DateTime(
                date(2024, 2, 29)
                    .and_hms_micro_opt(23, 59, 59, 999_999)
                    .unwrap()
            ),
            Value::Timestamp(
                Utc.from_utc_datetime(
                    &date(2038, 1, 19)
                        .and_hms_micro_opt(3, 14, 7, 999_999)
                        .unwrap()
                )
            ),
            Value::Year(2155),
            Value::Text("a😀b".into()),
            Value::Text("café".into()),
            Value::Bytes(vec![1, 0, 0, 0]),
            Value::Bytes(vec![0, 0xff, 0x80, 0xfe]),
            Value::Json("{\"b\": 1, \"a\": [true, null]}".into()),
            Value::Enum("ok".into()),
            Value::Set(vec!["a".into(), "c".into()]),
            Value::Bit(BitString::from_u64(u64::MAX, 64)),
            Value::Bit(BitString::from_u64(1, 1)),
            point(4326, 1.0, 2.0),
            Value::Uuid(Uuid([
                0x12, 0x3e, 0x45, 0x67, 0xe8, 0x9b, 0x12, 0xd3, 0xa4, 0x56, 0x42, 0x66, 0x14, 0x17,
                0x40, 0x00
            ])),
        ]
    );
    assert_eq!(
        rows[1],
        [
            Value::Int(2),
            Value::UInt(0),
            Value::Int(0),
            Value::Int(0),
            Value::UInt(0),
            Value::Float(0.0),
            Value::Double(0.0),
            Value::Decimal("0.000000000000000000000000000000".parse().unwrap()),
            Value::Time(Time::from_parts(false, 838, 59, 59, 0).unwrap()),
            Value::ZeroDate,
            Value::ZeroDate,
            Value::ZeroDate,
            Value::Year(0),
            Value::Text(String::new()),
            Value::Text(String::new()),
            Value::Bytes(vec![0, 0, 0, 0]),
            Value::Bytes(vec![]),
            Value::Json("[]".into()),
            Value::Enum(String::new()),
            Value::Set(vec![]),
            Value::Bit(BitString::from_u64(0, 64)),
            Value::Bit(BitString::from_u64(0, 1)),
            point(0, 0.0, 0.0),
            Value::Uuid(Uuid([0; 16])),
        ]
    );
    assert_eq!(rows[2][0], Value::Int(3));
    assert!(rows[2][1..].iter().all(Value::is_null), "{:?}", rows[2]);
}
