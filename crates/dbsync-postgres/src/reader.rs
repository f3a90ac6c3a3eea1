//! Reading a target table back as the source's values, whole or by key range, to
//! compare the two.

use std::collections::HashMap;
use std::ops::Bound;

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use dbsync_core::verify::{DatabaseHash, Key, KeyRange, RangeSummary, VerifyTable};
use dbsync_core::{
    BitString, Column, DataType, Error, ErrorKind, Result, Row, TableName, TableSchema, Time, Uuid,
    Value,
};
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, SimpleQueryMessage};

use crate::error::driver_error;
use crate::param::Param;
use crate::source::query_rows;
use crate::sql::quote;
use crate::target_table::TargetTable;
use crate::target_type::PgType;

/// Every row of `target`, in key order, as values of the `source` table's columns: the
/// inverse of the type mapping, so that a faithful copy reads back equal to the source
/// (but for what the mapping documents as changed: JSON is normalized by `jsonb`, and
/// a zero date reads back as NULL).
pub async fn read_as_source(
    client: &Client,
    target: &TargetTable,
    source: &TableSchema,
) -> Result<Vec<Row>> {
    let columns = select_expressions(target, source);
    // Ordered by the table's columns, not by the text of the output columns that
    // share their names.
    let key: Vec<String> = target
        .primary_key
        .iter()
        .map(|k| format!("t.{}", quote(k)))
        .collect();
    let query = format!(
        "SELECT {} FROM {} t ORDER BY {}",
        columns.join(", "),
        target.qualified_name(),
        key.join(", ")
    );
    let messages = client
        .simple_query(&format!("SET TIME ZONE 'UTC'; {query}"))
        .await
        .map_err(|e| driver_error(&format!("reading {}", target.qualified_name()), e))?;
    let mut rows = Vec::new();
    for message in messages {
        let SimpleQueryMessage::Row(row) = message else {
            continue;
        };
        let fields = (0..source.columns.len()).map(|i| row.get(i));
        let values = values_from_text(&source.columns, fields)
            .map_err(|e| e.with_table(source.name.clone()))?;
        rows.push(values);
    }
    Ok(rows)
}

/// The `WHERE` of the rows of `range` on the key columns `key` (SQL), and its
/// parameters.
pub(crate) fn range_filter<'r>(key: &[String], range: &'r KeyRange) -> (String, Vec<Param<'r>>) {
    let mut filters = Vec::new();
    let mut params = Vec::new();
    let mut bound = |op: &str, values: &'r [Value]| {
        let marks: Vec<String> = (1..=values.len())
            .map(|i| format!("${}", params.len() + i))
            .collect();
        filters.push(format!(
            "({}) {op} ({})",
            key[..values.len()].join(", "),
            marks.join(", ")
        ));
        params.extend(values.iter().map(Param));
    };
    match &range.start {
        Bound::Included(start) => bound(">=", start),
        Bound::Excluded(start) => bound(">", start),
        Bound::Unbounded => {}
    }
    if let Some(end) = &range.end {
        bound("<", end);
    }
    let filter = if filters.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", filters.join(" AND "))
    };
    (filter, params)
}

/// The target tables of a pair in a PostgreSQL database, read back as their source
/// tables' values.
#[derive(Debug)]
pub struct TargetReader {
    client: Client,
    tables: HashMap<TableName, TargetTable>,
}

impl TargetReader {
    /// Reads on `client`, a connection from [`crate::session::connect`], the
    /// `tables`, each the target planned for a source table.
    pub fn new(client: Client, tables: impl IntoIterator<Item = (TableName, TargetTable)>) -> Self {
        TargetReader {
            client,
            tables: tables.into_iter().collect(),
        }
    }
}

dbsync_core::verify_side_by!(TargetReader, table_on_client);

impl TargetReader {
    fn table_on_client<'a>(&'a self, table: &'a VerifyTable) -> Result<TableOnClient<'a>> {
        let target = table.target_in(&self.tables)?;
        Ok(TableOnClient {
            client: &self.client,
            qualified_name: target.qualified_name(),
            columns: target.columns.iter().map(|c| c.name.as_str()).collect(),
            selects: select_expressions(target, &table.schema),
            key: &target.primary_key,
        })
    }
}

