//! Binlog capture against a real MariaDB.
//!
//! The server is shared by every test of the process and tests run in parallel, so
//! the binlog holds other tests' transactions too: each test tracks only its own
//! tables, takes the position before its writes and reads until its own commits.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use chrono::{NaiveDate, TimeZone, Utc};
use dbsync_core::{
    BinlogPosition, BitString, Change, ChangeOp, ErrorKind, Geometry, Position, Row, StreamItem,
    TableSchema, Time, Uuid, Value,
};
use dbsync_mysql::binlog::{BinlogConfig, BinlogStream, current_position};
use dbsync_testkit::Proxy;

/// Each stream needs its own replica id: the server ends the older of two dumps
/// with the same one.
fn server_id() -> u32 {
    static NEXT: AtomicU32 = AtomicU32::new(1000);
    NEXT.fetch_add(1, Ordering::SeqCst)
}

/// How long a test waits for its own transactions before failing.
const PATIENCE: Duration = Duration::from_secs(60);

/// A database of its own with `ddl` run in it, and its tables as dbsync reads them.
async fn database(hint: &str, ddl: &str) -> (String, Vec<Arc<TableSchema>>) {
    let mariadb = dbsync_testkit::mariadb();
    let db = mariadb.create_database(hint).unwrap();
    mariadb.execute(Some(&db), ddl).unwrap();
    let mut conn = connect(&db).await;
    let tables = dbsync_mysql::schema::read_tables(&mut conn, &db)
        .await
        .unwrap();
    conn.disconnect().await.unwrap();
    (db, tables.into_iter().map(Arc::new).collect())
}

async fn connect(db: &str) -> mysql_async::Conn {
    let opts = mysql_async::OptsBuilder::from_opts(
        mysql_async::Opts::from_url(&dbsync_testkit::mariadb().replication_url(db)).unwrap(),
    )
    .prefer_socket(false);
    mysql_async::Conn::new(opts).await.unwrap()
}

async fn position(db: &str) -> BinlogPosition {
    let mut conn = connect(db).await;
    let position = current_position(&mut conn).await.unwrap();
    conn.disconnect().await.unwrap();
    position
}

async fn stream(db: &str, tables: &[Arc<TableSchema>], from: BinlogPosition) -> BinlogStream {
    stream_on_port(dbsync_testkit::mariadb().port(), db, tables, from).await
}

async fn stream_on_port(
    port: u16,
    db: &str,
    tables: &[Arc<TableSchema>],
    from: BinlogPosition,
) -> BinlogStream {
    let url = dbsync_testkit::mariadb().replication_url(db).replace(
        &format!(":{}/", dbsync_testkit::mariadb().port()),
        &format!(":{port}/"),
    );
    let opts = mysql_async::Opts::from_url(&url).unwrap();
    BinlogStream::start(opts, BinlogConfig::new(server_id()), tables.to_vec(), from)
        .await
        .unwrap()
}

fn execute(db: &str, sql: &str) {
    dbsync_testkit::mariadb().execute(Some(db), sql).unwrap();
}

/// One transaction as the stream delivered it: its changes, in how many items they
/// came, and the position of its commit.
#[derive(Debug)]
struct Txn {
    changes: Vec<Change>,
    items: usize,
    position: BinlogPosition,
}

/// Reads until `count` transactions with changes have committed. Commits without
/// changes before them (other tables' transactions, heartbeats) are passed over.
async fn transactions(stream: &mut BinlogStream, count: usize) -> Vec<Txn> {
    let read = async {
        let mut done = Vec::new();
        let (mut changes, mut items) = (Vec::new(), 0);
        while done.len() < count {
            match stream.next().await.unwrap() {
                StreamItem::Changes(batch) => {
                    assert!(!batch.is_empty(), "an empty Changes item");
                    changes.extend(batch);
                    items += 1;
                }
                StreamItem::Commit { position, .. } if !changes.is_empty() => {
                    let Position::Binlog(position) = position else {
                        panic!("a binlog stream committed at {position:?}");
                    };
                    done.push(Txn {
                        changes: std::mem::take(&mut changes),
                        items: std::mem::take(&mut items),
                        position,
                    });
                }
                StreamItem::Commit { .. } => {}
            }
        }
        done
    };
    tokio::time::timeout(PATIENCE, read)
        .await
        .expect("the stream delivered the test's transactions in time")
}

fn ops(txn: &Txn) -> Vec<&ChangeOp> {
    txn.changes.iter().map(|change| &change.op).collect()
}

