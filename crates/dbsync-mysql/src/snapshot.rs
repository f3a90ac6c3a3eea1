//! Reading a table for the initial copy, in primary-key chunks.
//!
//! Each chunk is one short query, `WHERE key > last key of the previous chunk ORDER BY
//! key LIMIT n`: it holds no lock and no long transaction, can run beside other chunks
//! on other connections, and a restart continues from the last key copied. Chunks need
//! not be consistent with each other: the stream that follows the copy starts from a
//! position taken before the first chunk and replays every change since, so each row
//! converges to its latest state (ARCHITECTURE.md §3).

use std::sync::Arc;

use dbsync_core::{Error, ErrorKind, Result, Row, TableSchema, Value};
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Params};

use crate::error::driver_error;
use crate::protocol_value::{from_wire, to_wire};
use crate::sql::quote;

/// The queries that read one table's chunks.
#[derive(Debug)]
pub struct ChunkReader {
    table: Arc<TableSchema>,
    /// Positions of the key columns in a row.
    key: Vec<usize>,
    first_chunk: String,
    next_chunk: String,
}

impl ChunkReader {
    /// Prepares the chunk queries of `table`, whose key must be its primary key or
    /// the `key` columns a user declared.
    pub fn new(table: Arc<TableSchema>, key: &[String], rows_per_chunk: usize) -> Result<Self> {
        if key.is_empty() {
            return Err(Error::new(
                ErrorKind::Config,
                "has no primary key, so its rows cannot be told apart; add one or declare `primary_key` for the table in the pair's `tables`",
            )
            .with_table(table.name.clone()));
        }
        let key_positions = key
            .iter()
            .map(|name| {
                table
                    .columns
                    .iter()
                    .position(|c| &c.name == name)
                    .ok_or_else(|| {
                        Error::new(
                            ErrorKind::Config,
                            format!("has no column `{name}` to use as its key"),
                        )
                        .with_table(table.name.clone())
                    })
            })
            .collect::<Result<Vec<_>>>()?;

        let columns: Vec<String> = table.columns.iter().map(|c| quote(&c.name)).collect();
        let key_columns: Vec<String> = key.iter().map(|k| quote(k)).collect();
        let select = format!(
            "SELECT {} FROM {}.{}",
            columns.join(", "),
            quote(&table.name.schema),
            quote(&table.name.name)
        );
        let order = format!("ORDER BY {} LIMIT {rows_per_chunk}", key_columns.join(", "));
        let first_chunk = format!("{select} {order}");
        let next_chunk = format!("{select} WHERE {} {order}", after_key(&key_columns));
        Ok(ChunkReader {
            table,
            key: key_positions,
            first_chunk,
            next_chunk,
        })
    }

    /// The rows after `after` (the key of the last row of the previous chunk; `None`
    /// for the first chunk), in key order. Fewer rows than asked means the table ends.
    pub async fn read(&self, conn: &mut Conn, after: Option<&[Value]>) -> Result<Vec<Row>> {
        let doing = || format!("reading a chunk of {}", self.table.name);
        let rows: Vec<mysql_async::Row> = match after {
            None => conn.exec(&self.first_chunk, ()).await,
            Some(key) => {
                let params = expanded_key_params(key)?;
                conn.exec(&self.next_chunk, Params::Positional(params))
                    .await
            }
        }
        .map_err(|e| driver_error(&doing(), e).with_table(self.table.name.clone()))?;

        decode_rows(&self.table, rows)
    }

    /// The key of `row`, to pass as `after` for the next chunk.
    pub fn key_of(&self, row: &Row) -> Vec<Value> {
        self.key.iter().map(|&i| row[i].clone()).collect()
    }
}

/// The values of `rows`, rows of `table`'s columns as the server sent them.
pub(crate) fn decode_rows(table: &TableSchema, rows: Vec<mysql_async::Row>) -> Result<Vec<Row>> {
    rows.into_iter()
        .map(|row| {
            row.unwrap()
                .into_iter()
                .zip(&table.columns)
                .map(|(wire, column)| from_wire(column, wire))
                .collect::<Result<Row>>()
                .map_err(|e| e.with_table(table.name.clone()))
        })
        .collect()
}

/// `(a > ?) OR (a = ? AND b > ?) OR ...`: the rows after a key.
fn after_key(key_columns: &[String]) -> String {
    key_bound(key_columns, ">", ">")
}

/// `(a > ?) OR (a = ? AND b >= ?) OR ...` (with `before` `>` and `last` `>=`): the
/// rows on one side of a key, in a form every MySQL and MariaDB version turns into an
/// index range (row constructors are not). `before` compares the columns before the
/// last, `last` the last one.
pub(crate) fn key_bound(key_columns: &[String], before: &str, last: &str) -> String {
    (0..key_columns.len())
        .map(|i| {
            let mut terms: Vec<String> = key_columns[..i]
                .iter()
                .map(|c| format!("{c} = ?"))
                .collect();
            let op = if i + 1 == key_columns.len() {
                last
            } else {
                before
            };
            terms.push(format!("{} {op} ?", key_columns[i]));
            format!("({})", terms.join(" AND "))
        })
        .collect::<Vec<_>>()
        .join(" OR ")
}

/// The parameters of [`key_bound`]: for each disjunct, the key's prefix.
pub(crate) fn expanded_key_params(key: &[Value]) -> Result<Vec<mysql_async::Value>> {
    let mut params = Vec::with_capacity(key.len() * (key.len() + 1) / 2);
    for last in 0..key.len() {
        for value in &key[..=last] {
            params.push(to_wire(value)?);
        }
    }
    Ok(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_key_expands_composite_keys() {
        let columns = ["`a`".to_owned(), "`b`".to_owned()];
        assert_eq!(after_key(&columns), "(`a` > ?) OR (`a` = ? AND `b` > ?)");
        assert_eq!(
            key_bound(&columns, "<", "<="),
            "(`a` < ?) OR (`a` = ? AND `b` <= ?)"
        );
        let params = expanded_key_params(&[Value::Int(1), Value::Int(2)]).unwrap();
        assert_eq!(
            params,
            [
                mysql_async::Value::Int(1),
                mysql_async::Value::Int(1),
                mysql_async::Value::Int(2)
            ]
        );
    }
}
