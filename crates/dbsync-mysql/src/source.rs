//! MySQL/MariaDB as the source of a pair's copy.

use std::collections::HashMap;
use std::sync::Arc;

use dbsync_core::pipeline::Source;
use dbsync_core::verify::VerifyTable;
use dbsync_core::{Result, Row, TableName, TableSchema, Value};
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts};

use crate::error::driver_error;
use crate::reader::{Place, TableOnConn};
use crate::session;
use crate::snapshot::ChunkReader;

/// Reads a source database's tables in chunks on one connection.
#[derive(Debug)]
pub struct MysqlSource {
    conn: Conn,
    readers: HashMap<(TableName, usize), ChunkReader>,
}

impl MysqlSource {
    pub async fn connect(opts: Opts) -> Result<MysqlSource> {
        let conn = session::connect(opts, "the source").await?;
        Ok(MysqlSource {
            conn,
            readers: HashMap::new(),
        })
    }

    /// The connection, for introspection and pre-flight checks.
    pub fn conn(&mut self) -> &mut Conn {
        &mut self.conn
    }
}

impl Source for MysqlSource {
    async fn estimated_rows(&mut self, table: &TableSchema) -> Result<Option<u64>> {
        self.conn
            .exec_first(
                "SELECT TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
                (&table.name.schema, &table.name.name),
            )
            .await
            .map(Option::flatten)
            .map_err(|e| driver_error(&format!("estimating the rows of {}", table.name), e))
    }

    async fn read_chunk(
        &mut self,
        table: &Arc<TableSchema>,
        after: Option<&[Value]>,
        limit: usize,
    ) -> Result<Vec<Row>> {
        let key = (table.name.clone(), limit);
        if !self.readers.contains_key(&key) {
            let reader = ChunkReader::new(Arc::clone(table), &table.primary_key, limit)?;
            self.readers.insert(key.clone(), reader);
        }
        let reader = &self.readers[&key];
        reader.read(&mut self.conn, after).await
    }
}

dbsync_core::verify_side_by!(MysqlSource, table_on_conn);

impl MysqlSource {
    fn table_on_conn<'a>(&'a mut self, table: &'a VerifyTable) -> Result<TableOnConn<'a>> {
        let source = &table.schema;
        Ok(TableOnConn {
            conn: &mut self.conn,
            place: Place {
                database: &source.name.schema,
                name: &source.name.name,
                columns: source.columns.iter().map(|c| c.name.as_str()).collect(),
                key: &source.primary_key,
            },
        })
    }
}