fn insert(after: Row) -> ChangeOp {
    ChangeOp::Insert { after }
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn time(negative: bool, h: u32, m: u32, s: u32, micros: u32) -> Value {
    Value::Time(Time::from_parts(negative, h, m, s, micros).unwrap())
}

fn text(s: &str) -> Value {
    Value::Text(s.into())
}

fn decimal(s: &str) -> Value {
    Value::Decimal(s.parse().unwrap())
}

fn point(srid: u32, x: f64, y: f64) -> Value {
    let mut wkb = vec![1, 1, 0, 0, 0];
    wkb.extend_from_slice(&x.to_le_bytes());
    wkb.extend_from_slice(&y.to_le_bytes());
    Value::Geometry(Geometry { srid, wkb })
}

const EVERY_TYPE: &str = "CREATE TABLE t (
    id INT PRIMARY KEY,
    u64 BIGINT UNSIGNED, i64 BIGINT, i24 MEDIUMINT, u24 MEDIUMINT UNSIGNED,
    i8 TINYINT, u8 TINYINT UNSIGNED, i16 SMALLINT, u32 INT UNSIGNED, flag TINYINT(1),
    f FLOAT, d DOUBLE, wide DECIMAL(65,30), money DECIMAL(5,2),
    span TIME, span6 TIME(6), day DATE, at DATETIME(6), at0 DATETIME, ts TIMESTAMP(6) NULL, yr YEAR,
    emoji VARCHAR(20) CHARACTER SET utf8mb4, long_text VARCHAR(300) CHARACTER SET utf8mb4,
    latin CHAR(10) CHARACTER SET latin1, latin_text TEXT CHARACTER SET latin1,
    padded CHAR(120) CHARACTER SET utf8mb4,
    raw BINARY(16), vraw VARBINARY(20), blob_data BLOB, doc JSON,
    mood ENUM('sad','ok','café'), flags SET('a','b','c','d'),
    bit1 BIT(1), bit64 BIT(64), bit5 BIT(5),
    place POINT, uid UUID
)";

