//! Reading a target table back as the source's values, to compare the two.

use std::path::Path;

use chrono::NaiveDate;
use dbsync_core::{
    BitString, Column, DataType, Error, ErrorKind, Result, Row, TableSchema, Uuid, Value,
};
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OpenFlags};

use crate::error::driver_error;
use crate::sql::quote;
use crate::target_table::TargetTable;
use crate::target_type::{DATE, SqliteType, parse_date_time, parse_geopackage_blob, parse_time};

/// Every row of `target` in the file at `path`, in key order, as values of the
/// `source` table's columns: the inverse of the type mapping, so that a faithful copy
/// reads back equal to the source (but for a zero date, which reads back as NULL).
///
/// Key order is SQLite's: numbers by value, text by its bytes.
pub async fn read_as_source(
    path: &Path,
    target: &TargetTable,
    source: &TableSchema,
) -> Result<Vec<Row>> {
    let (path, target, source) = (path.to_owned(), target.clone(), source.clone());
    tokio::task::spawn_blocking(move || read(&path, &target, &source))
        .await
        .map_err(|e| {
            Error::new(
                ErrorKind::Io,
                format!("reading the SQLite target failed: {e}"),
            )
        })?
}

fn read(path: &Path, target: &TargetTable, source: &TableSchema) -> Result<Vec<Row>> {
    let doing = format!("reading {} from {}", target.quoted_name(), path.display());
    let connection = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| driver_error(&doing, e))?;
    let columns: Vec<String> = target.columns.iter().map(|c| quote(&c.name)).collect();
    let query = format!(
        "SELECT {} FROM {} ORDER BY {}",
        columns.join(", "),
        target.quoted_name(),
        target.key_columns().join(", ")
    );
    let stored: Vec<Vec<SqlValue>> = connection
        .prepare(&query)
        .and_then(|mut statement| {
            statement
                .query_map([], |row| (0..columns.len()).map(|i| row.get(i)).collect())?
                .collect()
        })
        .map_err(|e| driver_error(&doing, e))?;
    stored
        .into_iter()
        .map(|row| {
            row.into_iter()
                .zip(&target.columns)
                .zip(&source.columns)
                .map(|((value, target), column)| parse(column, target.sqlite_type, value))
                .collect::<Result<Row>>()
                .map_err(|e| e.with_table(source.name.clone()))
        })
        .collect()
}

/// The source's value for what SQLite holds in a column of `sqlite_type`.
fn parse(column: &Column, sqlite_type: SqliteType, stored: SqlValue) -> Result<Value> {
    let invalid = |stored: &SqlValue| {
        Error::new(
            ErrorKind::InvalidData,
            format!(
                "column `{}` holds {stored:?}, which is not a {} stored as {sqlite_type:?}",
                column.name, column.data_type
            ),
        )
    };
    let value = match (sqlite_type, &column.data_type, &stored) {
        (_, _, SqlValue::Null) => Some(Value::Null),
        (SqliteType::Integer, data_type, SqlValue::Integer(n)) => integer(data_type, *n),
        (SqliteType::UnsignedBigInt, data_type, stored) => {
            let n = match stored {
                SqlValue::Integer(n) => u64::try_from(*n).ok(),
                SqlValue::Blob(bytes) => <[u8; 8]>::try_from(bytes.as_slice())
                    .ok()
                    .map(u64::from_be_bytes),
                _ => None,
            };
            match (data_type, n) {
                (DataType::Bit { length }, Some(n)) => {
                    Some(Value::Bit(BitString::from_u64(n, *length as usize)))
                }
                (_, n) => n.map(Value::UInt),
            }
        }
        (SqliteType::Real, DataType::Float, SqlValue::Real(x)) => Some(Value::Float(*x as f32)),
        (SqliteType::Real, _, SqlValue::Real(x)) => Some(Value::Double(*x)),
        (SqliteType::Text, data_type, SqlValue::Text(text)) => self::text(data_type, text),
        (SqliteType::JsonArray, _, SqlValue::Text(text)) => {
            serde_json::from_str(text).ok().map(Value::Set)
        }
        (SqliteType::Date, _, SqlValue::Text(text)) => {
            NaiveDate::parse_from_str(text, DATE).ok().map(Value::Date)
        }
        (SqliteType::Time { .. }, _, SqlValue::Text(text)) => parse_time(text).map(Value::Time),
        (SqliteType::DateTime { .. }, _, SqlValue::Text(text)) => {
            parse_date_time(text).map(Value::DateTime)
        }
        (SqliteType::Timestamp { .. }, _, SqlValue::Text(text)) => {
            parse_date_time(text).map(|at| Value::Timestamp(at.and_utc()))
        }
        (SqliteType::Blob, _, SqlValue::Blob(bytes)) => Some(Value::Bytes(bytes.clone())),
        (SqliteType::Geometry, _, SqlValue::Blob(bytes)) => {
            parse_geopackage_blob(bytes).map(Value::Geometry)
        }
        _ => None,
    };
    value.ok_or_else(|| invalid(&stored))
}

fn integer(data_type: &DataType, n: i64) -> Option<Value> {
    Some(match data_type {
        DataType::Bool => Value::Bool(n != 0),
        DataType::Int { unsigned: true, .. } => Value::UInt(u64::try_from(n).ok()?),
        DataType::Int { .. } => Value::Int(n),
        DataType::Year => Value::Year(u16::try_from(n).ok()?),
        DataType::Decimal { .. } => Value::Decimal(n.into()),
        _ => return None,
    })
}

fn text(data_type: &DataType, text: &str) -> Option<Value> {
    Some(match data_type {
        DataType::Char { .. } | DataType::VarChar { .. } | DataType::Text { .. } => {
            Value::Text(text.to_owned())
        }
        DataType::Enum { .. } => Value::Enum(text.to_owned()),
        DataType::Json => Value::Json(text.to_owned()),
        DataType::Decimal { .. } => Value::Decimal(text.parse().ok()?),
        DataType::Set { .. } if text.is_empty() => Value::Set(Vec::new()),
        DataType::Set { .. } => Value::Set(text.split(',').map(str::to_owned).collect()),
        DataType::Uuid => Value::Uuid(uuid(text)?),
        DataType::Bit { length } => {
            if text.len() != *length as usize || !text.bytes().all(|b| b == b'0' || b == b'1') {
                return None;
            }
            let mut bytes = vec![0u8; text.len().div_ceil(8)];
            for (i, bit) in text.bytes().enumerate() {
                if bit == b'1' {
                    bytes[i / 8] |= 0x80 >> (i % 8);
                }
            }
            Value::Bit(BitString::from_bytes(bytes, text.len()))
        }
        _ => return None,
    })
}

/// A UUID from its hyphenated text.
fn uuid(text: &str) -> Option<Uuid> {
    let hex: Vec<u8> = text.bytes().filter(|b| *b != b'-').collect();
    if hex.len() != 32 {
        return None;
    }
    let mut bytes = [0u8; 16];
    for (byte, pair) in bytes.iter_mut().zip(hex.chunks(2)) {
        *byte = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
    }
    Some(Uuid(bytes))
}
