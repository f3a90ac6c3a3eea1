//! Writing a pair's tables into a SQLite file: the copy's chunks and the stream's
//! batches, each in one transaction with the checkpoints it moves.
//!
//! rusqlite is synchronous, so every piece of database work runs on tokio's blocking
//! pool (`spawn_blocking`) and the async pipeline is never blocked. Each call is one
//! bounded transaction, which is what that pool is for; an owned worker thread would
//! only add a request protocol. The connection sits behind a mutex, so that work whose
//! caller stopped waiting (a cancelled copy) finishes, or rolls back, before the next
//! begins. Rows are encoded into SQLite values on the caller's side first: a value
//! SQLite cannot store exactly fails before the file is touched, and the blocking work
//! owns what it writes.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use dbsync_core::pipeline::Target;
use dbsync_core::{
    ChangeBatch, Checkpoint, CopyProgress, Error, ErrorKind, Result, Row, TableName, TableSchema,
    Value,
};
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OpenFlags, TransactionBehavior, params};

use crate::error::{driver_error, unwritable};
use crate::sql::{placeholders, quote};
use crate::target_table::TargetTable;
use crate::target_type::{MappingOptions, SqliteType};

/// The table in the target file that holds each table's [`Checkpoint`].
pub const CHECKPOINT_TABLE: &str = "dbsync_checkpoint";

/// How long a write waits for another connection to the file (another copy lane, or
/// a reader checkpointing the WAL) before it fails as retryable.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// A connection to a SQLite file that writes one pair.
#[derive(Debug)]
pub struct Writer {
    connection: Arc<Mutex<Connection>>,
    pair: String,
    options: MappingOptions,
    /// Target table names that differ from the source's (per-table `target`, a prefix).
    renames: HashMap<String, String>,
    /// The target of each planned source table.
    targets: HashMap<TableName, TargetTable>,
}

/// Rows encoded as SQLite is to store them.
type Encoded = Vec<Vec<SqlValue>>;

/// One table's share of a batch, encoded.
struct TableWrite {
    /// The source table, which names the table in errors.
    source: TableName,
    target: TargetTable,
    truncate: bool,
    deletes: Encoded,
    upserts: Encoded,
}

impl Writer {
    /// Opens the SQLite file at `path`, creating it when absent, in WAL mode (the
    /// replica's readers never wait for a write, nor a write for them), with the
    /// checkpoint table. A path that cannot be written fails with one sentence naming
    /// it, and leaves nothing behind.
    pub async fn open(path: &Path, pair: &str, options: MappingOptions) -> Result<Writer> {
        let path = path.to_owned();
        let connection = tokio::task::spawn_blocking(move || open_file(&path))
            .await
            .map_err(|e| {
                Error::new(
                    ErrorKind::Io,
                    format!("opening the SQLite target failed: {e}"),
                )
            })??;
        Ok(Writer {
            connection: Arc::new(Mutex::new(connection)),
            pair: pair.to_owned(),
            options,
            renames: HashMap::new(),
            targets: HashMap::new(),
        })
    }

    /// Writes source table `source` (by name) into table `target`.
    pub fn rename(&mut self, source: &str, target: &str) {
        self.renames.insert(source.to_owned(), target.to_owned());
    }

    /// Plans the target of `source` for this writer without creating anything: for a
    /// second connection to tables another has prepared.
    pub fn plan_table(&mut self, source: &Arc<TableSchema>) -> Result<TargetTable> {
        let name = self
            .renames
            .get(&source.name.name)
            .unwrap_or(&source.name.name);
        let target = TargetTable::plan(source, name, self.options)?;
        self.targets.insert(source.name.clone(), target.clone());
        Ok(target)
    }