/// Every type family at its extremes, at zero, empty and NULL, exactly as the
/// snapshot reader reads them.
#[tokio::test]
async fn every_type_family_arrives_exactly() {
    let (db, tables) = database("binlog_types", EVERY_TYPE).await;
    let from = position(&db).await;
    let mut stream = stream(&db, &tables, from).await;
    execute(
        &db,
        "SET SESSION sql_mode = '', time_zone = '+00:00';
         INSERT INTO t VALUES
           (1, 18446744073709551615, -9223372036854775808, -8388608, 16777215,
            -128, 255, -32768, 4294967295, 1,
            1.5, -2.25e-300, '99999999999999999999999999999999999.999999999999999999999999999999', '-12.5',
            '838:59:59', '-838:59:59.000000', '2024-02-29', '2024-02-29 23:59:59.999999',
            '9999-12-31 23:59:59', '2038-01-19 03:14:07.999999', 2155,
            'a😀b', REPEAT('é', 300), 'café  ', 'déjà vu €', 'hello   ',
            x'0102', x'00ff00', x'00ff80fe', '{\"b\": 1, \"a\": [true, null]}',
            'café', 'd,a,c', b'1', b'1111111111111111111111111111111111111111111111111111111111111111', b'10110',
            ST_GeomFromText('POINT(1 2)', 4326), '123e4567-e89b-12d3-a456-426614174000');
         INSERT INTO t VALUES
           (2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            '00:00:00', '-00:00:00.000001', '0000-00-00', '0000-00-00 00:00:00',
            '0000-00-00 00:00:00', '0000-00-00 00:00:00', 0,
            '', '', '', '', '', x'', x'', x'', '[]', 'not a label', '', b'0', 0, 0,
            ST_GeomFromText('POINT(0 0)'), '00000000-0000-0000-0000-000000000000');
         INSERT INTO t (id) VALUES (3);
         INSERT INTO t (id, i24, u24, wide, money, span6, raw, uid) VALUES
           (4, 8388607, 0, '-99999999999999999999999999999999999.999999999999999999999999999999', '999.99',
            '12:34:56.789012', x'ffffffffffffffffffffffffffffffff', '12345678-9abc-1def-8123-456789ab0000')",
    );
    let txns = transactions(&mut stream, 4).await;
    let rows: Vec<&Row> = txns
        .iter()
        .flat_map(|txn| &txn.changes)
        .map(|change| match &change.op {
            ChangeOp::Insert { after } => after,
            op => panic!("expected inserts, got {op:?}"),
        })
        .collect();

    let mut raw = vec![0u8; 16];
    raw[..2].copy_from_slice(&[1, 2]);
    assert_eq!(
        rows[0],
        &vec![
            Value::Int(1),
            Value::UInt(u64::MAX),
            Value::Int(i64::MIN),
            Value::Int(-8_388_608),
            Value::UInt(16_777_215),
            Value::Int(-128),
            Value::UInt(255),
            Value::Int(-32768),
            Value::UInt(u64::from(u32::MAX)),
            Value::Int(1),
            Value::Float(1.5),
            Value::Double(-2.25e-300),
            decimal("99999999999999999999999999999999999.999999999999999999999999999999"),
            decimal("-12.50"),
            time(false, 838, 59, 59, 0),
            time(true, 838, 59, 59, 0),
            Value::Date(date(2024, 2, 29)),
            Value::DateTime(
                date(2024, 2, 29)
                    .and_hms_micro_opt(23, 59, 59, 999_999)
                    .unwrap()
            ),
            Value::DateTime(date(9999, 12, 31).and_hms_opt(23, 59, 59).unwrap()),
            Value::Timestamp(
                Utc.from_utc_datetime(
                    &date(2038, 1, 19)
                        .and_hms_micro_opt(3, 14, 7, 999_999)
                        .unwrap()
                )
            ),
            Value::Year(2155),
            text("a😀b"),
            text(&"é".repeat(300)),
            text("café"),
            text("déjà vu €"),
            text("hello"),
            Value::Bytes(raw),
            Value::Bytes(vec![0, 0xff, 0]),
            Value::Bytes(vec![0, 0xff, 0x80, 0xfe]),
            Value::Json("{\"b\": 1, \"a\": [true, null]}".into()),
            Value::Enum("café".into()),
            Value::Set(vec!["a".into(), "c".into(), "d".into()]),
            Value::Bit(BitString::from_u64(1, 1)),
            Value::Bit(BitString::from_u64(u64::MAX, 64)),
            Value::Bit(BitString::from_u64(0b10110, 5)),
            point(4326, 1.0, 2.0),
            Value::Uuid(Uuid([
                0x12, 0x3e, 0x45, 0x67, 0xe8, 0x9b, 0x12, 0xd3, 0xa4, 0x56, 0x42, 0x66, 0x14, 0x17,
                0x40, 0x00
            ])),
        ]
    );
    assert_eq!(
        rows[1],
        &vec![
            Value::Int(2),
            Value::UInt(0),
            Value::Int(0),
            Value::Int(0),
            Value::UInt(0),
            Value::Int(0),
            Value::UInt(0),
            Value::Int(0),
            Value::UInt(0),
            Value::Int(0),
            Value::Float(0.0),
            Value::Double(0.0),
            decimal("0.000000000000000000000000000000"),
            decimal("0.00"),
            time(false, 0, 0, 0, 0),
            time(true, 0, 0, 0, 1),
            Value::ZeroDate,
            Value::ZeroDate,
            Value::ZeroDate,
            Value::ZeroDate,
            Value::Year(0),
            text(""),
            text(""),
            text(""),
            text(""),
            text(""),
            Value::Bytes(vec![0; 16]),
            Value::Bytes(vec![]),
            Value::Bytes(vec![]),
            Value::Json("[]".into()),
            Value::Enum(String::new()),
            Value::Set(vec![]),
            Value::Bit(BitString::from_u64(0, 1)),
            Value::Bit(BitString::from_u64(0, 64)),
            Value::Bit(BitString::from_u64(0, 5)),
            point(0, 0.0, 0.0),
            Value::Uuid(Uuid([0; 16])),
        ]
    );
    assert_eq!(rows[2][0], Value::Int(3));
    assert!(rows[2][1..].iter().all(Value::is_null), "{:?}", rows[2]);
    let column = |name: &str| {
        tables[0]
            .columns
            .iter()
            .position(|c| c.name == name)
            .unwrap()
    };
    assert_eq!(rows[3][column("i24")], Value::Int(8_388_607));
    assert_eq!(
        rows[3][column("wide")],
        decimal("-99999999999999999999999999999999999.999999999999999999999999999999")
    );
    assert_eq!(rows[3][column("money")], decimal("999.99"));
    assert_eq!(rows[3][column("span6")], time(false, 12, 34, 56, 789_012));
    assert_eq!(rows[3][column("raw")], Value::Bytes(vec![0xff; 16]));
    assert_eq!(
        rows[3][column("uid")],
        Value::Uuid(Uuid([
            0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0x1d, 0xef, 0x81, 0x23, 0x45, 0x67, 0x89, 0xab, 0,
            0
        ])),
        "a UUID's trailing zero bytes, which the binlog strips, are restored"
    );
}

