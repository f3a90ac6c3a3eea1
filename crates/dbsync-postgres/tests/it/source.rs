//! PostgreSQL as a copy source: every type family read exactly, in key-ordered chunks.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime};
use dbsync_core::pipeline::Source;
use dbsync_core::{BitString, Decimal, Row, TableSchema, Time, Uuid, Value};
use dbsync_postgres::source::PgSource;

/// A connected source and the schema of `table` in `public`.
pub(crate) async fn source_and_table(database: &str, table: &str) -> (PgSource, Arc<TableSchema>) {
    let config = dbsync_testkit::postgres().url(database).parse().unwrap();
    let source = PgSource::connect(&config).await.unwrap();
    let tables = dbsync_postgres::schema::read_tables(source.client(), "public")
        .await
        .unwrap();
    let table = tables.into_iter().find(|t| t.name.name == table).unwrap();
    (source, Arc::new(table))
}

/// Every row of `table`, chunk by chunk.
pub(crate) async fn read_all(
    source: &mut PgSource,
    table: &Arc<TableSchema>,
    limit: usize,
) -> Vec<Row> {
    let key: Vec<usize> = table
        .primary_key
        .iter()
        .map(|k| table.columns.iter().position(|c| &c.name == k).unwrap())
        .collect();
    let mut rows: Vec<Row> = Vec::new();
    loop {
        let after: Option<Vec<Value>> = rows
            .last()
            .map(|row| key.iter().map(|&i| row[i].clone()).collect());
        let chunk = source
            .read_chunk(table, after.as_deref(), limit)
            .await
            .unwrap();
        let done = chunk.len() < limit;
        rows.extend(chunk);
        if done {
            return rows;
        }
    }
}

fn decimal(text: &str) -> Value {
    Value::Decimal(text.parse::<Decimal>().unwrap())
}

fn date_time(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f").unwrap()
}

fn time(text: &str) -> Value {
    let t = NaiveTime::parse_from_str(text, "%H:%M:%S%.f").unwrap();
    let micros =
        i64::from(t.num_seconds_from_midnight()) * 1_000_000 + i64::from(t.nanosecond() / 1000);
    Value::Time(Time::from_micros(micros))
}

use chrono::Timelike;

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