    /// Empties the target table of `table` and removes its checkpoint, in one
    /// transaction, so that the next run copies it again from the start: killed
    /// midway, the table keeps both its rows and its checkpoint.
    pub async fn reset_table(&mut self, table: &TableName) -> Result<()> {
        let name = self.target_of(table)?.quoted_name();
        let (pair, source) = (self.pair.clone(), table.clone());
        self.run(move |connection| {
            let transaction = connection
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(|e| driver_error("starting a transaction", e))?;
            transaction
                .execute(&format!("DELETE FROM {name}"), [])
                .map_err(|e| {
                    driver_error(&format!("emptying {name}"), e).with_table(source.clone())
                })?;
            transaction
                .execute(
                    &format!(
                        "DELETE FROM {CHECKPOINT_TABLE} WHERE pair = ?1 AND source_table = ?2"
                    ),
                    params![pair, source.name],
                )
                .map_err(|e| driver_error("removing a checkpoint", e))?;
            transaction
                .commit()
                .map_err(|e| driver_error("committing the reset of a table", e))
        })
        .await
    }

    /// Runs `work` with the connection on the blocking pool.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let connection = Arc::clone(&self.connection);
        tokio::task::spawn_blocking(move || {
            // A panic in earlier work rolled its transaction back as it unwound, so
            // the connection is sound.
            let mut connection = connection.lock().unwrap_or_else(PoisonError::into_inner);
            work(&mut connection)
        })
        .await
        .map_err(|e| {
            Error::new(
                ErrorKind::Io,
                format!("the work on the SQLite target failed: {e}"),
            )
        })?
    }

    fn target_of(&self, source: &TableName) -> Result<&TargetTable> {
        self.targets.get(source).ok_or_else(|| {
            Error::new(
                ErrorKind::SchemaMismatch,
                "has changes but no target table was planned for it",
            )
            .with_table(source.clone())
        })
    }

    /// `rows` of `source`, as SQLite is to store them in the columns `names` of `types`.
    fn encode<'r>(
        &self,
        source: &TableName,
        types: &[SqliteType],
        names: &[String],
        rows: impl Iterator<Item = &'r [Value]>,
    ) -> Result<Encoded> {
        rows.map(|row| {
            row.iter()
                .zip(types)
                .zip(names)
                .map(|((value, sqlite_type), name)| {
                    sqlite_type.store(value, self.options).map_err(|e| {
                        Error::new(e.kind(), format!("column `{name}` {e}"))
                            .with_table(source.clone())
                    })
                })
                .collect()
        })
        .collect()
    }

    fn encode_rows<'r>(
        &self,
        source: &TableName,
        target: &TargetTable,
        rows: impl Iterator<Item = &'r Row>,
    ) -> Result<Encoded> {
        let types: Vec<SqliteType> = target.columns.iter().map(|c| c.sqlite_type).collect();
        let names: Vec<String> = target.columns.iter().map(|c| c.name.clone()).collect();
        self.encode(source, &types, &names, rows.map(Vec::as_slice))
    }
}

impl Target for Writer {
    /// Creates the table when absent; an existing table must have the planned columns,
    /// types and key.
    async fn prepare_table(&mut self, source: &Arc<TableSchema>) -> Result<()> {
        let target = self.plan_table(source)?;
        for index in &target.skipped_indexes {
            tracing::warn!(table = %source.name, "{index} has no SQLite counterpart and is not created");
        }
        let table = source.name.clone();
        self.run(move |connection| {
            let doing = format!("creating the SQLite table {}", target.quoted_name());
            let existing =
                table_info(connection, &target.name).map_err(|e| driver_error(&doing, e))?;
            if existing.is_empty() {
                connection
                    .execute_batch(&target.table_statement())
                    .map_err(|e| driver_error(&doing, e))
            } else {
                target.check_existing(&existing)
            }
            .map_err(|e| e.with_table(table))
        })
        .await
    }

    /// The checkpoints of the planned tables; a table planned for the first time has
    /// none.
    async fn checkpoints(&mut self) -> Result<Vec<(TableName, Checkpoint)>> {
        let pair = self.pair.clone();
        let stored = self
            .run(move |connection| {
                stored_checkpoints(connection, &pair)
                    .map_err(|e| driver_error("reading the checkpoints", e))
            })
            .await?;
        let mut checkpoints = Vec::new();
        for (name, json) in stored {
            let Some(source) = self.targets.keys().find(|source| source.name == name) else {
                continue; // a table no longer selected
            };
            checkpoints.push((source.clone(), parse_checkpoint(&name, &json)?));
        }
        Ok(checkpoints)
    }

