//! Per-table state of each pair, for display: status, rows, the last error and a mirror
//! of the target's checkpoint (the checkpoint in the target stays the truth).

use chrono::{DateTime, Utc};
use dbsync_core::Checkpoint;
use serde::Serialize;
use utoipa::ToSchema;

use super::Store;
use super::json::{from_json, to_json};
use super::pairs;
use super::time::{from_micros, now_micros};
use crate::error::{Error, ErrorKind, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TableStatus {
    /// Selected, not started yet.
    Pending,
    /// The initial copy is going on.
    Copying,
    /// Copied; changes are being applied.
    Streaming,
    /// A run that ends (`--once`, a full copy) finished the table.
    Completed,
    /// Stopped on an error (`last_error`).
    Failed,
    Stopped,
}

impl TableStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TableStatus::Pending => "pending",
            TableStatus::Copying => "copying",
            TableStatus::Streaming => "streaming",
            TableStatus::Completed => "completed",
            TableStatus::Failed => "failed",
            TableStatus::Stopped => "stopped",
        }
    }

    fn parse(text: &str) -> Result<TableStatus> {
        Ok(match text {
            "pending" => TableStatus::Pending,
            "copying" => TableStatus::Copying,
            "streaming" => TableStatus::Streaming,
            "completed" => TableStatus::Completed,
            "failed" => TableStatus::Failed,
            "stopped" => TableStatus::Stopped,
            other => {
                return Err(Error::new(
                    ErrorKind::Store,
                    format!(
                        "the state store holds a table in the unknown status `{other}`; upgrade dbsync"
                    ),
                ));
            }
        })
    }
}

/// What an engine reports about one table; it replaces what the store held.
#[derive(Debug, Clone, PartialEq)]
pub struct TableUpdate {
    /// The source table, as `database.table`.
    pub table: String,
    pub status: TableStatus,
    /// The checkpoint the target holds for the table, if it has one yet.
    pub checkpoint: Option<Checkpoint>,
    /// Rows copied and applied so far.
    pub rows_synced: u64,
    /// Set when `status` is `failed`; kept otherwise until the table succeeds again.
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TableState {
    pub table: String,
    pub status: TableStatus,
    #[schema(value_type = Option<Object>)]
    pub checkpoint: Option<Checkpoint>,
    pub rows_synced: u64,
    pub last_error: Option<String>,
    pub updated_at: DateTime<Utc>,
}

impl Store {
    /// Records the state of one table of `pair`.
    pub async fn record_table_state(
        &self,
        pair: impl Into<String>,
        update: TableUpdate,
    ) -> Result<()> {
        let pair = pair.into();
        self.call(move |connection| {
            let checkpoint = update.checkpoint.as_ref().map(to_json).transpose()?;
            pairs::insert_for_pair(
                connection,
                &pair,
                "INSERT INTO table_state (pair, table_name, status, position, rows_synced, last_error, updated_at)
                 SELECT name, ?2, ?3, ?4, ?5, ?6, ?7 FROM pairs WHERE name = ?1
                 ON CONFLICT (pair, table_name) DO UPDATE SET
                     status = excluded.status, position = excluded.position,
                     rows_synced = excluded.rows_synced, last_error = excluded.last_error,
                     updated_at = excluded.updated_at",
                (
                    &pair,
                    &update.table,
                    update.status.as_str(),
                    checkpoint,
                    i64::try_from(update.rows_synced).unwrap_or(i64::MAX),
                    &update.last_error,
                    now_micros(),
                ),
            )?;
            Ok(())
        })
        .await
    }

    /// The tables of `pair` the engine has reported on, by name.
    pub async fn table_states(&self, pair: impl Into<String>) -> Result<Vec<TableState>> {
        let pair = pair.into();
        self.pair(pair.clone()).await?;
        self.call(move |connection| {
            let mut statement = connection.prepare(
                "SELECT table_name, status, position, rows_synced, last_error, updated_at
                 FROM table_state WHERE pair = ?1 ORDER BY table_name",
            )?;
            let rows = statement.query_map([&pair], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, Option<String>>(2)?,
                    row.get::<_, i64>(3)?,
                    row.get::<_, Option<String>>(4)?,
                    row.get::<_, i64>(5)?,
                ))
            })?;
            rows.map(|row| {
                let (table, status, checkpoint, rows_synced, last_error, updated_at) = row?;
                Ok(TableState {
                    status: TableStatus::parse(&status)?,
                    checkpoint: checkpoint.as_deref().map(from_json).transpose()?,
                    table,
                    rows_synced: u64::try_from(rows_synced).unwrap_or_default(),
                    last_error,
                    updated_at: from_micros(updated_at),
                })
            })
            .collect()
        })
        .await
    }
}
