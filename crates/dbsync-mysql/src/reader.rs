//! Reading a table's rows by key range as the source table's values, for verify: a
//! source's own tables, or a target's tables planned from the source's.
//!
//! Where both sides of a verify are MySQL/MariaDB tables of the same column types,
//! they summarize key ranges in SQL ([`TableOnConn::database_hash`]), so that only a
//! row count and a sum cross the network.

use std::collections::HashMap;
use std::ops::Bound;

use dbsync_core::verify::{DatabaseHash, Key, KeyRange, RangeSummary, VerifyTable};
use dbsync_core::{DataType, Error, ErrorKind, Result, Row, TableName, TableSchema};
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Params};

use crate::error::driver_error;
use crate::protocol_value::from_wire;
use crate::snapshot::{decode_rows, expanded_key_params, key_bound};
use crate::sql::quote;
use crate::target_table::TargetTable;

/// Where a table's rows are read: `database`.`name`, with these column and key names.
#[derive(Debug, Clone)]
pub(crate) struct Place<'a> {
    pub(crate) database: &'a str,
    pub(crate) name: &'a str,
    /// In the source table's column order.
    pub(crate) columns: Vec<&'a str>,
    pub(crate) key: &'a [String],
}

/// Column types whose text in SQL does not tell every value apart (a `FLOAT`'s text
/// may round) or that have no text (spatial types): a table with one is hashed in
/// dbsync.
const UNHASHABLE_TYPES: [&str; 11] = [
    "float",
    "double",
    "geometry",
    "point",
    "linestring",
    "polygon",
    "multipoint",
    "multilinestring",
    "multipolygon",
    "geometrycollection",
    "real",
];

/// A table at its [`Place`], read on `conn`.
#[derive(Debug)]
pub(crate) struct TableOnConn<'a> {
    pub(crate) conn: &'a mut Conn,
    pub(crate) place: Place<'a>,
}