    async fn write_chunk(
        &mut self,
        table: &TableName,
        rows: &[Row],
        checkpoint: &Checkpoint,
    ) -> Result<()> {
        let target = self.target_of(table)?.clone();
        let encoded = self.encode_rows(table, &target, rows.iter())?;
        let (pair, table, checkpoint) = (self.pair.clone(), table.clone(), checkpoint.clone());
        self.run(move |connection| {
            let transaction = connection
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(|e| driver_error("starting a transaction", e))?;
            // The chunk goes straight into the table, which would refuse a row copied
            // before: check, under the write lock, that the table holds exactly the
            // rows before this chunk. It does not when another process copies the same
            // pair, or when an earlier attempt committed after its caller gave up on
            // it; reading the checkpoints again sorts it out.
            let before = checkpoint.copy.rows().saturating_sub(encoded.len() as u64);
            let held = stored_checkpoint(&transaction, &pair, &table)?;
            let held_rows = match &held {
                None => Some(0),
                Some(Checkpoint {
                    copy: CopyProgress::Copying { rows, .. },
                    ..
                }) => Some(*rows),
                Some(_) => None,
            };
            if held_rows != Some(before) {
                return Err(Error::new(
                    ErrorKind::Retryable,
                    format!(
                        "the checkpoint in {CHECKPOINT_TABLE} says {} where this chunk follows {before} copied rows: another dbsync process copies this pair, or an earlier write landed late; the copy resumes from the checkpoint",
                        held.map_or("nothing is copied".to_owned(), |h| match h.copy {
                            CopyProgress::Done { rows } => format!("the copy is done ({rows} rows)"),
                            CopyProgress::Copying { rows, .. } => format!("{rows} rows are copied"),
                        })
                    ),
                )
                .with_table(table));
            }
            let doing = format!("copying into {}", target.quoted_name());
            execute_per_row(&transaction, &insert_statement(&target, ""), &encoded)
                .map_err(|e| driver_error(&doing, e))?;
            // The secondary indexes are built with the last chunk, in its transaction:
            // a table whose checkpoint says the copy is done has them.
            if let CopyProgress::Done { .. } = checkpoint.copy {
                for statement in target.index_statements() {
                    transaction.execute_batch(&statement).map_err(|e| {
                        driver_error(&format!("indexing {}", target.quoted_name()), e)
                    })?;
                }
            }
            save_checkpoints(&transaction, &pair, &[(table, checkpoint)])?;
            transaction
                .commit()
                .map_err(|e| driver_error("committing a copied chunk", e))
        })
        .await
    }

    /// Per table, `DELETE` of every row for a truncate, deletes by key, and upserts by
    /// key; then the checkpoints, none of which may move backward; one transaction.
    async fn apply(
        &mut self,
        batch: &ChangeBatch,
        checkpoints: &[(TableName, Checkpoint)],
    ) -> Result<()> {
        let mut writes = Vec::new();
        for table in batch.tables() {
            let name = &table.table.name;
            let target = self.target_of(name)?.clone();
            let key_types = target.key_types();
            let deletes = self.encode(name, &key_types, &target.primary_key, table.deletes())?;
            let upserts = self.encode_rows(name, &target, table.upserts())?;
            writes.push(TableWrite {
                source: name.clone(),
                target,
                truncate: table.truncate,
                deletes,
                upserts,
            });
        }
        let (pair, checkpoints) = (self.pair.clone(), checkpoints.to_vec());
        self.run(move |connection| {
            let transaction = connection
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(|e| driver_error("starting a transaction", e))?;
            refuse_backward(&transaction, &pair, &checkpoints)?;
            for write in &writes {
                apply_table(&transaction, write).map_err(|e| e.with_table(write.source.clone()))?;
            }
            save_checkpoints(&transaction, &pair, &checkpoints)?;
            transaction
                .commit()
                .map_err(|e| driver_error("committing a batch", e))
        })
        .await
    }
}

/// Opens `path` for writing and sets it up; removes what it created when that fails.
fn open_file(path: &Path) -> Result<Connection> {
    let existed = path.exists();
    let opened = open_writable(path);
    if opened.is_err() && !existed {
        for created in [
            path.to_owned(),
            sibling(path, "-wal"),
            sibling(path, "-shm"),
        ] {
            let _ = std::fs::remove_file(created);
        }
    }
    opened
}

