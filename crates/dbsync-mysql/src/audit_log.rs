//! `sync_audit_log`, the table on the source that dbsync's triggers write every row
//! change into, and what the trigger capture does with it.
//!
//! An entry says that a row of a table changed, not what it became: the capture reads
//! the row's current values from the table itself, so that they arrive exactly (no
//! trip through JSON). `row_data` is for people reading the log. `created_at` and
//! `synced_at` are UTC: the triggers run in their writers' sessions, whatever time
//! zone those have.
//!
//! `synced` is one flag per entry, not per pair: the log has one consumer. Two pairs
//! reading one source database by triggers would each mark and purge the other's
//! entries; their retention must then exceed the slower one's lag.

use std::time::Duration;

use chrono::NaiveDateTime;
use dbsync_core::{Error, ErrorKind, Result};
use mysql_async::Conn;
use mysql_async::prelude::Queryable;

use crate::error::driver_error;
use crate::protocol_value::date_time;
use crate::sql::quote;

/// The audit log's name, in the database whose tables it records.
pub const AUDIT_LOG: &str = "sync_audit_log";

/// The audit log of one database.
#[derive(Debug, Clone)]
pub struct AuditLog {
    database: String,
    /// `` `database`.`sync_audit_log` ``
    table: String,
}

/// One change recorded by a trigger.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub id: u64,
    pub table_name: String,
    /// The row's key; see the `record_id` module for its form.
    pub record_id: String,
    pub operation: String,
    /// When the trigger ran, in UTC.
    pub created_at: NaiveDateTime,
}

/// Deletes that purge at most this many entries each, so that none holds locks
/// long.
const PURGE_CHUNK: u64 = 10_000;

impl AuditLog {
    pub fn new(database: &str) -> AuditLog {
        AuditLog {
            database: database.to_owned(),
            table: format!("{}.{}", quote(database), quote(AUDIT_LOG)),
        }
    }

    pub fn database(&self) -> &str {
        &self.database
    }

    /// The qualified, quoted table name.
    pub(crate) fn table(&self) -> &str {
        &self.table
    }

    /// The statement that creates the audit log when absent.
    pub fn create_statement(&self) -> String {
        format!(
            "CREATE TABLE IF NOT EXISTS {} (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  table_name VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  record_id TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  operation ENUM('INSERT','UPDATE','DELETE') NOT NULL,
  row_data JSON NULL,
  created_at DATETIME(6) NOT NULL,
  synced BOOLEAN NOT NULL DEFAULT FALSE,
  synced_at DATETIME(6) NULL,
  retry_count INT UNSIGNED NOT NULL DEFAULT 0,
  error TEXT NULL,
  KEY sync_audit_log_synced (synced, created_at),
  KEY sync_audit_log_record (table_name, record_id(191))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
            self.table
        )
    }

    pub async fn exists(&self, conn: &mut Conn) -> Result<bool> {
        let found: Option<String> = conn
            .exec_first(
                "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
                (&self.database, AUDIT_LOG),
            )
            .await
            .map_err(|e| driver_error("looking for the audit log", e))?;
        Ok(found.is_some())
    }

    /// The highest entry id, 0 when the log is empty.
    pub async fn highest_id(&self, conn: &mut Conn) -> Result<u64> {
        let id: Option<Option<u64>> = conn
            .query_first(format!("SELECT MAX(id) FROM {}", self.table))
            .await
            .map_err(|e| self.error("reading the highest id of", e))?;
        Ok(id.flatten().unwrap_or(0))
    }

    /// An id below which every entry was committed when it was marked synced: the
    /// most recently created synced entry's (0 when none is).
    pub async fn synced_id(&self, conn: &mut Conn) -> Result<u64> {
        let id: Option<u64> = conn
            .query_first(format!(
                "SELECT id FROM {} WHERE synced = TRUE ORDER BY created_at DESC LIMIT 1",
                self.table
            ))
            .await
            .map_err(|e| self.error("reading the synced entries of", e))?;
        Ok(id.unwrap_or(0))
    }

    /// At most `limit` committed entries with an id above `after`, in id order; a
    /// plain read, which waits for nothing.
    pub async fn read_after(
        &self,
        conn: &mut Conn,
        after: u64,
        limit: usize,
    ) -> Result<Vec<Entry>> {
        self.read(
            conn,
            &format!("WHERE id > ? ORDER BY id LIMIT {limit}"),
            (after,),
        )
        .await
    }

