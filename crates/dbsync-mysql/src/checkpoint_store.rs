//! The pair's checkpoints in the target database, one row per source table, read and
//! written inside the writer's transactions.

use std::collections::HashMap;

use dbsync_core::{Checkpoint, Result, TableName};
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Value as Wire};

use crate::error::driver_error;
use crate::sql::quote;

/// The table in the target database that holds each table's [`Checkpoint`].
pub const CHECKPOINT_TABLE: &str = "dbsync_checkpoint";

/// One pair's rows of the checkpoint table.
#[derive(Debug)]
pub(crate) struct CheckpointStore {
    pair: String,
    /// `` `database`.`dbsync_checkpoint` ``.
    table: String,
}

impl CheckpointStore {
    /// The checkpoints of `pair` in `database`, whose table is created when absent.
    pub(crate) async fn create(conn: &mut Conn, database: &str, pair: &str) -> Result<Self> {
        let table = format!("{}.{}", quote(database), quote(CHECKPOINT_TABLE));
        conn.query_drop(format!(
            "CREATE TABLE IF NOT EXISTS {table} (
               pair VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
               source_table VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
               checkpoint JSON NOT NULL,
               updated_at TIMESTAMP(6) NOT NULL,
               PRIMARY KEY (pair, source_table)
             ) ENGINE=InnoDB"
        ))
        .await
        .map_err(|e| driver_error("creating the checkpoint table", e))?;
        Ok(CheckpointStore {
            pair: pair.to_owned(),
            table,
        })
    }

    /// The checkpoint table's name, for messages.
    pub(crate) fn name(&self) -> &str {
        &self.table
    }

    /// The checkpoints of `sources` that exist.
    pub(crate) async fn read(
        &self,
        conn: &mut Conn,
        sources: &[&TableName],
    ) -> Result<Vec<(TableName, Checkpoint)>> {
        Ok(self.select(conn, sources, "").await?.into_iter().collect())
    }

    /// The checkpoints of `sources` that exist, locked until the end of `transaction`.
    pub(crate) async fn locked<Q: Queryable>(
        &self,
        transaction: &mut Q,
        sources: &[&TableName],
    ) -> Result<HashMap<TableName, Checkpoint>> {
        self.select(transaction, sources, " FOR UPDATE").await
    }

    async fn select<Q: Queryable>(
        &self,
        conn: &mut Q,
        sources: &[&TableName],
        lock: &str,
    ) -> Result<HashMap<TableName, Checkpoint>> {
        if sources.is_empty() {
            return Ok(HashMap::new());
        }
        let mut params: Vec<Wire> = vec![self.pair.as_str().into()];
        params.extend(sources.iter().map(|s| Wire::from(s.name.as_str())));
        let rows: Vec<(String, String)> = conn
            .exec(
                format!(
                    "SELECT source_table, checkpoint FROM {}
                     WHERE pair = ? AND source_table IN ({}){lock}",
                    self.table,
                    vec!["?"; sources.len()].join(", ")
                ),
                params,
            )
            .await
            .map_err(|e| driver_error("reading the checkpoints", e))?;
        let mut held = HashMap::new();
        for (name, json) in rows {
            if let Some(&source) = sources.iter().find(|s| s.name == name) {
                held.insert(
                    source.clone(),
                    Checkpoint::from_json(&json, source, &self.table)?,
                );
            }
        }
        Ok(held)
    }

    /// Removes the checkpoint of `source`, if any.
    pub(crate) async fn remove<Q: Queryable>(
        &self,
        transaction: &mut Q,
        source: &TableName,
    ) -> Result<()> {
        transaction
            .exec_drop(
                format!(
                    "DELETE FROM {} WHERE pair = ? AND source_table = ?",
                    self.table
                ),
                (self.pair.as_str(), source.name.as_str()),
            )
            .await
            .map_err(|e| driver_error("removing a checkpoint", e))
    }

    /// Writes `checkpoints` in one statement.
    pub(crate) async fn save<Q: Queryable>(
        &self,
        transaction: &mut Q,
        checkpoints: &[(TableName, Checkpoint)],
    ) -> Result<()> {
        if checkpoints.is_empty() {
            return Ok(());
        }
        let mut params: Vec<Wire> = Vec::with_capacity(checkpoints.len() * 3);
        for (source, checkpoint) in checkpoints {
            let json = checkpoint.to_json(source)?;
            params.extend([
                self.pair.as_str().into(),
                source.name.as_str().into(),
                json.into(),
            ]);
        }
        transaction
            .exec_drop(
                format!(
                    "INSERT INTO {} (pair, source_table, checkpoint, updated_at)
                     VALUES {}
                     ON DUPLICATE KEY UPDATE checkpoint = VALUES(checkpoint), updated_at = VALUES(updated_at)",
                    self.table,
                    vec!["(?, ?, ?, CURRENT_TIMESTAMP(6))"; checkpoints.len()].join(", ")
                ),
                params,
            )
            .await
            .map_err(|e| driver_error("saving the checkpoints", e))
    }
}
