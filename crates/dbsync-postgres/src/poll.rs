//! Poll capture of PostgreSQL tables: the SQL of [`dbsync_core::pipeline::poll`].

use std::sync::Arc;

use dbsync_core::pipeline::poll::{self, PollColumns, PollReader, PollSource};
use dbsync_core::{Column, DataType, Result, Row, TableSchema, Value};
use tokio_postgres::{Client, Config};

use crate::param::Param;
use crate::session;
use crate::source::{qualified_name, query_rows, select_list};
use crate::sql::quote;

/// Poll capture of a PostgreSQL source.
pub type PollCapture = poll::PollCapture<PgPollSource>;

/// Opens a connection per polled table.
#[derive(Debug, Clone)]
pub struct PgPollSource {
    config: Config,
}

impl PgPollSource {
    pub fn new(config: Config) -> Self {
        PgPollSource { config }
    }
}

impl PollSource for PgPollSource {
    type Reader = PgPollReader;

    async fn reader(
        &mut self,
        table: Arc<TableSchema>,
        columns: &PollColumns,
    ) -> Result<PgPollReader> {
        let client = session::connect(&self.config, "the source").await?;
        PgPollReader::new(client, table, columns)
    }
}

/// Reads one table in the order of its cursor tuple.
#[derive(Debug)]
pub struct PgPollReader {
    client: Client,
    table: Arc<TableSchema>,
    tuple: Vec<Column>,
    /// The tuple's columns as the database orders them, byte-wise for strings.
    order: Vec<String>,
}

impl PgPollReader {
    pub fn new(client: Client, table: Arc<TableSchema>, columns: &PollColumns) -> Result<Self> {
        let tuple: Vec<Column> = columns.columns_of(&table)?.into_iter().cloned().collect();
        let order = tuple.iter().map(order_expression).collect();
        Ok(PgPollReader {
            client,
            table,
            tuple,
            order,
        })
    }
}

/// `column` as it orders in [`dbsync_core::Value::partial_cmp_cursor`]: strings by
/// their bytes (the "C" collation), whatever the column's collation. Qualified by the
/// table's alias `t`: a bare name in ORDER BY would be the text output column.
fn order_expression(column: &Column) -> String {
    let name = format!("t.{}", quote(&column.name));
    match column.data_type {
        DataType::Char { .. } | DataType::VarChar { .. } | DataType::Text { .. } => {
            format!("{name} COLLATE \"C\"")
        }
        _ => name,
    }
}

impl PollReader for PgPollReader {
    async fn read_after(&mut self, after: &[Value], limit: usize) -> Result<Vec<Row>> {
        let query = format!(
            "SELECT {} FROM {} t WHERE {} ORDER BY {} LIMIT {limit}",
            select_list(&self.table.columns),
            qualified_name(&self.table),
            poll::after_cursor_sql(&self.order, after.len(), |i| format!("${}", i + 1)),
            self.order.join(", ")
        );
        let params: Vec<Param<'_>> = after.iter().map(Param).collect();
        query_rows(
            &self.client,
            &self.table,
            &self.table.columns,
            &query,
            &params,
        )
        .await
    }

    async fn head(&mut self) -> Result<Option<Vec<Value>>> {
        let descending: Vec<String> = self.order.iter().map(|e| format!("{e} DESC")).collect();
        let query = format!(
            "SELECT {} FROM {} t WHERE {} IS NOT NULL ORDER BY {} LIMIT 1",
            select_list(&self.tuple),
            qualified_name(&self.table),
            self.order[0],
            descending.join(", ")
        );
        let rows = query_rows(&self.client, &self.table, &self.tuple, &query, &[]).await?;
        Ok(rows.into_iter().next())
    }
}
