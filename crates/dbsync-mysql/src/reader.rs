//! Reading a table's rows by key range as the source table's values, for verify: a
//! source's own tables, or a target's tables planned from the source's.

use std::collections::HashMap;
use std::ops::Bound;

use dbsync_core::verify::{KeyRange, VerifySide, VerifyTable};
use dbsync_core::{Result, Row, TableName, TableSchema};
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Params};

use crate::error::driver_error;
use crate::snapshot::{decode_rows, expanded_key_params, key_bound};
use crate::sql::quote;
use crate::target_table::TargetTable;

/// Where a table's rows are read: `database`.`name`, with these column and key names.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Place<'a> {
    pub(crate) database: &'a str,
    pub(crate) name: &'a str,
    /// In the source table's column order.
    pub(crate) columns: &'a [String],
    pub(crate) key: &'a [String],
}

/// At most `limit` rows of `range` at `place`, in key order, decoded as rows of
/// `source`.
pub(crate) async fn read_range(
    conn: &mut Conn,
    place: Place<'_>,
    source: &TableSchema,
    range: &KeyRange,
    limit: usize,
) -> Result<Vec<Row>> {
    let columns: Vec<String> = place.columns.iter().map(|c| quote(c)).collect();
    let key: Vec<String> = place.key.iter().map(|c| quote(c)).collect();
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
    let query = format!(
        "SELECT {} FROM {}.{} {filter} ORDER BY {} LIMIT {limit}",
        columns.join(", "),
        quote(place.database),
        quote(place.name),
        key.join(", ")
    );
    let rows: Vec<mysql_async::Row> = conn
        .exec(&query, Params::Positional(params))
        .await
        .map_err(|e| {
            driver_error(&format!("reading a key range of {}", source.name), e)
                .with_table(source.name.clone())
        })?;
    decode_rows(source, rows)
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

impl VerifySide for TargetReader {
    async fn read_range(
        &mut self,
        table: &VerifyTable,
        range: &KeyRange,
        limit: usize,
    ) -> Result<Vec<Row>> {
        let source = &table.schema;
        let target = table.target_in(&self.tables)?;
        let columns: Vec<String> = target.columns.iter().map(|c| c.name.clone()).collect();
        let place = Place {
            database: &target.database,
            name: &target.name,
            columns: &columns,
            key: &target.primary_key,
        };
        read_range(&mut self.conn, place, source, range, limit).await
    }
}
