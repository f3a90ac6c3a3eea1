//! The extremes of every type, written by the writer and read back by the reader:
//! what SQLite's type affinity would bend must come back exactly.

use std::sync::Arc;

use chrono::{NaiveDate, TimeZone, Utc};
use dbsync_core::pipeline::Target;
use dbsync_core::{
    BinlogPosition, BitString, Checkpoint, Column, CopyProgress, DataType, DecimalSize, ErrorKind,
    Geometry, GeometryKind, IntWidth, Position, TableName, TableSchema, Time, Uuid, Value,
};
use dbsync_sqlite::reader::read_as_source;
use dbsync_sqlite::target_type::MappingOptions;
use dbsync_sqlite::writer::Writer;

use crate::support::Scratch;

pub(crate) fn column(name: &str, data_type: DataType) -> Column {
    Column {
        name: name.into(),
        native_type: data_type.to_string(),
        data_type,
        nullable: name != "id",
        default: None,
        generated: None,
        auto_increment: false,
        on_update: None,
        collation: None,
    }
}

fn int(width: IntWidth, unsigned: bool) -> DataType {
    DataType::Int { width, unsigned }
}

fn decimal(precision: u32, scale: u32) -> DataType {
    DataType::Decimal {
        size: Some(DecimalSize { precision, scale }),
    }
}

fn every_type() -> Arc<TableSchema> {
    let labels = |labels: &[&str]| labels.iter().map(|l| (*l).to_owned()).collect();
    Arc::new(TableSchema {
        name: TableName::new("shop", "extremes"),
        columns: vec![
            column("id", int(IntWidth::I32, false)),
            column("flag", DataType::Bool),
            column("i64", int(IntWidth::I64, false)),
            column("u64", int(IntWidth::I64, true)),
            column("u32", int(IntWidth::I32, true)),
            column("f32", DataType::Float),
            column("f64", DataType::Double),
            column("dec_max", decimal(65, 30)),
            column("dec_money", decimal(10, 2)),
            column("dec_int", decimal(18, 0)),
            column("dec_big", decimal(20, 0)),
            column("text", DataType::Text { max_bytes: None }),
            column("bin4", DataType::Binary { length: 4 }),
            column("blob", DataType::Blob { max_bytes: None }),
            column("day", DataType::Date),
            column("span", DataType::Time { precision: 6 }),
            column("wall", DataType::DateTime { precision: 6 }),
            column("wall0", DataType::DateTime { precision: 0 }),
            column("instant", DataType::Timestamp { precision: 3 }),
            column("year", DataType::Year),
            column("doc", DataType::Json),
            column(
                "rating",
                DataType::Enum {
                    labels: labels(&["G", "NC-17", "🎬"]),
                },
            ),
            column(
                "features",
                DataType::Set {
                    labels: labels(&["a", "b,c", "🎬"]),
                },
            ),
            column("bit1", DataType::Bit { length: 1 }),
            column("bit64", DataType::Bit { length: 64 }),
            column("bit70", DataType::Bit { length: 70 }),
            column(
                "shape",
                DataType::Geometry {
                    kind: GeometryKind::Point,
                    srid: None,
                },
            ),
            column("uuid", DataType::Uuid),
        ],
        primary_key: vec!["id".into()],
        indexes: vec![],
    })
}