/// The snapshot reader and the binlog give the same values for the same rows, so
/// that a row copied and a row streamed converge on the same target row.
#[tokio::test]
async fn the_binlog_and_the_snapshot_agree() {
    let (db, tables) = database("binlog_vs_snapshot", EVERY_TYPE).await;
    let from = position(&db).await;
    let mut stream = stream(&db, &tables, from).await;
    execute(
        &db,
        "SET SESSION sql_mode = '', time_zone = '+00:00';
         INSERT INTO t (id, u64, i24, wide, span6, at, ts, latin, padded, raw, mood, flags, bit5, place, uid)
         VALUES (1, 18446744073709551615, -8388608, '-0.000000000000000000000000000001',
                 '-838:59:59.000000', '2024-02-29 23:59:59.999999', '2038-01-19 03:14:07.999999',
                 'café  ', 'x  ', x'01', 'ok', 'b,a', b'101', ST_GeomFromText('POINT(3 4)', 4326),
                 '123e4567-e89b-12d3-a456-426614174000'),
                (2, 0, 0, 0, '00:00:00', '0000-00-00 00:00:00', '0000-00-00 00:00:00', '', '', x'', '', '', 0,
                 ST_GeomFromText('POINT(0 0)'), '00000000-0000-0000-0000-000000000000'),
                (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)",
    );
    let txns = transactions(&mut stream, 1).await;
    let streamed: Vec<&Row> = txns[0]
        .changes
        .iter()
        .map(|change| match &change.op {
            ChangeOp::Insert { after } => after,
            op => panic!("expected inserts, got {op:?}"),
        })
        .collect();

    let opts =
        dbsync_mysql::session::options_from_url(&dbsync_testkit::mariadb().url(&db)).unwrap();
    let mut conn = dbsync_mysql::session::connect(opts, "the test MariaDB")
        .await
        .unwrap();
    let reader =
        dbsync_mysql::snapshot::ChunkReader::new(Arc::clone(&tables[0]), &["id".to_owned()], 10)
            .unwrap();
    let copied = reader.read(&mut conn, None).await.unwrap();
    assert_eq!(copied.len(), 3);
    for (streamed, copied) in streamed.iter().zip(&copied) {
        assert_eq!(*streamed, copied);
    }
}

/// The server gives `YEAR` a bit in the table map's signedness metadata; a decoder
/// that did not would read `n` as unsigned and refuse the table.
#[tokio::test]
async fn a_year_between_integers_keeps_the_signedness_aligned() {
    let (db, tables) = database(
        "binlog_year",
        "CREATE TABLE t (id INT PRIMARY KEY, y YEAR, n INT, u INT UNSIGNED)",
    )
    .await;
    let from = position(&db).await;
    let mut stream = stream(&db, &tables, from).await;
    execute(&db, "INSERT INTO t VALUES (1, 2024, -1, 1)");
    let txns = transactions(&mut stream, 1).await;
    assert_eq!(
        ops(&txns[0]),
        [&insert(vec![
            Value::Int(1),
            Value::Year(2024),
            Value::Int(-1),
            Value::UInt(1)
        ])]
    );
}

#[tokio::test]
async fn updates_carry_both_images_and_deletes_the_old_one() {
    let (db, tables) = database(
        "binlog_updates",
        "CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(20), n INT);
         INSERT INTO t VALUES (1, 'a', 10), (2, 'b', 20)",
    )
    .await;
    let from = position(&db).await;
    let mut stream = stream(&db, &tables, from).await;
    execute(
        &db,
        "UPDATE t SET n = 11 WHERE id = 1;
         UPDATE t SET id = 3 WHERE id = 2;
         DELETE FROM t WHERE id = 1",
    );
    let txns = transactions(&mut stream, 3).await;
    let row = |id, name: &str, n| vec![Value::Int(id), text(name), Value::Int(n)];
    assert_eq!(
        ops(&txns[0]),
        [&ChangeOp::Update {
            before: row(1, "a", 10),
            after: row(1, "a", 11)
        }]
    );
    assert_eq!(
        ops(&txns[1]),
        [&ChangeOp::Update {
            before: row(2, "b", 20),
            after: row(3, "b", 20)
        }],
        "a key change carries the old key in its before image"
    );
    assert_eq!(
        ops(&txns[2]),
        [&ChangeOp::Delete {
            before: row(1, "a", 11)
        }]
    );
    assert!(
        txns.iter()
            .flat_map(|t| &t.changes)
            .all(|c| Arc::ptr_eq(&c.table, &tables[0]))
    );
}