/// A table as verify reads it on one connection, source or target.
///
/// Where both sides of a verify are PostgreSQL tables of the same column types, they
/// summarize key ranges in SQL ([`TableOnClient::database_hash`]), so that only a row
/// count and a sum cross the network.
#[derive(Debug)]
pub(crate) struct TableOnClient<'a> {
    pub(crate) client: &'a Client,
    pub(crate) qualified_name: String,
    /// In the source table's column order.
    pub(crate) columns: Vec<&'a str>,
    /// Each column as text that parses back as its source column's values.
    pub(crate) selects: Vec<String>,
    pub(crate) key: &'a [String],
}

impl TableOnClient<'_> {
    fn quoted_key(&self) -> Vec<String> {
        self.key.iter().map(|k| format!("t.{}", quote(k))).collect()
    }

    fn error(source: &TableSchema, doing: &str, e: tokio_postgres::Error) -> Error {
        driver_error(&format!("{doing} {}", source.name), e).with_table(source.name.clone())
    }

    /// At most `limit` rows of `range`, in key order, as values of `source`'s columns.
    pub(crate) async fn read_range(
        &self,
        source: &TableSchema,
        range: &KeyRange,
        limit: usize,
    ) -> Result<Vec<Row>> {
        // Ordered by the table's columns, not by the text of the output columns that
        // share their names.
        let key = self.quoted_key();
        let (filter, params) = range_filter(&key, range);
        let query = format!(
            "SELECT {} FROM {} t {filter} ORDER BY {} LIMIT {limit}",
            self.selects.join(", "),
            self.qualified_name,
            key.join(", ")
        );
        query_rows(self.client, source, &source.columns, &query, &params).await
    }

    /// The hash this table's rows have in SQL ([`TableOnClient::row_hash`]), named
    /// by the server's major version, the session settings that shape values' text
    /// and the columns' stored types.
    pub(crate) async fn database_hash(&self, source: &TableSchema) -> Result<Option<DatabaseHash>> {
        let settings = self
            .client
            .query_one(
                "SELECT concat_ws(' ', current_setting('server_version_num')::int / 10000, \
                 current_setting('TimeZone'), current_setting('DateStyle'), \
                 current_setting('IntervalStyle'), current_setting('extra_float_digits'), \
                 current_setting('bytea_output'), current_setting('server_encoding'))",
                &[],
            )
            .await
            .map_err(|e| Self::error(source, "reading the session settings for", e))?;
        let types = self
            .client
            .query(
                "SELECT attname::text, format_type(atttypid, atttypmod) FROM pg_attribute \
                 WHERE attrelid = $1::text::regclass AND attnum > 0 AND NOT attisdropped",
                &[&self.qualified_name],
            )
            .await
            .map_err(|e| Self::error(source, "reading the column types of", e))?;
        let mut name = format!("postgresql {}", settings.get::<_, String>(0));
        for column in &self.columns {
            let Some(stored) = types.iter().find(|row| row.get::<_, &str>(0) == *column) else {
                return Ok(None);
            };
            name.push_str("; ");
            name.push_str(stored.get(1));
        }
        Ok(Some(DatabaseHash::new(name)))
    }

    /// A row's hash in SQL: 64 bits of the MD5 of the row's text as a record, which
    /// quotes a value holding a separator and tells NULL (nothing) from the empty
    /// string (`""`).
    fn row_hash(&self) -> String {
        let columns: Vec<String> = self
            .columns
            .iter()
            .map(|c| format!("t.{}", quote(c)))
            .collect();
        format!(
            "('x' || left(md5(ROW({})::text), 16))::bit(64)::bigint",
            columns.join(", ")
        )
    }

    /// The row count and the sum of the [`TableOnClient::row_hash`]es of `range`.
    pub(crate) async fn summarize(
        &self,
        source: &TableSchema,
        range: &KeyRange,
    ) -> Result<RangeSummary> {
        let (filter, params) = range_filter(&self.quoted_key(), range);
        let query = format!(
            "SELECT count(*), coalesce(sum({}), 0)::text FROM {} t {filter}",
            self.row_hash(),
            self.qualified_name
        );
        let params: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as _).collect();
        let row = self
            .client
            .query_one(&query, &params)
            .await
            .map_err(|e| Self::error(source, "summarizing a key range of", e))?;
        let sum: &str = row.get(1);
        let sum: i128 = sum.parse().map_err(|_| {
            Error::new(
                ErrorKind::InvalidData,
                format!("summed its row hashes to `{sum}`, which is not a whole number"),
            )
            .with_table(source.name.clone())
        })?;
        Ok(RangeSummary {
            rows: u64::try_from(row.get::<_, i64>(0)).unwrap_or_default(),
            // Two's complement: the sum modulo 2^128, as the other side's.
            hash: sum as u128,
        })
    }

    /// The key of the row `offset` rows into `range`, which the server finds without
    /// sending the rows before it.
    pub(crate) async fn key_at(
        &self,
        table: &VerifyTable,
        range: &KeyRange,
        offset: usize,
    ) -> Result<Option<Key>> {
        let source = &table.schema;
        let key = self.quoted_key();
        let (filter, params) = range_filter(&key, range);
        let selects: Vec<&str> = table
            .key_columns()
            .iter()
            .map(|&i| self.selects[i].as_str())
            .collect();
        let query = format!(
            "SELECT {} FROM {} t {filter} ORDER BY {} LIMIT 1 OFFSET {offset}",
            selects.join(", "),
            self.qualified_name,
            key.join(", ")
        );
        let columns: Vec<Column> = table
            .key_columns()
            .iter()
            .map(|&i| source.columns[i].clone())
            .collect();
        Ok(query_rows(self.client, source, &columns, &query, &params)
            .await?
            .pop())
    }
}