fn open_writable(path: &Path) -> Result<Connection> {
    if let Some(directory) = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty() && !d.is_dir())
    {
        return Err(Error::new(
            ErrorKind::Config,
            format!(
                "the SQLite target {} cannot be created because its directory {} does not exist; create the directory or correct the path",
                path.display(),
                directory.display()
            ),
        ));
    }
    let failed = |e: rusqlite::Error| unwritable(path, &e);
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE;
    let connection = Connection::open_with_flags(path, flags).map_err(failed)?;
    // SQLite opens a file it may not write read-only rather than fail.
    if connection.is_readonly(rusqlite::MAIN_DB).map_err(failed)? {
        return Err(Error::new(
            ErrorKind::Config,
            format!(
                "the SQLite target {} is read-only; make the file and its directory writable for the user dbsync runs as, or choose another path",
                path.display()
            ),
        ));
    }
    connection.busy_timeout(BUSY_TIMEOUT).map_err(failed)?;
    let mode: String = connection
        .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
        .map_err(failed)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(Error::new(
            ErrorKind::Config,
            format!(
                "the SQLite target {} cannot use write-ahead logging (it stays in {mode} mode); put it on a local file system",
                path.display()
            ),
        ));
    }
    // In WAL mode NORMAL syncs at checkpoints only: a power cut may lose the last
    // transactions, but never part of one, and each holds its checkpoint, so the
    // stream replays what was lost.
    connection
        .pragma_update(None, "synchronous", "NORMAL")
        .map_err(failed)?;
    connection
        .execute_batch(&format!(
            "CREATE TABLE IF NOT EXISTS {CHECKPOINT_TABLE} (
               pair TEXT NOT NULL,
               source_table TEXT NOT NULL,
               checkpoint TEXT NOT NULL,
               updated_at TEXT NOT NULL,
               PRIMARY KEY (pair, source_table)
             )"
        ))
        .map_err(failed)?;
    Ok(connection)
}