    /// At most `limit` entries with ids in `(after, upto]`, in id order, read with
    /// shared locks so that the read waits for the transactions still inserting
    /// entries there; `None` when one stays open past the session's lock wait timeout.
    ///
    /// A session in READ COMMITTED takes no gap locks, so the read never blocks the
    /// triggers' inserts.
    pub async fn read_settled(
        &self,
        conn: &mut Conn,
        after: u64,
        upto: u64,
        limit: usize,
    ) -> Result<Option<Vec<Entry>>> {
        let read = self
            .read(
                conn,
                &format!("WHERE id > ? AND id <= ? ORDER BY id LIMIT {limit} LOCK IN SHARE MODE"),
                (after, upto),
            )
            .await;
        match read {
            Err(error) if error.kind() == ErrorKind::Retryable => Ok(None),
            read => read.map(Some),
        }
    }

    async fn read(
        &self,
        conn: &mut Conn,
        condition: &str,
        params: impl Into<mysql_async::Params> + Send,
    ) -> Result<Vec<Entry>> {
        let rows: Vec<(u64, String, String, String, mysql_async::Value)> = conn
            .exec(
                format!(
                    "SELECT id, table_name, record_id, operation, created_at FROM {} {condition}",
                    self.table
                ),
                params,
            )
            .await
            .map_err(|e| self.error("reading", e))?;
        rows.into_iter()
            .map(|(id, table_name, record_id, operation, created_at)| {
                Ok(Entry {
                    id,
                    table_name,
                    record_id,
                    operation,
                    created_at: date_time(&created_at).ok_or_else(|| {
                        Error::new(
                            ErrorKind::InvalidData,
                            format!("entry {id} of {} has no valid created_at", self.table),
                        )
                    })?,
                })
            })
            .collect()
    }

    /// Marks the entries up to `upto` synced; returns how many it marked.
    pub async fn mark_synced(&self, conn: &mut Conn, upto: u64) -> Result<u64> {
        // Through the (synced, created_at) index: only unsynced entries are visited.
        conn.exec_drop(
            format!(
                "UPDATE {} SET synced = TRUE, synced_at = UTC_TIMESTAMP(6) WHERE synced = FALSE AND id <= ?",
                self.table
            ),
            (upto,),
        )
        .await
        .map_err(|e| self.error("marking synced entries of", e))?;
        Ok(conn.affected_rows())
    }

    /// Records on the unsynced entries of `table_name` in `(after, upto]` that
    /// consuming them failed with `error`, counting the attempt.
    pub async fn record_error(
        &self,
        conn: &mut Conn,
        table_name: &str,
        after: u64,
        upto: u64,
        error: &str,
    ) -> Result<()> {
        conn.exec_drop(
            format!(
                "UPDATE {} SET retry_count = retry_count + 1, error = ? \
                 WHERE id > ? AND id <= ? AND table_name = ? AND synced = FALSE",
                self.table
            ),
            (error, after, upto, table_name),
        )
        .await
        .map_err(|e| self.error("recording an error in", e))
    }

    /// Deletes the synced entries created more than `age` ago; returns how many.
    ///
    /// The entry with the highest id always stays: servers that do not persist the
    /// AUTO_INCREMENT counter (MySQL before 8.0) restart it at the highest id present
    /// plus one, and an emptied log would hand out again ids that capture has already
    /// passed.
    pub async fn purge(&self, conn: &mut Conn, age: Duration) -> Result<u64> {
        let highest = self.highest_id(conn).await?;
        let micros = u64::try_from(age.as_micros()).unwrap_or(u64::MAX);
        let mut purged = 0;
        loop {
            conn.exec_drop(
                format!(
                    "DELETE FROM {} WHERE synced = TRUE AND created_at < UTC_TIMESTAMP(6) - INTERVAL ? MICROSECOND AND id < ? LIMIT {PURGE_CHUNK}",
                    self.table
                ),
                (micros, highest),
            )
            .await
            .map_err(|e| self.error("purging", e))?;
            let deleted = conn.affected_rows();
            purged += deleted;
            if deleted < PURGE_CHUNK {
                return Ok(purged);
            }
        }
    }

    fn error(&self, doing: &str, error: mysql_async::Error) -> Error {
        driver_error(&format!("{doing} {}.{AUDIT_LOG}", self.database), error)
    }
}