/// Each column of `target` as text that parses back as its `source` column's values.
fn select_expressions(target: &TargetTable, source: &TableSchema) -> Vec<String> {
    target
        .columns
        .iter()
        .zip(&source.columns)
        .map(|(t, s)| select_expression(&quote(&t.name), &t.pg_type, s))
        .collect()
}

/// The column as text that parses back exactly.
fn select_expression(column: &str, pg_type: &PgType, source: &Column) -> String {
    let form = match (pg_type, &source.data_type) {
        (PgType::Bytea, _) => TextForm::Hex,
        (PgType::Interval { .. }, _) => TextForm::Micros,
        (PgType::TextArray, _) => TextForm::JsonArray,
        _ => TextForm::Plain,
    };
    form.select(column)
}

/// How a column is selected as text that [`values_from_text`] reads back exactly.
#[derive(Debug, Clone, Copy)]
pub(crate) enum TextForm {
    /// The type's own text.
    Plain,
    /// Bytes in hexadecimal.
    Hex,
    /// A time or an interval in microseconds.
    Micros,
    /// An array as a JSON array.
    JsonArray,
}

impl TextForm {
    /// `column` (SQL) as text.
    pub(crate) fn select(self, column: &str) -> String {
        match self {
            TextForm::Plain => format!("{column}::text"),
            TextForm::Hex => format!("encode({column}, 'hex')"),
            TextForm::Micros => format!("(extract(epoch FROM {column}) * 1000000)::bigint::text"),
            TextForm::JsonArray => format!("array_to_json({column})::text"),
        }
    }
}

/// The values of a row selected in [`TextForm`]s, one text field (`None` for NULL) per
/// column of `columns`.
pub(crate) fn values_from_text<'t>(
    columns: &[Column],
    fields: impl IntoIterator<Item = Option<&'t str>>,
) -> Result<Row> {
    columns
        .iter()
        .zip(fields)
        .map(|(column, field)| field.map_or(Ok(Value::Null), |text| parse(column, text)))
        .collect()
}