#[tokio::test]
async fn a_transaction_of_several_statements_is_one_commit() {
    let (db, tables) = database(
        "binlog_multi",
        "CREATE TABLE a (id INT PRIMARY KEY); CREATE TABLE b (id INT PRIMARY KEY)",
    )
    .await;
    let from = position(&db).await;
    let mut stream = stream(&db, &tables, from).await;
    execute(
        &db,
        "BEGIN;
         INSERT INTO a VALUES (1), (2);
         INSERT INTO b VALUES (10);
         UPDATE a SET id = 3 WHERE id = 2;
         COMMIT;
         INSERT INTO a VALUES (4)",
    );
    let txns = transactions(&mut stream, 2).await;
    let changes: Vec<(&str, &ChangeOp)> = txns[0]
        .changes
        .iter()
        .map(|c| (c.table.name.name.as_str(), &c.op))
        .collect();
    assert_eq!(
        changes,
        [
            ("a", &insert(vec![Value::Int(1)])),
            ("a", &insert(vec![Value::Int(2)])),
            ("b", &insert(vec![Value::Int(10)])),
            (
                "a",
                &ChangeOp::Update {
                    before: vec![Value::Int(2)],
                    after: vec![Value::Int(3)]
                }
            ),
        ],
        "the three statements' changes, in order, before one commit"
    );
    assert_eq!(ops(&txns[1]), [&insert(vec![Value::Int(4)])]);
    assert!(txns[1].position > txns[0].position);
}

/// A table without transactions ends each statement with a `COMMIT` query rather
/// than an XID event.
#[tokio::test]
async fn a_non_transactional_table_commits_too() {
    let (db, tables) = database(
        "binlog_myisam",
        "CREATE TABLE t (id INT PRIMARY KEY) ENGINE=MyISAM",
    )
    .await;
    let from = position(&db).await;
    let mut stream = stream(&db, &tables, from).await;
    execute(&db, "INSERT INTO t VALUES (1); INSERT INTO t VALUES (2)");
    let txns = transactions(&mut stream, 2).await;
    assert_eq!(ops(&txns[0]), [&insert(vec![Value::Int(1)])]);
    assert_eq!(ops(&txns[1]), [&insert(vec![Value::Int(2)])]);
}

/// After the server moves to a new binlog file, positions name the new file, and a
/// stream resumes from them.
#[tokio::test]
async fn a_rotation_moves_the_position_to_the_next_file() {
    let (db, tables) = database("binlog_rotate", "CREATE TABLE t (id INT PRIMARY KEY)").await;
    let from = position(&db).await;
    let mut first = stream(&db, &tables, from.clone()).await;
    execute(
        &db,
        "INSERT INTO t VALUES (1); FLUSH BINARY LOGS; INSERT INTO t VALUES (2)",
    );
    let txns = transactions(&mut first, 2).await;
    assert_eq!(txns[0].position.file, from.file);
    assert!(
        txns[1].position.file.number() > from.file.number(),
        "{} after {}",
        txns[1].position,
        from
    );
    let by_file = BinlogPosition {
        gtid_state: vec![],
        ..txns[0].position.clone()
    };
    let mut resumed = stream(&db, &tables, by_file).await;
    let again = transactions(&mut resumed, 1).await;
    assert_eq!(ops(&again[0]), [&insert(vec![Value::Int(2)])]);
    assert_eq!(again[0].position, txns[1].position);
}

/// A transaction of 100,000 rows arrives in many items (one per rows event, which
/// the server keeps to a few kilobytes), then one commit.
#[tokio::test]
async fn a_large_transaction_arrives_in_pieces() {
    let (db, tables) = database(
        "binlog_large",
        "CREATE TABLE t (id INT PRIMARY KEY, note VARCHAR(40))",
    )
    .await;
    let from = position(&db).await;
    let mut stream = stream(&db, &tables, from).await;
    execute(
        &db,
        "INSERT INTO t SELECT seq, CONCAT('row ', seq) FROM seq_1_to_100000",
    );
    let txns = transactions(&mut stream, 1).await;
    let txn = &txns[0];
    assert_eq!(txn.changes.len(), 100_000);
    assert!(txn.items > 10, "{} items", txn.items);
    assert_eq!(
        txn.changes[0].op,
        insert(vec![Value::Int(1), text("row 1")])
    );
    assert_eq!(
        txn.changes[99_999].op,
        insert(vec![Value::Int(100_000), text("row 100000")])
    );
}