#[tokio::test]
async fn every_type_family_reads_back_exactly() {
    let postgres = dbsync_testkit::postgres();
    let database = postgres.create_database("pg_source").unwrap();
    postgres
        .execute(
            &database,
            r#"
            CREATE TYPE mood AS ENUM ('sad', 'it''s ok', 'happy 😀');
            CREATE TABLE every_type (
                id bigint PRIMARY KEY,
                flag boolean,
                i16 smallint,
                i32 integer,
                i64 bigint,
                f real,
                d double precision,
                wide numeric(65,30),
                any_numeric numeric,
                fixed char(3),
                bounded varchar(500),
                unbounded varchar,
                body text,
                raw bytea,
                day date,
                tod time(6),
                at timestamp(6),
                ts timestamptz(6),
                doc json,
                docb jsonb,
                uid uuid,
                bits bit(12),
                feeling mood
            );
            INSERT INTO every_type VALUES
              (1, true, -32768, -2147483648, -9223372036854775808, 3.4028235e38,
               -2.2250738585072014e-308, '-12345678901234567890123456789012345.123456789012345678901234567890',
               '0.000000000000000000000000000000000000001', 'ab', 'it''s é 😀', 'x',
               E'two\nlines\tand a tab', '\x00ff10', '0001-01-01', '00:00:00',
               '1970-01-01 00:00:00', '2024-02-29 12:34:56.789012+05',
               '{"b": 1, "a": [true, null]}', '{"b": 1, "a": [true, null]}',
               'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', B'101000000001', 'it''s ok'),
              (2, false, 32767, 2147483647, 9223372036854775807, 0.1, 0.1,
               '1.5', '12345678901234567890.5', 'abc', '', '', '', '', '9999-12-31',
               '23:59:59.999999', '9999-12-31 23:59:59.999999', '1900-01-01 00:00:00+00',
               '[]', '{}', '00000000-0000-0000-0000-000000000000', B'000000000000',
               'happy 😀'),
              (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
               NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
            "#,
        )
        .unwrap();
    let (mut source, table) = source_and_table(&database, "every_type").await;
    // Two rows a chunk: the second chunk starts after a key from the first.
    let rows = read_all(&mut source, &table, 2).await;
    let bits = |text: &str| {
        let mut bytes = vec![0u8; 2];
        for (i, c) in text.chars().enumerate() {
            if c == '1' {
                bytes[i / 8] |= 0x80 >> (i % 8);
            }
        }
        Value::Bit(BitString::from_bytes(bytes, text.len()))
    };
    let expected = vec![
        vec![
            Value::Int(1),
            Value::Bool(true),
            Value::Int(-32768),
            Value::Int(-2147483648),
            Value::Int(i64::MIN),
            Value::Float(3.4028235e38),
            Value::Double(-2.2250738585072014e-308),
            decimal("-12345678901234567890123456789012345.123456789012345678901234567890"),
            decimal("0.000000000000000000000000000000000000001"),
            text("ab"),
            text("it's é 😀"),
            text("x"),
            text("two\nlines\tand a tab"),
            Value::Bytes(vec![0x00, 0xff, 0x10]),
            Value::Date(NaiveDate::from_ymd_opt(1, 1, 1).unwrap()),
            time("00:00:00"),
            Value::DateTime(date_time("1970-01-01 00:00:00")),
            Value::Timestamp(
                DateTime::parse_from_rfc3339("2024-02-29T07:34:56.789012Z")
                    .unwrap()
                    .to_utc(),
            ),
            Value::Json(r#"{"b": 1, "a": [true, null]}"#.into()),
            Value::Json(r#"{"a": [true, null], "b": 1}"#.into()),
            Value::Uuid(Uuid([
                0xa0, 0xee, 0xbc, 0x99, 0x9c, 0x0b, 0x4e, 0xf8, 0xbb, 0x6d, 0x6b, 0xb9, 0xbd, 0x38,
                0x0a, 0x11,
            ])),
            bits("101000000001"),
            Value::Enum("it's ok".into()),
        ],
        vec![
            Value::Int(2),
            Value::Bool(false),
            Value::Int(32767),
            Value::Int(2147483647),
            Value::Int(i64::MAX),
            Value::Float(0.1),
            Value::Double(0.1),
            decimal("1.500000000000000000000000000000"),
            decimal("12345678901234567890.5"),
            text("abc"),
            text(""),
            text(""),
            text(""),
            Value::Bytes(vec![]),
            Value::Date(NaiveDate::from_ymd_opt(9999, 12, 31).unwrap()),
            time("23:59:59.999999"),
            Value::DateTime(date_time("9999-12-31 23:59:59.999999")),
            Value::Timestamp(
                DateTime::parse_from_rfc3339("1900-01-01T00:00:00Z")
                    .unwrap()
                    .to_utc(),
            ),
            Value::Json("[]".into()),
            Value::Json("{}".into()),
            Value::Uuid(Uuid([0; 16])),
            bits("000000000000"),
            Value::Enum("happy 😀".into()),
        ],
        std::iter::once(Value::Int(3))
            .chain(std::iter::repeat_n(Value::Null, 22))
            .collect(),
    ];
    assert_eq!(rows.len(), expected.len());
    for (row, expected) in rows.iter().zip(&expected) {
        for ((value, expected), column) in row.iter().zip(expected).zip(&table.columns) {
            assert_eq!(value, expected, "column {}", column.name);
        }
    }
    assert_eq!(
        source.estimated_rows(&table).await.unwrap(),
        None,
        "a table never analyzed has no estimate"
    );
    postgres.execute(&database, "ANALYZE every_type").unwrap();
    assert_eq!(source.estimated_rows(&table).await.unwrap(), Some(3));
}

#[tokio::test]
async fn chunks_cover_a_composite_key_exactly_once() {
    let postgres = dbsync_testkit::postgres();
    let database = postgres.create_database("pg_source_chinook").unwrap();
    postgres
        .load(&database, dbsync_testkit::Dataset::ChinookPostgres)
        .unwrap();
    let (mut source, table) = source_and_table(&database, "playlist_track").await;
    let rows = read_all(&mut source, &table, 1000).await;
    let keys: Vec<(i64, i64)> = rows
        .iter()
        .map(|row| match (&row[0], &row[1]) {
            (Value::Int(a), Value::Int(b)) => (*a, *b),
            other => panic!("{other:?}"),
        })
        .collect();
    assert!(
        keys.windows(2).all(|pair| pair[0] < pair[1]),
        "keys only increase"
    );
    assert_eq!(rows.len(), 8715);
}