fn rows() -> Vec<Vec<Value>> {
    let d = |text: &str| Value::Decimal(text.parse().unwrap());
    let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
    let max_decimal = format!("{}.{}", "9".repeat(35), "9".repeat(30));
    let point = Geometry {
        srid: 4326,
        wkb: [
            &[1u8, 1, 0, 0, 0][..],
            &(-70.5f64).to_le_bytes(),
            &41.25f64.to_le_bytes(),
        ]
        .concat(),
    };
    let highest = vec![
        Value::Int(1),
        Value::Bool(true),
        Value::Int(i64::MAX),
        Value::UInt(u64::MAX),
        Value::UInt(u64::from(u32::MAX)),
        Value::Float(f32::MAX),
        Value::Double(f64::MAX),
        d(&max_decimal),
        d("1.10"),
        d("999999999999999999"),
        d("18446744073709551615"),
        Value::Text("emoji 🎬, NUL \0, quote ' and \"".into()),
        Value::Bytes(vec![0xff, 0, 0, 0]),
        Value::Bytes(vec![0xc3, 0x28, 0x00, 0xff, 0xfe]),
        Value::Date(day(9999, 12, 31)),
        Value::Time(Time::from_parts(false, 838, 59, 59, 0).unwrap()),
        Value::DateTime(
            day(9999, 12, 31)
                .and_hms_micro_opt(23, 59, 59, 999_999)
                .unwrap(),
        ),
        Value::DateTime(day(2024, 2, 29).and_hms_opt(12, 0, 0).unwrap()),
        Value::Timestamp(
            Utc.with_ymd_and_hms(2038, 1, 19, 3, 14, 7).unwrap()
                + chrono::Duration::milliseconds(999),
        ),
        Value::Year(2155),
        Value::Json(r#"{"b": 1.10, "a": [18446744073709551615, "🎬"]}"#.into()),
        Value::Enum("🎬".into()),
        Value::Set(vec!["a".into(), "b,c".into(), "🎬".into()]),
        Value::Bit(BitString::from_u64(1, 1)),
        Value::Bit(BitString::from_u64(u64::MAX, 64)),
        Value::Bit(BitString::from_bytes(vec![0xff; 9], 70)),
        Value::Geometry(point),
        Value::Uuid(Uuid([0xab; 16])),
    ];
    let lowest = vec![
        Value::Int(2),
        Value::Bool(false),
        Value::Int(i64::MIN),
        Value::UInt(0),
        Value::UInt(0),
        Value::Float(-f32::MIN_POSITIVE),
        Value::Double(-f64::EPSILON),
        d(&format!("-{max_decimal}")),
        d("-0.01"),
        d("-999999999999999999"),
        d("9223372036854775808"),
        Value::Text(String::new()),
        Value::Bytes(vec![0; 4]),
        Value::Bytes(Vec::new()),
        Value::Date(day(1000, 1, 1)),
        Value::Time(Time::from_parts(true, 838, 59, 59, 0).unwrap()),
        Value::DateTime(day(1000, 1, 1).and_hms_micro_opt(0, 0, 0, 1).unwrap()),
        Value::DateTime(day(1970, 1, 1).and_hms_opt(0, 0, 0).unwrap()),
        Value::Timestamp(Utc.with_ymd_and_hms(1970, 1, 1, 0, 0, 1).unwrap()),
        Value::Year(0),
        Value::Json("[]".into()),
        Value::Enum(String::new()),
        Value::Set(Vec::new()),
        Value::Bit(BitString::from_u64(0, 1)),
        Value::Bit(BitString::from_u64(1 << 63, 64)),
        Value::Bit(BitString::from_bytes(vec![0; 9], 70)),
        Value::Geometry(Geometry {
            srid: 0,
            wkb: vec![0, 0, 0, 0, 1],
        }),
        Value::Uuid(Uuid([0; 16])),
    ];
    let mut fractions = lowest.clone();
    fractions[0] = Value::Int(3);
    fractions[15] = Value::Time(Time::from_parts(true, 0, 0, 0, 1).unwrap());
    fractions[16] = Value::DateTime(
        day(2024, 6, 1)
            .and_hms_micro_opt(8, 30, 0, 120_000)
            .unwrap(),
    );
    fractions[8] = d("0.00");
    fractions[6] = Value::Double(f64::NEG_INFINITY);
    let mut nulls = vec![Value::Null; highest.len()];
    nulls[0] = Value::Int(4);
    vec![highest, lowest, fractions, nulls]
}

fn done(rows: u64) -> Checkpoint {
    Checkpoint {
        copy: CopyProgress::Done { rows },
        position: Position::Binlog(BinlogPosition {
            file: "binlog.000001".parse().unwrap(),
            offset: 4,
            gtid_state: vec![],
        }),
    }
}

#[tokio::test]
async fn every_type_round_trips_exactly() {
    let scratch = Scratch::new("extremes");
    let path = scratch.path().join("edge.db");
    let table = every_type();
    let mut writer = Writer::open(&path, "edge", MappingOptions::default())
        .await
        .unwrap();
    writer.prepare_table(&table).await.unwrap();
    let rows = rows();
    writer
        .write_chunk(&table.name, &rows, &done(rows.len() as u64))
        .await
        .unwrap();
    let target = writer.plan_table(&table).unwrap();
    let read = read_as_source(&path, &target, &table).await.unwrap();
    for (read, written) in read.iter().zip(&rows) {
        for ((read, written), column) in read.iter().zip(written).zip(&table.columns) {
            assert_eq!(read, written, "column {}", column.name);
        }
    }
    assert_eq!(read.len(), rows.len());

    // What SQLite holds is readable on its own terms too.
    let file = rusqlite::Connection::open(&path).unwrap();
    let stored: (String, String, i64, String, String) = file
        .query_row(
            "SELECT dec_money, typeof(u64), dec_int, span, instant FROM extremes WHERE id = 1",
            [],
            |row| {
                Ok((
                    row.get(0)?,
                    row.get(1)?,
                    row.get(2)?,
                    row.get(3)?,
                    row.get(4)?,
                ))
            },
        )
        .unwrap();
    assert_eq!(
        stored,
        (
            "1.10".to_owned(),
            "blob".to_owned(),
            999_999_999_999_999_999,
            "838:59:59.000000".to_owned(),
            "2038-01-19 03:14:07.999".to_owned()
        )
    );
    // Blobs holding unsigned values beyond i64 sort after every integer, in order.
    let order: Vec<i64> = file
        .prepare("SELECT id FROM extremes WHERE u64 IS NOT NULL ORDER BY u64")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(order, [2, 3, 1]);
}

#[tokio::test]
async fn values_sqlite_would_change_are_refused_naming_the_column() {
    let scratch = Scratch::new("refused");
    let path = scratch.path().join("edge.db");
    let table = Arc::new(TableSchema {
        name: TableName::new("shop", "floats"),
        columns: vec![
            column("id", int(IntWidth::I32, false)),
            column("x", DataType::Double),
            column("day", DataType::Date),
        ],
        primary_key: vec!["id".into()],
        indexes: vec![],
    });
    let options = MappingOptions::new(
        dbsync_config::ZeroDatePolicy::Error,
        dbsync_config::EnumMapping::Text,
        dbsync_config::SetMapping::Text,
    )
    .unwrap();
    let mut writer = Writer::open(&path, "edge", options).await.unwrap();
    writer.prepare_table(&table).await.unwrap();
    let nan = vec![Value::Int(1), Value::Double(f64::NAN), Value::Null];
    let nan = writer
        .write_chunk(&table.name, &[nan], &done(1))
        .await
        .unwrap_err();
    assert_eq!(nan.kind(), ErrorKind::Unsupported);
    assert!(nan.to_string().contains("column `x` holds NaN"), "{nan}");
    let zero = vec![Value::Int(1), Value::Null, Value::ZeroDate];
    let zero = writer
        .write_chunk(&table.name, &[zero], &done(1))
        .await
        .unwrap_err();
    assert!(
        zero.to_string()
            .contains("column `day` holds the zero date"),
        "{zero}"
    );
    let file = rusqlite::Connection::open(&path).unwrap();
    let count: i64 = file
        .query_row("SELECT count(*) FROM floats", [], |row| row.get(0))
        .unwrap();
    assert_eq!(count, 0);
}
