//! Poll capture of MySQL/MariaDB tables: the SQL of [`dbsync_core::pipeline::poll`].

use std::sync::Arc;

use dbsync_core::pipeline::poll::{self, PollColumns, PollReader, PollSource};
use dbsync_core::{Column, DataType, Result, Row, TableSchema, Value};
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts, Params};

use crate::error::driver_error;
use crate::protocol_value::{from_wire, to_wire};
use crate::session;
use crate::sql::quote;

/// Poll capture of a MySQL/MariaDB source.
pub type PollCapture = poll::PollCapture<MysqlPollSource>;

/// Opens a connection per polled table.
#[derive(Debug, Clone)]
pub struct MysqlPollSource {
    opts: Opts,
}

impl MysqlPollSource {
    pub fn new(opts: Opts) -> Self {
        MysqlPollSource { opts }
    }
}

impl PollSource for MysqlPollSource {
    type Reader = MysqlPollReader;

    async fn reader(
        &mut self,
        table: Arc<TableSchema>,
        columns: &PollColumns,
    ) -> Result<MysqlPollReader> {
        let conn = session::connect(self.opts.clone(), "the source").await?;
        MysqlPollReader::new(conn, table, columns)
    }
}

/// Reads one table in the order of its cursor tuple.
#[derive(Debug)]
pub struct MysqlPollReader {
    conn: Conn,
    table: Arc<TableSchema>,
    tuple: Vec<Column>,
    /// The tuple's columns as the database orders them, byte-wise for strings.
    order: Vec<String>,
    /// `db`.`table`
    qualified: String,
}

impl MysqlPollReader {
    pub fn new(conn: Conn, table: Arc<TableSchema>, columns: &PollColumns) -> Result<Self> {
        let tuple: Vec<Column> = columns.columns_of(&table)?.into_iter().cloned().collect();
        let order = tuple.iter().map(order_expression).collect();
        let qualified = format!("{}.{}", quote(&table.name.schema), quote(&table.name.name));
        Ok(MysqlPollReader {
            conn,
            table,
            tuple,
            order,
            qualified,
        })
    }

    async fn query(&mut self, query: &str, params: Params, columns: &[Column]) -> Result<Vec<Row>> {
        let doing = || format!("polling {}", self.table.name);
        let rows: Vec<mysql_async::Row> = self
            .conn
            .exec(query, params)
            .await
            .map_err(|e| driver_error(&doing(), e).with_table(self.table.name.clone()))?;
        rows.into_iter()
            .map(|row| {
                row.unwrap()
                    .into_iter()
                    .zip(columns)
                    .map(|(wire, column)| from_wire(column, wire))
                    .collect::<Result<Row>>()
                    .map_err(|e| e.with_table(self.table.name.clone()))
            })
            .collect()
    }
}

/// `column` as it orders in [`dbsync_core::Value::partial_cmp_cursor`]: strings by
/// the bytes of their UTF-8, whatever the column's character set and collation (a
/// case-insensitive or PAD SPACE collation ties strings that differ, latin1's bytes
/// are not in code point order).
fn order_expression(column: &Column) -> String {
    let name = quote(&column.name);
    match column.data_type {
        DataType::Char { .. }
        | DataType::VarChar { .. }
        | DataType::Text { .. }
        | DataType::Uuid => {
            format!("CAST(CONVERT({name} USING utf8mb4) AS BINARY)")
        }
        _ => name,
    }
}

impl PollReader for MysqlPollReader {
    async fn read_after(&mut self, after: &[Value], limit: usize) -> Result<Vec<Row>> {
        let columns: Vec<String> = self.table.columns.iter().map(|c| quote(&c.name)).collect();
        let query = format!(
            "SELECT {} FROM {} WHERE {} ORDER BY {} LIMIT {limit}",
            columns.join(", "),
            self.qualified,
            poll::after_cursor_sql(&self.order, after.len(), |_| "?".to_owned()),
            self.order.join(", ")
        );
        // The first value's placeholder appears twice.
        let params = after
            .first()
            .into_iter()
            .chain(after)
            .map(to_wire)
            .collect::<Result<Vec<_>>>()?;
        let params = if params.is_empty() {
            Params::Empty
        } else {
            Params::Positional(params)
        };
        let table = Arc::clone(&self.table);
        self.query(&query, params, &table.columns).await
    }

    async fn head(&mut self) -> Result<Option<Vec<Value>>> {
        let columns: Vec<String> = self.tuple.iter().map(|c| quote(&c.name)).collect();
        let descending: Vec<String> = self.order.iter().map(|e| format!("{e} DESC")).collect();
        let query = format!(
            "SELECT {} FROM {} WHERE {} IS NOT NULL ORDER BY {} LIMIT 1",
            columns.join(", "),
            self.qualified,
            self.order[0],
            descending.join(", ")
        );
        let tuple = self.tuple.clone();
        let rows = self.query(&query, Params::Empty, &tuple).await?;
        Ok(rows.into_iter().next())
    }
}