/// The values of a row of a query that selects `columns` in [`TextForm`]s.
pub(crate) fn values_from_query(columns: &[Column], row: &tokio_postgres::Row) -> Result<Row> {
    let fields = (0..columns.len())
        .map(|i| row.try_get::<_, Option<&str>>(i))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            Error::new(
                ErrorKind::InvalidData,
                "a query that selects text returned another type",
            )
            .with_source(e)
        })?;
    values_from_text(columns, fields)
}

fn parse(column: &Column, text: &str) -> Result<Value> {
    let invalid = || {
        Error::new(
            ErrorKind::InvalidData,
            format!(
                "column `{}` holds `{text}`, which is not a {}",
                column.name, column.data_type
            ),
        )
    };
    let hex = || -> Result<Vec<u8>> {
        (0..text.len())
            .step_by(2)
            .map(|i| {
                text.get(i..i + 2)
                    .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                    .ok_or_else(invalid)
            })
            .collect()
    };
    Ok(match &column.data_type {
        // `boolean::text` says `true`; the output function alone says `t`.
        DataType::Bool => Value::Bool(match text {
            "t" | "true" => true,
            "f" | "false" => false,
            _ => return Err(invalid()),
        }),
        DataType::Int {
            unsigned: false, ..
        } => Value::Int(text.parse().map_err(|_| invalid())?),
        DataType::Int { unsigned: true, .. } => Value::UInt(text.parse().map_err(|_| invalid())?),
        DataType::Float => Value::Float(text.parse().map_err(|_| invalid())?),
        DataType::Double => Value::Double(text.parse().map_err(|_| invalid())?),
        DataType::Decimal { .. } => Value::Decimal(text.parse().map_err(|_| invalid())?),
        DataType::Char { .. } | DataType::VarChar { .. } | DataType::Text { .. } => {
            Value::Text(text.to_owned())
        }
        DataType::Enum { .. } => Value::Enum(text.to_owned()),
        DataType::Set { .. } if text.starts_with('[') => {
            Value::Set(serde_json::from_str(text).map_err(|_| invalid())?)
        }
        DataType::Set { .. } if text.is_empty() => Value::Set(Vec::new()),
        DataType::Set { .. } => Value::Set(text.split(',').map(str::to_owned).collect()),
        DataType::Binary { .. } | DataType::VarBinary { .. } | DataType::Blob { .. } => {
            Value::Bytes(hex()?)
        }
        DataType::Geometry { .. } => {
            Value::Geometry(crate::copy_format::from_ewkb(hex()?).ok_or_else(invalid)?)
        }
        DataType::Date => {
            Value::Date(NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| invalid())?)
        }
        DataType::DateTime { .. } => Value::DateTime(
            NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f").map_err(|_| invalid())?,
        ),
        DataType::Timestamp { .. } => Value::Timestamp(
            DateTime::parse_from_str(&format!("{text}00"), "%Y-%m-%d %H:%M:%S%.f%z")
                .map_err(|_| invalid())?
                .to_utc(),
        ),
        DataType::Time { .. } => {
            Value::Time(Time::from_micros(text.parse().map_err(|_| invalid())?))
        }
        DataType::Year => Value::Year(text.parse().map_err(|_| invalid())?),
        DataType::Json => Value::Json(text.to_owned()),
        DataType::Bit { length } => {
            let bits: Vec<bool> = text.chars().map(|c| c == '1').collect();
            if bits.len() != *length as usize {
                return Err(invalid());
            }
            let mut bytes = vec![0u8; bits.len().div_ceil(8)];
            for (i, bit) in bits.iter().enumerate() {
                if *bit {
                    bytes[i / 8] |= 0x80 >> (i % 8);
                }
            }
            Value::Bit(BitString::from_bytes(bytes, bits.len()))
        }
        DataType::Uuid => {
            let hex: String = text.chars().filter(|c| *c != '-').collect();
            let mut bytes = [0u8; 16];
            for (i, byte) in bytes.iter_mut().enumerate() {
                *byte = hex
                    .get(2 * i..2 * i + 2)
                    .and_then(|p| u8::from_str_radix(p, 16).ok())
                    .ok_or_else(invalid)?;
            }
            Value::Uuid(Uuid(bytes))
        }
        DataType::Unsupported { .. } => return Err(invalid()),
    })
}