#[tokio::test]
async fn truncate_is_a_change() {
    let (db, tables) = database(
        "binlog_truncate",
        "CREATE TABLE t (id INT PRIMARY KEY); INSERT INTO t VALUES (1)",
    )
    .await;
    let from = position(&db).await;
    let mut stream = stream(&db, &tables, from).await;
    execute(&db, "TRUNCATE TABLE t; INSERT INTO t VALUES (2)");
    let txns = transactions(&mut stream, 2).await;
    assert_eq!(ops(&txns[0]), [&ChangeOp::Truncate]);
    assert_eq!(ops(&txns[1]), [&insert(vec![Value::Int(2)])]);
}

#[tokio::test]
async fn altering_a_tracked_table_stops_the_stream() {
    let (db, tables) = database(
        "binlog_alter",
        "CREATE TABLE t (id INT PRIMARY KEY); CREATE TABLE other (id INT PRIMARY KEY)",
    )
    .await;
    let tracked: Vec<_> = tables
        .iter()
        .filter(|t| t.name.name == "t")
        .cloned()
        .collect();
    let from = position(&db).await;
    let mut stream = stream(&db, &tracked, from).await;
    execute(
        &db,
        "ALTER TABLE other ADD COLUMN c INT;
         INSERT INTO t VALUES (1);
         ALTER TABLE t ADD COLUMN c INT",
    );
    let txns = transactions(&mut stream, 1).await;
    assert_eq!(
        ops(&txns[0]),
        [&insert(vec![Value::Int(1)])],
        "an untracked table's DDL is ignored"
    );
    let error = tokio::time::timeout(PATIENCE, async {
        loop {
            match stream.next().await {
                Ok(StreamItem::Commit { .. }) => {}
                Ok(item) => panic!("expected the ALTER to stop the stream, got {item:?}"),
                Err(error) => return error,
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(error.kind(), ErrorKind::SchemaMismatch);
    assert_eq!(error.table(), Some(&tracked[0].name));
    let message = error.to_string();
    assert!(
        message.contains("ALTER TABLE t ADD COLUMN c INT"),
        "{message}"
    );
    assert!(message.contains("re-synced"), "{message}");
    let after = stream.next().await.unwrap_err();
    assert!(
        after.is_transient(),
        "a failed stream stays failed: {after}"
    );
}

/// A schema read before the table changed does not decode rows written after: the
/// table map says so, whatever the position the stream starts from.
#[tokio::test]
async fn a_table_map_that_disagrees_with_the_schema_is_refused() {
    let (db, tables) = database("binlog_stale", "CREATE TABLE t (id INT PRIMARY KEY)").await;
    execute(&db, "ALTER TABLE t ADD COLUMN added INT");
    let from = position(&db).await;
    let mut stream = stream(&db, &tables, from).await;
    execute(&db, "INSERT INTO t VALUES (1, 2)");
    let error = first_error(&mut stream).await;
    assert_eq!(error.kind(), ErrorKind::SchemaMismatch);
    assert_eq!(error.table(), Some(&tables[0].name));
    assert!(
        error
            .to_string()
            .contains("has 2 columns (also added) but the table has 1"),
        "{error}"
    );
}

#[tokio::test]
async fn a_partly_zero_date_stops_the_stream_naming_the_column() {
    let (db, tables) = database(
        "binlog_zero",
        "CREATE TABLE t (id INT PRIMARY KEY, day DATE)",
    )
    .await;
    let from = position(&db).await;
    let mut stream = stream(&db, &tables, from).await;
    execute(
        &db,
        "SET SESSION sql_mode = ''; INSERT INTO t VALUES (1, '2024-00-15')",
    );
    let error = first_error(&mut stream).await;
    assert_eq!(error.kind(), ErrorKind::Unsupported);
    assert_eq!(error.table(), Some(&tables[0].name));
    assert!(
        error
            .to_string()
            .contains("column `day` (date) holds the partly zero date 2024-00-15"),
        "{error}"
    );
}

#[tokio::test]
async fn untracked_tables_are_not_yielded() {
    let (db, tables) = database(
        "binlog_untracked",
        "CREATE TABLE t (id INT PRIMARY KEY); CREATE TABLE other (id INT PRIMARY KEY)",
    )
    .await;
    let tracked: Vec<_> = tables
        .iter()
        .filter(|t| t.name.name == "t")
        .cloned()
        .collect();
    let from = position(&db).await;
    let mut stream = stream(&db, &tracked, from).await;
    execute(
        &db,
        "INSERT INTO other VALUES (1);
         BEGIN; INSERT INTO other VALUES (2); INSERT INTO t VALUES (2); COMMIT;
         TRUNCATE other;
         INSERT INTO t VALUES (3)",
    );
    let txns = transactions(&mut stream, 2).await;
    assert_eq!(ops(&txns[0]), [&insert(vec![Value::Int(2)])]);
    assert_eq!(ops(&txns[1]), [&insert(vec![Value::Int(3)])]);
}

/// An event larger than the protocol's 16 MB packets arrives whole.
#[tokio::test]
async fn a_row_of_20_mb_arrives_whole() {
    let (db, tables) = database(
        "binlog_big_row",
        "CREATE TABLE t (id INT PRIMARY KEY, data LONGBLOB)",
    )
    .await;
    let from = position(&db).await;
    let mut stream = stream(&db, &tables, from).await;
    execute(
        &db,
        "INSERT INTO t VALUES (1, CONCAT(REPEAT('x', 20971520), x'00ff'))",
    );
    let txns = transactions(&mut stream, 1).await;
    let ChangeOp::Insert { after } = &txns[0].changes[0].op else {
        panic!("expected an insert");
    };
    let Value::Bytes(data) = &after[1] else {
        panic!("expected bytes, got a {:?}", after[1].is_null());
    };
    assert_eq!(data.len(), 20_971_522);
    assert!(data[..20_971_520].iter().all(|&b| b == b'x'));
    assert_eq!(data[20_971_520..], [0x00, 0xff]);
}

/// A stream started from a commit's position yields exactly the transactions after
/// it, whether it resumes by GTID or by file and offset.
#[tokio::test]
async fn resuming_from_a_commit_yields_exactly_what_follows() {
    let (db, tables) = database("binlog_resume", "CREATE TABLE t (id INT PRIMARY KEY)").await;
    let from = position(&db).await;
    assert!(
        !from.gtid_state.is_empty(),
        "MariaDB reports its GTID state"
    );
    let mut first = stream(&db, &tables, from).await;
    execute(
        &db,
        "INSERT INTO t VALUES (1); INSERT INTO t VALUES (2); INSERT INTO t VALUES (3)",
    );
    let txns = transactions(&mut first, 3).await;
    let resume = txns[0].position.clone();
    assert!(txns[1].position > resume && txns[2].position > txns[1].position);

    let by_file = BinlogPosition {
        gtid_state: vec![],
        ..resume.clone()
    };
    for (how, from) in [("GTID", resume.clone()), ("file and offset", by_file)] {
        let mut resumed = stream(&db, &tables, from).await;
        let again = transactions(&mut resumed, 2).await;
        assert_eq!(
            ops(&again[0]),
            [&insert(vec![Value::Int(2)])],
            "resuming by {how}"
        );
        assert_eq!(
            ops(&again[1]),
            [&insert(vec![Value::Int(3)])],
            "resuming by {how}"
        );
        for (resumed, original) in again.iter().zip(&txns[1..]) {
            assert_eq!(
                resumed.position, original.position,
                "resuming by {how} reports the same positions, GTID state included"
            );
        }
        resumed.close().await.unwrap();
    }
}

#[tokio::test]
async fn an_idle_stream_still_reports_its_position() {
    let (db, tables) = database("binlog_idle", "CREATE TABLE t (id INT PRIMARY KEY)").await;
    let from = position(&db).await;
    let opts =
        mysql_async::Opts::from_url(&dbsync_testkit::mariadb().replication_url(&db)).unwrap();
    let config = BinlogConfig {
        heartbeat: Duration::from_millis(500),
        ..BinlogConfig::new(server_id())
    };
    let mut stream = BinlogStream::start(opts, config, tables, from.clone())
        .await
        .unwrap();
    let item = tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .expect("a heartbeat (or another test's commit) within ten seconds")
        .unwrap();
    let StreamItem::Commit {
        position: Position::Binlog(position),
        commit_time,
    } = item
    else {
        panic!("expected a commit without changes, got {item:?}");
    };
    assert!(position >= from, "{position} is before {from}");
    assert!(Utc::now() - commit_time < chrono::Duration::seconds(60));
}

#[tokio::test]
async fn a_lost_connection_is_a_connection_error() {
    let (db, tables) = database("binlog_cut", "CREATE TABLE t (id INT PRIMARY KEY)").await;
    let from = position(&db).await;
    let proxy = Proxy::start(dbsync_testkit::mariadb().port()).unwrap();
    let mut stream = stream_on_port(proxy.port(), &db, &tables, from).await;
    execute(&db, "INSERT INTO t VALUES (1)");
    transactions(&mut stream, 1).await;
    assert!(proxy.cut() >= 1, "the stream went through the proxy");
    let error = first_error(&mut stream).await;
    assert_eq!(error.kind(), ErrorKind::Connection, "{error}");
}

/// The rate of the whole path, server to `Change`s, for sysbench's row:
/// `cargo test -p dbsync-mysql --release --test it stream_rate -- --ignored --nocapture`.
#[tokio::test]
#[ignore = "a measurement, not a test: run it in release"]
async fn stream_rate() {
    const ROWS: usize = 500_000;
    let (db, tables) = database(
        "binlog_rate",
        "CREATE TABLE sbtest1 (id INT PRIMARY KEY, k INT NOT NULL, c CHAR(120) NOT NULL, pad CHAR(60) NOT NULL)",
    )
    .await;
    let from = position(&db).await;
    execute(
        &db,
        &format!(
            "INSERT INTO sbtest1 SELECT seq, seq % 5000,
                 REPEAT(CONCAT(LPAD(seq, 11, '0'), '-'), 10), REPEAT(CONCAT(LPAD(seq * 7, 11, '0'), '-'), 5)
             FROM seq_1_to_{ROWS}"
        ),
    );
    let mut stream = stream(&db, &tables, from).await;
    let started = std::time::Instant::now();
    let txns = transactions(&mut stream, 1).await;
    let elapsed = started.elapsed();
    assert_eq!(txns[0].changes.len(), ROWS);
    println!(
        "streamed {ROWS} sysbench rows in {} items at {:.2} M rows/s",
        txns[0].items,
        ROWS as f64 / elapsed.as_secs_f64() / 1e6
    );
}

/// A connection that goes silent (here, a proxy that holds every packet) is
/// reported lost after four heartbeat periods, even to a caller that keeps dropping
/// `next` on a shorter timeout of its own.
#[tokio::test]
async fn a_silent_connection_is_a_connection_error() {
    let (db, tables) = database("binlog_silent", "CREATE TABLE t (id INT PRIMARY KEY)").await;
    let from = position(&db).await;
    let proxy = Proxy::start(dbsync_testkit::mariadb().port()).unwrap();
    let url = dbsync_testkit::mariadb().replication_url(&db).replace(
        &format!(":{}/", dbsync_testkit::mariadb().port()),
        &format!(":{}/", proxy.port()),
    );
    let config = BinlogConfig {
        heartbeat: Duration::from_millis(250),
        ..BinlogConfig::new(server_id())
    };
    let opts = mysql_async::Opts::from_url(&url).unwrap();
    let mut stream = BinlogStream::start(opts, config, tables, from)
        .await
        .unwrap();
    tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .expect("a heartbeat while the proxy passes traffic")
        .unwrap();

    proxy.set_delay(Duration::from_secs(30));
    let held = std::time::Instant::now();
    let error = loop {
        assert!(
            held.elapsed() < Duration::from_secs(10),
            "no error ten seconds into the silence"
        );
        match tokio::time::timeout(Duration::from_millis(100), stream.next()).await {
            Err(_) | Ok(Ok(_)) => continue,
            Ok(Err(error)) => break error,
        }
    };
    assert_eq!(error.kind(), ErrorKind::Connection, "{error}");
    assert!(
        error
            .to_string()
            .contains("neither an event nor a heartbeat"),
        "{error}"
    );
    proxy.cut();
}

/// The first error the stream returns, skipping its items.
async fn first_error(stream: &mut BinlogStream) -> dbsync_core::Error {
    tokio::time::timeout(PATIENCE, async {
        loop {
            if let Err(error) = stream.next().await {
                return error;
            }
        }
    })
    .await
    .unwrap()
}
