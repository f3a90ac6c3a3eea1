//! Reading a target table back as the source's values, whole or by key range, to
//! compare the two.

use std::collections::HashMap;
use std::ops::Bound;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use dbsync_core::verify::{KeyRange, VerifySide, VerifyTable};
use dbsync_core::{
    BitString, Column, DataType, Error, ErrorKind, Result, Row, TableName, TableSchema, Uuid, Value,
};
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OpenFlags, params_from_iter};

use crate::error::driver_error;
use crate::sql::quote;
use crate::target_table::TargetTable;
use crate::target_type::{
    DATE, MappingOptions, SqliteType, parse_date_time, parse_geopackage_blob, parse_time,
};

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
    let query = Query {
        filter: String::new(),
        params: Vec::new(),
        limit: None,
    };
    read_blocking(path, target, source, query).await
}

/// At most `limit` rows of `range` of `target`, in key order, as values of the
/// `source` table's columns (see [`read_as_source`]); the range's bounds are stored
/// as the target stores keys, by `options`.
pub async fn read_range_as_source(
    path: &Path,
    target: &TargetTable,
    source: &TableSchema,
    range: &KeyRange,
    limit: usize,
    options: MappingOptions,
) -> Result<Vec<Row>> {
    let key = format!("({})", target.key_columns().join(", "));
    let types = target.key_types();
    let mut filters = Vec::new();
    let mut params = Vec::new();
    let mut bound = |op: &str, values: &[Value]| -> Result<()> {
        let marks = vec!["?"; values.len()].join(", ");
        filters.push(format!("{key} {op} ({marks})"));
        for (value, sqlite_type) in values.iter().zip(&types) {
            params.push(sqlite_type.store(value, options)?);
        }
        Ok(())
    };
    match &range.start {
        Bound::Included(start) => bound(">=", start)?,
        Bound::Excluded(start) => bound(">", start)?,
        Bound::Unbounded => {}
    }
    if let Some(end) = &range.end {
        bound("<", end)?;
    }
    let filter = if filters.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", filters.join(" AND "))
    };
    let query = Query {
        filter,
        params,
        limit: Some(limit),
    };
    read_blocking(path, target, source, query).await
}

/// What to read of a table besides its columns.
#[derive(Debug)]
struct Query {
    filter: String,
    params: Vec<SqlValue>,
    limit: Option<usize>,
}

async fn read_blocking(
    path: &Path,
    target: &TargetTable,
    source: &TableSchema,
    query: Query,
) -> Result<Vec<Row>> {
    let (path, target, source) = (path.to_owned(), target.clone(), source.clone());
    tokio::task::spawn_blocking(move || read(&path, &target, &source, query))
        .await
        .map_err(|e| {
            Error::new(
                ErrorKind::Io,
                format!("reading the SQLite target failed: {e}"),
            )
        })?
}

fn read(path: &Path, target: &TargetTable, source: &TableSchema, query: Query) -> Result<Vec<Row>> {
    let doing = format!("reading {} from {}", target.quoted_name(), path.display());
    let connection = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| driver_error(&doing, e))?;
    let columns: Vec<String> = target.columns.iter().map(|c| quote(&c.name)).collect();
    let limit = query.limit.map_or(String::new(), |n| format!("LIMIT {n}"));
    let sql = format!(
        "SELECT {} FROM {} {} ORDER BY {} {limit}",
        columns.join(", "),
        target.quoted_name(),
        query.filter,
        target.key_columns().join(", ")
    );
    let stored: Vec<Vec<SqlValue>> = connection
        .prepare(&sql)
        .and_then(|mut statement| {
            statement
                .query_map(params_from_iter(&query.params), |row| {
                    (0..columns.len()).map(|i| row.get(i)).collect()
                })?
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

/// The target tables of a pair in a SQLite file, read back as their source tables'
/// values.
#[derive(Debug)]
pub struct TargetReader {
    path: PathBuf,
    options: MappingOptions,
    tables: HashMap<TableName, TargetTable>,
}

impl TargetReader {
    /// Reads in the file at `path` the `tables`, each the target planned for a source
    /// table with `options`.
    pub fn new(
        path: &Path,
        options: MappingOptions,
        tables: impl IntoIterator<Item = (TableName, TargetTable)>,
    ) -> Self {
        TargetReader {
            path: path.to_owned(),
            options,
            tables: tables.into_iter().collect(),
        }
    }
}

impl VerifySide for TargetReader {
    async fn read_range(
        &mut self,
        table: &VerifyTable,
        range: &KeyRange,
        limit: usize,
    ) -> Result<Vec<Row>> {
        let source = &table.schema;
        let target = table.target_in(&self.tables)?;
        read_range_as_source(&self.path, target, source, range, limit, self.options).await
    }
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