/// `path` with `suffix` appended to its file name, as SQLite names its WAL files.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Each column of table `name` as (name, declared type, position in the primary key
/// from 1, or 0); empty when the table does not exist.
fn table_info(connection: &Connection, name: &str) -> rusqlite::Result<Vec<(String, String, u32)>> {
    let mut statement = connection.prepare("SELECT name, type, pk FROM pragma_table_info(?1)")?;
    statement
        .query_map([name], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?
        .collect()
}

fn apply_table(transaction: &rusqlite::Transaction<'_>, write: &TableWrite) -> Result<()> {
    let target = &write.target;
    let name = target.quoted_name();
    let doing = |what: &str| format!("{what} {name}");
    if write.truncate {
        transaction
            .execute(&format!("DELETE FROM {name}"), [])
            .map_err(|e| driver_error(&doing("emptying"), e))?;
    }
    if !write.deletes.is_empty() {
        let matches: Vec<String> = target
            .key_columns()
            .iter()
            .map(|k| format!("{k} = ?"))
            .collect();
        let statement = format!("DELETE FROM {name} WHERE {}", matches.join(" AND "));
        execute_per_row(transaction, &statement, &write.deletes)
            .map_err(|e| driver_error(&doing("deleting from"), e))?;
    }
    if !write.upserts.is_empty() {
        let key = target.key_columns();
        let updates: Vec<String> = target
            .columns
            .iter()
            .map(|c| quote(&c.name))
            .filter(|c| !key.contains(c))
            .map(|c| format!("{c} = excluded.{c}"))
            .collect();
        let action = if updates.is_empty() {
            "DO NOTHING".to_owned()
        } else {
            format!("DO UPDATE SET {}", updates.join(", "))
        };
        let conflict = format!(" ON CONFLICT ({}) {action}", key.join(", "));
        execute_per_row(
            transaction,
            &insert_statement(target, &conflict),
            &write.upserts,
        )
        .map_err(|e| driver_error(&doing("upserting into"), e))?;
    }
    Ok(())
}

/// `INSERT INTO` the table's columns, one row of parameters, then `suffix`.
fn insert_statement(target: &TargetTable, suffix: &str) -> String {
    let columns: Vec<String> = target.columns.iter().map(|c| quote(&c.name)).collect();
    format!(
        "INSERT INTO {} ({}) VALUES ({}){suffix}",
        target.quoted_name(),
        columns.join(", "),
        placeholders(columns.len())
    )
}

/// Runs `statement` once per row of parameters.
fn execute_per_row(
    transaction: &rusqlite::Transaction<'_>,
    statement: &str,
    rows: &Encoded,
) -> rusqlite::Result<()> {
    let mut statement = transaction.prepare_cached(statement)?;
    for row in rows {
        statement.execute(rusqlite::params_from_iter(row))?;
    }
    Ok(())
}

/// Every (source table, checkpoint JSON) the file holds for `pair`.
fn stored_checkpoints(
    connection: &Connection,
    pair: &str,
) -> rusqlite::Result<Vec<(String, String)>> {
    let mut statement = connection.prepare(&format!(
        "SELECT source_table, checkpoint FROM {CHECKPOINT_TABLE} WHERE pair = ?1"
    ))?;
    statement
        .query_map([pair], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect()
}

/// Fails, retryably, when the file holds a checkpoint further on than the one given
/// for the same table: its rows are older than what the file holds, which another
/// process wrote, and reading the checkpoints again sorts it out.
fn refuse_backward(
    transaction: &rusqlite::Transaction<'_>,
    pair: &str,
    checkpoints: &[(TableName, Checkpoint)],
) -> Result<()> {
    for (table, checkpoint) in checkpoints {
        let Some(held) = stored_checkpoint(transaction, pair, table)? else {
            continue;
        };
        if held.position > checkpoint.position {
            return Err(Error::new(
                ErrorKind::Retryable,
                format!(
                    "the checkpoint in {CHECKPOINT_TABLE} is at {} and this batch would move it back to {}: another dbsync process writes this pair; the stream resumes from the checkpoint",
                    held.position, checkpoint.position
                ),
            )
            .with_table(table.clone()));
        }
    }
    Ok(())
}

/// The checkpoint of `source` as the file holds it.
fn stored_checkpoint(
    transaction: &rusqlite::Transaction<'_>,
    pair: &str,
    source: &TableName,
) -> Result<Option<Checkpoint>> {
    let json: Option<String> = transaction
        .prepare_cached(&format!(
            "SELECT checkpoint FROM {CHECKPOINT_TABLE} WHERE pair = ?1 AND source_table = ?2"
        ))
        .and_then(|mut statement| {
            let mut rows = statement.query(params![pair, source.name])?;
            rows.next()?.map(|row| row.get(0)).transpose()
        })
        .map_err(|e| driver_error(&format!("reading the checkpoint of {source}"), e))?;
    json.map(|json| parse_checkpoint(&source.name, &json))
        .transpose()
}

fn parse_checkpoint(table: &str, json: &str) -> Result<Checkpoint> {
    serde_json::from_str(json).map_err(|e| {
        Error::new(
            ErrorKind::InvalidData,
            format!("the checkpoint of {table} in {CHECKPOINT_TABLE} is not readable: {e}"),
        )
    })
}

fn save_checkpoints(
    transaction: &rusqlite::Transaction<'_>,
    pair: &str,
    checkpoints: &[(TableName, Checkpoint)],
) -> Result<()> {
    let mut statement = transaction
        .prepare_cached(&format!(
            "INSERT INTO {CHECKPOINT_TABLE} (pair, source_table, checkpoint, updated_at)
             VALUES (?1, ?2, ?3, strftime('%Y-%m-%d %H:%M:%f', 'now'))
             ON CONFLICT (pair, source_table)
             DO UPDATE SET checkpoint = excluded.checkpoint, updated_at = excluded.updated_at"
        ))
        .map_err(|e| driver_error("saving the checkpoints", e))?;
    for (source, checkpoint) in checkpoints {
        let json = serde_json::to_string(checkpoint).map_err(|e| {
            Error::new(
                ErrorKind::InvalidData,
                format!("the checkpoint of {source} cannot be written: {e}"),
            )
        })?;
        statement
            .execute(params![pair, source.name, json])
            .map_err(|e| driver_error("saving the checkpoints", e))?;
    }
    Ok(())
}