impl TableOnConn<'_> {
    fn qualified_name(&self) -> String {
        format!("{}.{}", quote(self.place.database), quote(self.place.name))
    }

    fn quoted_key(&self) -> Vec<String> {
        self.place.key.iter().map(|c| quote(c)).collect()
    }

    /// The `WHERE` clause of `range`'s rows, and its parameters.
    fn range_filter(&self, range: &KeyRange) -> Result<(String, Vec<mysql_async::Value>)> {
        let key = self.quoted_key();
        let mut filters = Vec::new();
        let mut params = Vec::new();
        let (op, bound) = match &range.start {
            Bound::Included(start) => (">=", Some(start)),
            Bound::Excluded(start) => (">", Some(start)),
            Bound::Unbounded => ("", None),
        };
        if let Some(start) = bound {
            filters.push(format!("({})", key_bound(&key, ">", op)));
            params.extend(expanded_key_params(start)?);
        }
        if let Some(end) = &range.end {
            filters.push(format!("({})", key_bound(&key, "<", "<")));
            params.extend(expanded_key_params(end)?);
        }
        let filter = if filters.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", filters.join(" AND "))
        };
        Ok((filter, params))
    }

    fn error(source: &TableSchema, doing: &str, e: mysql_async::Error) -> Error {
        driver_error(&format!("{doing} {}", source.name), e).with_table(source.name.clone())
    }

    /// At most `limit` rows of `range`, in key order, decoded as rows of `source`.
    pub(crate) async fn read_range(
        self,
        source: &TableSchema,
        range: &KeyRange,
        limit: usize,
    ) -> Result<Vec<Row>> {
        let columns: Vec<String> = self.place.columns.iter().map(|c| quote(c)).collect();
        let (filter, params) = self.range_filter(range)?;
        let query = format!(
            "SELECT {} FROM {} {filter} ORDER BY {} LIMIT {limit}",
            columns.join(", "),
            self.qualified_name(),
            self.quoted_key().join(", ")
        );
        let rows: Vec<mysql_async::Row> = self
            .conn
            .exec(&query, Params::Positional(params))
            .await
            .map_err(|e| Self::error(source, "reading a key range of", e))?;
        decode_rows(source, rows)
    }

    /// The hash this table's rows have in SQL ([`TableOnConn::row_hash`]), named by
    /// the server's flavor and version, the session's time zone and the columns'
    /// stored types and character sets; `None` when a column's type has no exact text.
    pub(crate) async fn database_hash(self, source: &TableSchema) -> Result<Option<DatabaseHash>> {
        let stored: Vec<(String, String, String, String)> = self
            .conn
            .exec(
                "SELECT COLUMN_NAME, COLUMN_TYPE, DATA_TYPE, COALESCE(CHARACTER_SET_NAME, '') \
                 FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
                (self.place.database, self.place.name),
            )
            .await
            .map_err(|e| Self::error(source, "reading the column types of", e))?;
        let server: Option<(String, String, String)> = self
            .conn
            .query_first("SELECT VERSION(), @@session.time_zone, @@system_time_zone")
            .await
            .map_err(|e| Self::error(source, "reading the server version for", e))?;
        let Some((version, time_zone, system_time_zone)) = server else {
            return Ok(None);
        };
        // Versions of one major.minor format values alike.
        let release: Vec<&str> = version.splitn(3, '.').take(2).collect();
        let flavor = if version.contains("MariaDB") {
            "mariadb"
        } else {
            "mysql"
        };
        let mut name = format!(
            "{flavor} {} time_zone {time_zone} {system_time_zone}",
            release.join(".")
        );
        for column in &self.place.columns {
            let Some((_, column_type, data_type, charset)) = stored
                .iter()
                .find(|(name, ..)| name.eq_ignore_ascii_case(column))
            else {
                return Ok(None);
            };
            if UNHASHABLE_TYPES.contains(&data_type.to_ascii_lowercase().as_str()) {
                return Ok(None);
            }
            name.push_str(&format!("; {column_type} {charset}"));
        }
        Ok(Some(DatabaseHash::new(name)))
    }

    /// A row's hash in SQL: the CRC32 of every column's length in bytes, or `N` when it
    /// is NULL, then of the columns' values, all joined by `#`. The lengths say where
    /// each value ends and which are NULL (which `CONCAT_WS` skips), so that a value
    /// cannot move into its neighbour unseen (`'a#', 'b'` against `'a', '#b'`) and NULL
    /// differs from the empty string. Text goes in as bytes: columns of several
    /// character sets cannot be concatenated as text. 32 bits, as pt-table-checksum's,
    /// since the server computes a CRC32 several times faster than an MD5: a differing
    /// range sums equal by chance once in 2^32, and its rows are compared canonically
    /// only when it does not.
    ///
    /// Both sides store the `source` table's column types, as their equal
    /// [`DatabaseHash`]es say.
    fn row_hash(&self, source: &TableSchema) -> String {
        let mut lengths = Vec::new();
        let mut values = Vec::new();
        for (column, source_column) in self.place.columns.iter().zip(&source.columns) {
            let column = quote(column);
            let value = match source_column.data_type {
                // A BIT's own text is its bytes; its digits keep leading zero bits apart.
                DataType::Bit { .. } => format!("BIN({column})"),
                // Numbers and times are written in ASCII, which joins any text.
                DataType::Bool
                | DataType::Int { .. }
                | DataType::Float
                | DataType::Double
                | DataType::Decimal { .. }
                | DataType::Date
                | DataType::Time { .. }
                | DataType::DateTime { .. }
                | DataType::Timestamp { .. }
                | DataType::Year => column,
                _ => format!("CAST({column} AS BINARY)"),
            };
            lengths.push(format!("IFNULL(LENGTH({value}), 'N')"));
            values.push(value);
        }
        format!(
            "CRC32(CONCAT_WS('#', {}, {}))",
            lengths.join(", "),
            values.join(", ")
        )
    }

    /// The row count and the sum of the [`TableOnConn::row_hash`]es of `range`.
    pub(crate) async fn summarize(
        self,
        source: &TableSchema,
        range: &KeyRange,
    ) -> Result<RangeSummary> {
        let (filter, params) = self.range_filter(range)?;
        let query = format!(
            "SELECT COUNT(*), CAST(COALESCE(SUM({}), 0) AS CHAR) FROM {} {filter}",
            self.row_hash(source),
            self.qualified_name()
        );
        let summary: Option<(u64, String)> = self
            .conn
            .exec_first(&query, Params::Positional(params))
            .await
            .map_err(|e| Self::error(source, "summarizing a key range of", e))?;
        let (rows, sum) = summary.unwrap_or_default();
        let sum: u128 = sum.parse().map_err(|_| {
            Error::new(
                ErrorKind::InvalidData,
                format!("summed its row hashes to `{sum}`, which is not a whole number"),
            )
            .with_table(source.name.clone())
        })?;
        Ok(RangeSummary { rows, hash: sum })
    }

    /// The key of the row `offset` rows into `range`, which the server finds without
    /// sending the rows before it.
    pub(crate) async fn key_at(
        self,
        table: &VerifyTable,
        range: &KeyRange,
        offset: usize,
    ) -> Result<Option<Key>> {
        let source = &table.schema;
        let key = self.quoted_key().join(", ");
        let (filter, params) = self.range_filter(range)?;
        let query = format!(
            "SELECT {key} FROM {} {filter} ORDER BY {key} LIMIT 1 OFFSET {offset}",
            self.qualified_name()
        );
        let row: Option<mysql_async::Row> = self
            .conn
            .exec_first(&query, Params::Positional(params))
            .await
            .map_err(|e| Self::error(source, "finding a range boundary of", e))?;
        row.map(|row| {
            row.unwrap()
                .into_iter()
                .zip(table.key_columns())
                .map(|(wire, &i)| from_wire(&source.columns[i], wire))
                .collect::<Result<Key>>()
                .map_err(|e| e.with_table(source.name.clone()))
        })
        .transpose()
    }
}

/// The target tables of a pair on a MySQL/MariaDB server, read back as their source
/// tables' values.
#[derive(Debug)]
pub struct TargetReader {
    conn: Conn,
    tables: HashMap<TableName, TargetTable>,
}

impl TargetReader {
    /// Reads on `conn` the `tables`, each the target planned for a source table.
    pub fn new(conn: Conn, tables: impl IntoIterator<Item = (TableName, TargetTable)>) -> Self {
        TargetReader {
            conn,
            tables: tables.into_iter().collect(),
        }
    }
}

dbsync_core::verify_side_by!(TargetReader, table_on_conn);

impl TargetReader {
    fn table_on_conn<'a>(&'a mut self, table: &'a VerifyTable) -> Result<TableOnConn<'a>> {
        let target = table.target_in(&self.tables)?;
        Ok(TableOnConn {
            conn: &mut self.conn,
            place: Place {
                database: &target.database,
                name: &target.name,
                columns: target.columns.iter().map(|c| c.name.as_str()).collect(),
                key: &target.primary_key,
            },
        })
    }
}
