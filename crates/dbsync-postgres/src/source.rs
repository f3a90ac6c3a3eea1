//! PostgreSQL as the source of a pair's copy.
//!
//! Each chunk is one short query, `WHERE (key) > (last key of the previous chunk)
//! ORDER BY key LIMIT n`, as for MySQL (see `dbsync_mysql::snapshot`): no lock, no long
//! transaction, a restart continues from the last key copied, and the stream that
//! follows replays whatever changed meanwhile. Values are selected as text in the form
//! [`crate::reader`] parses exactly.

use std::sync::Arc;

use dbsync_core::pipeline::Source;
use dbsync_core::verify::VerifyTable;
use dbsync_core::{Column, DataType, Error, ErrorKind, Result, Row, TableSchema, Value};
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Config};

use crate::error::driver_error;
use crate::param::Param;
use crate::reader::{TableOnClient, TextForm, values_from_query};
use crate::session;
use crate::sql::quote;

/// Reads a source database's tables in chunks on one connection.
#[derive(Debug)]
pub struct PgSource {
    client: Client,
}

impl PgSource {
    pub async fn connect(config: &Config) -> Result<PgSource> {
        Ok(PgSource {
            client: session::connect(config, "the source").await?,
        })
    }

    /// The connection, for introspection.
    pub fn client(&self) -> &Client {
        &self.client
    }
}

impl Source for PgSource {
    /// The planner's estimate, `pg_class.reltuples`; `None` for a table never analyzed.
    async fn estimated_rows(&mut self, table: &TableSchema) -> Result<Option<u64>> {
        let row = self
            .client
            .query_opt(
                "SELECT c.reltuples::float8 FROM pg_class c
                 JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = $1 AND c.relname = $2",
                &[&table.name.schema, &table.name.name],
            )
            .await
            .map_err(|e| driver_error(&format!("estimating the rows of {}", table.name), e))?;
        let estimate: Option<f64> = row.map(|row| row.get(0));
        Ok(estimate.filter(|rows| *rows >= 0.0).map(|rows| rows as u64))
    }

    async fn read_chunk(
        &mut self,
        table: &Arc<TableSchema>,
        after: Option<&[Value]>,
        limit: usize,
    ) -> Result<Vec<Row>> {
        if table.primary_key.is_empty() {
            return Err(Error::new(
                ErrorKind::Config,
                "has no primary key, so its rows cannot be told apart; add one or declare `primary_key` for the table in the pair's `tables`",
            )
            .with_table(table.name.clone()));
        }
        // Qualified: bare names in ORDER BY would be the text output columns.
        let key: Vec<String> = table
            .primary_key
            .iter()
            .map(|k| format!("t.{}", quote(k)))
            .collect();
        let filter = match after {
            None => String::new(),
            Some(after) => {
                let parameters: Vec<String> = (1..=after.len()).map(|i| format!("${i}")).collect();
                format!(
                    "WHERE ({}) > ({})",
                    key[..after.len()].join(", "),
                    parameters.join(", ")
                )
            }
        };
        let query = format!(
            "SELECT {} FROM {} t {filter} ORDER BY {} LIMIT {limit}",
            select_list(&table.columns),
            qualified_name(table),
            key.join(", ")
        );
        let params: Vec<Param<'_>> = after.unwrap_or_default().iter().map(Param).collect();
        query_rows(&self.client, table, &table.columns, &query, &params).await
    }
}

dbsync_core::verify_side_by!(PgSource, table_on_client);

impl PgSource {
    fn table_on_client<'a>(&'a self, table: &'a VerifyTable) -> Result<TableOnClient<'a>> {
        let source = &table.schema;
        Ok(TableOnClient {
            client: &self.client,
            qualified_name: qualified_name(source),
            columns: source.columns.iter().map(|c| c.name.as_str()).collect(),
            selects: selects(&source.columns),
            key: &source.primary_key,
        })
    }
}

/// The columns of `columns` as text, in the forms [`values_from_query`] reads.
pub(crate) fn select_list<'c>(columns: impl IntoIterator<Item = &'c Column>) -> String {
    selects(columns).join(", ")
}

/// Each of `columns` as text, in the form [`values_from_query`] reads.
fn selects<'c>(columns: impl IntoIterator<Item = &'c Column>) -> Vec<String> {
    columns
        .into_iter()
        .map(|column| text_form(&column.data_type).select(&quote(&column.name)))
        .collect()
}

/// How a column of a native PostgreSQL type is read as text.
fn text_form(data_type: &DataType) -> TextForm {
    match data_type {
        DataType::Binary { .. } | DataType::VarBinary { .. } | DataType::Blob { .. } => {
            TextForm::Hex
        }
        DataType::Time { .. } => TextForm::Micros,
        _ => TextForm::Plain,
    }
}

pub(crate) fn qualified_name(table: &TableSchema) -> String {
    format!("{}.{}", quote(&table.name.schema), quote(&table.name.name))
}

/// The rows of `query` on `table`, which selects `columns` with [`select_list`].
pub(crate) async fn query_rows(
    client: &Client,
    table: &TableSchema,
    columns: &[Column],
    query: &str,
    params: &[Param<'_>],
) -> Result<Vec<Row>> {
    let params: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as _).collect();
    client
        .query(query, &params)
        .await
        .map_err(|e| driver_error(&format!("reading {}", table.name), e))?
        .iter()
        .map(|row| values_from_query(columns, row))
        .collect::<Result<Vec<Row>>>()
        .map_err(|e| e.with_table(table.name.clone()))
}
