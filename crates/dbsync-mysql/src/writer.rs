//! Writing a pair's tables into MySQL or MariaDB: the copy's chunks and the stream's
//! batches, each in one transaction with the checkpoints it moves.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use dbsync_core::pipeline::{Target, planned_target};
use dbsync_core::{
    ChangeBatch, Checkpoint, CopyProgress, Error, ErrorKind, Result, Row, TableName, TableSchema,
    Value,
};
use futures_util::StreamExt;
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts, Transaction, TxOpts};

pub use crate::checkpoint_store::CHECKPOINT_TABLE;
use crate::checkpoint_store::CheckpointStore;
use crate::error::driver_error;
use crate::flavor::Flavor;
use crate::infile_format;
use crate::multi_row::{MultiRow, placeholders};
use crate::session;
use crate::sql::quote;
use crate::target_table::{TargetColumn, TargetTable};

/// The writer's session, on top of [`session`]'s:
///
/// - `sql_mode`: strict, so that a value the column cannot hold fails rather than
///   being cut or clipped; without `NO_ZERO_DATE` and `NO_ZERO_IN_DATE`, because the
///   target is MySQL too and keeps a source's zero dates as they are;
///   `NO_AUTO_VALUE_ON_ZERO`, so that a 0 written into an `AUTO_INCREMENT` column stays
///   0; `NO_BACKSLASH_ESCAPES`, which [`crate::sql::literal`] relies on.
/// - UTC, so that `TIMESTAMP`s are written as the source's reader read them, whatever
///   zone each of the two servers runs in.
/// - No foreign key checks: a batch applies each table's net changes in no particular
///   table order, so a child row may arrive before its parent, and a key change
///   deletes the old row before the new one exists. The source checked its keys; the
///   target ends each batch where the source was. Cascades are off too, so a delete
///   here never takes rows the source still has.
/// - `READ COMMITTED`: no gap locks, so two lanes that lock the checkpoint rows of
///   tables starting at the same moment do not deadlock on the gap between them.
const WRITER_SESSION: &str = "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION,NO_BACKSLASH_ESCAPES', \
     time_zone = '+00:00', NAMES utf8mb4, SESSION foreign_key_checks = 0; \
     SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED";

/// The size of the pieces a chunk is sent in by `LOAD DATA`.
const INFILE_PIECE: usize = 1 << 20;

/// How the copy writes its chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyMethod {
    /// `LOAD DATA LOCAL INFILE`, streamed from memory: the default where the server
    /// allows it (`local_infile`), since it does the server work of the client's
    /// `LOAD DATA` that the copy is measured against. In a debug build the two methods
    /// copy at about the same rate (the `copy_methods_timed` test).
    LoadData,
    /// Multi-row `INSERT`s with binary parameters.
    Insert,
}

/// A connection to the target that writes one pair.
#[derive(Debug)]
pub struct Writer {
    conn: Conn,
    database: String,
    flavor: Flavor,
    /// The largest packet both the server and the client take.
    packet: usize,
    /// Whether the server takes `LOAD DATA LOCAL INFILE`.
    local_infile: bool,
    copy_method: CopyMethod,
    checkpoints: CheckpointStore,
    /// Target table names that differ from the source's (per-table `target`, a prefix).
    renames: HashMap<String, String>,
    /// The target of each planned source table.
    targets: HashMap<TableName, TargetTable>,
}

impl Writer {
    /// Connects to the database `opts` names and creates the checkpoint table in it
    /// when absent. `opts` name a server of their own: nothing here assumes it is the
    /// source's, or of the source's flavor.
    pub async fn connect(opts: Opts, pair: &str) -> Result<Writer> {
        let database = opts.db_name().map(str::to_owned).ok_or_else(|| {
            Error::new(
                ErrorKind::Config,
                "the target URL names no database; add it to the URL's path, as in mysql://host/DATABASE",
            )
        })?;
        let client_packet = opts.max_allowed_packet();
        let mut conn = session::connect(opts, "the target").await?;
        conn.query_drop(WRITER_SESSION)
            .await
            .map_err(|e| driver_error("setting up the target session", e))?;
        let flavor = Flavor::of(&mut conn).await?;
        let (server_packet, local_infile, explicit_defaults): (usize, u8, u8) = conn
            .query_first(
                "SELECT @@max_allowed_packet, @@local_infile, @@explicit_defaults_for_timestamp",
            )
            .await
            .map_err(|e| driver_error("reading the target's settings", e))?
            .unwrap_or((1 << 22, 0, 1));
        if explicit_defaults == 0 {
            // Without it, the first `TIMESTAMP NOT NULL` column of a table would be
            // created with a `DEFAULT CURRENT_TIMESTAMP ON UPDATE ...` it does not
            // declare. Servers since MySQL 8.0 and MariaDB 10.10 have it on, and MySQL
            // allows a session to change it only with SESSION_VARIABLES_ADMIN.
            conn.query_drop("SET SESSION explicit_defaults_for_timestamp = 1")
                .await
                .map_err(|e| driver_error("setting explicit_defaults_for_timestamp", e))?;
        }
        let checkpoints = CheckpointStore::create(&mut conn, &database, pair).await?;
        Ok(Writer {
            conn,
            database,
            flavor,
            packet: client_packet.map_or(server_packet, |client| client.min(server_packet)),
            local_infile: local_infile == 1,
            copy_method: if local_infile == 1 {
                CopyMethod::LoadData
            } else {
                CopyMethod::Insert
            },
            checkpoints,
            renames: HashMap::new(),
            targets: HashMap::new(),
        })
    }

    /// Writes source table `source` (by name) into table `target` of the database.
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
        let target = TargetTable::plan(source, &self.database, name, self.flavor)?;
        self.targets.insert(source.name.clone(), target.clone());
        Ok(target)
    }

    /// How the copy writes its chunks.
    pub fn copy_method(&self) -> CopyMethod {
        self.copy_method
    }

    /// Copies by `method` rather than by the faster one the server allows, to compare
    /// them; fails when the server does not take `LOAD DATA LOCAL INFILE`.
    pub fn set_copy_method(&mut self, method: CopyMethod) -> Result<()> {
        if method == CopyMethod::LoadData && !self.local_infile {
            return Err(Error::new(
                ErrorKind::Config,
                "the target does not take LOAD DATA LOCAL INFILE; set local_infile=ON on the server to copy by it",
            ));
        }
        self.copy_method = method;
        Ok(())
    }

    /// Adds the secondary indexes `target` lacks. DDL commits on its own in MySQL, so
    /// this runs before the last chunk's transaction rather than in it: should that
    /// transaction fail, the copy resumes into an indexed table, which is slower but
    /// the same.
    async fn add_missing_indexes(&mut self, target: &TargetTable) -> Result<()> {
        let existing: Vec<String> = self
            .conn
            .exec(
                "SELECT DISTINCT INDEX_NAME FROM information_schema.STATISTICS
                 WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?",
                (&target.database, &target.name),
            )
            .await
            .map_err(|e| {
                driver_error(
                    &format!("reading the indexes of {}", target.qualified_name()),
                    e,
                )
            })?;
        let existing: HashSet<String> = existing.into_iter().collect();
        if let Some(statement) = target.add_indexes_statement(&existing) {
            self.conn
                .query_drop(statement)
                .await
                .map_err(|e| driver_error(&format!("indexing {}", target.qualified_name()), e))?;
        }
        Ok(())
    }
}

impl Writer {
    /// Empties the target table of `table` and removes its checkpoint, in one
    /// transaction, so that the next run copies it again from the start: killed
    /// midway, the table keeps both its rows and its checkpoint. A `DELETE`, as
    /// `TRUNCATE` would commit on its own.
    pub async fn reset_table(&mut self, table: &TableName) -> Result<()> {
        let name = planned_target(&self.targets, table)?.qualified_name();
        let Writer {
            conn,
            checkpoints: store,
            ..
        } = self;
        let mut transaction = begin(conn).await?;
        transaction
            .query_drop(format!("DELETE FROM {name}"))
            .await
            .map_err(|e| driver_error(&format!("emptying {name}"), e).with_table(table.clone()))?;
        store.remove(&mut transaction, table).await?;
        transaction
            .commit()
            .await
            .map_err(|e| driver_error("committing the reset of a table", e))
    }
}

impl Target for Writer {
    /// Creates the table when absent; an existing table is used as it is.
    async fn prepare_table(&mut self, source: &Arc<TableSchema>) -> Result<()> {
        let target = self.plan_table(source)?;
        self.conn
            .query_drop(target.create_statement())
            .await
            .map_err(|e| {
                driver_error(&format!("creating {}", target.qualified_name()), e)
                    .with_table(source.name.clone())
            })?;
        for index in &target.skipped_indexes {
            tracing::warn!(table = %source.name, "{index} has no MySQL counterpart and is not created");
        }
        Ok(())
    }

    /// The checkpoints of the planned tables; a table planned for the first time has
    /// none.
    async fn checkpoints(&mut self) -> Result<Vec<(TableName, Checkpoint)>> {
        let planned: Vec<&TableName> = self.targets.keys().collect();
        self.checkpoints.read(&mut self.conn, &planned).await
    }

    /// By the writer's [`CopyMethod`], in one transaction with the checkpoint; the
    /// secondary indexes are added before the last chunk.
    async fn write_chunk(
        &mut self,
        table: &TableName,
        rows: &[Row],
        checkpoint: &Checkpoint,
    ) -> Result<()> {
        let target = planned_target(&self.targets, table)?.clone();
        if let CopyProgress::Done { .. } = checkpoint.copy {
            self.add_missing_indexes(&target).await?;
        }
        let name = target.qualified_name();
        let method = self.copy_method;
        if method == CopyMethod::LoadData {
            // The driver asks for the data when the server does, inside the
            // transaction below, which only lends the connection out for queries.
            let pieces = infile_format::encode(&target, rows, INFILE_PIECE.min(self.packet))
                .map_err(|e| e.with_table(table.clone()))?;
            self.conn.set_infile_handler(async move {
                Ok(futures_util::stream::iter(pieces.into_iter().map(Ok)).boxed())
            });
        }
        let Writer {
            conn,
            packet,
            checkpoints: store,
            ..
        } = self;
        let mut transaction = begin(conn).await?;
        let held = store.locked(&mut transaction, &[table]).await?;
        checkpoint.check_chunk_follows(held.get(table), rows.len(), table, store.name())?;
        let doing = format!("copying into {name}");
        match method {
            CopyMethod::LoadData => load(&mut transaction, &target, rows.len(), &doing)
                .await
                .map_err(|e| e.with_table(table.clone()))?,
            CopyMethod::Insert => insert_statement(&target, String::new())
                .execute(&mut transaction, &target.columns, rows, *packet, &doing)
                .await
                .map_err(|e| e.with_table(table.clone()))?,
        }
        store
            .save(&mut transaction, &[(table.clone(), checkpoint.clone())])
            .await?;
        transaction
            .commit()
            .await
            .map_err(|e| driver_error("committing a copied chunk", e))
    }

    /// One transaction: the checkpoints are locked and checked not to move backward;
    /// then per table the truncate, the deletes by key and the upserts, each in
    /// multi-row statements; then the checkpoints.
    async fn apply(
        &mut self,
        batch: &ChangeBatch,
        checkpoints: &[(TableName, Checkpoint)],
    ) -> Result<()> {
        let targets: Vec<TargetTable> = batch
            .tables()
            .map(|table| planned_target(&self.targets, &table.table.name).cloned())
            .collect::<Result<_>>()?;
        let Writer {
            conn,
            packet,
            checkpoints: store,
            ..
        } = self;
        let mut transaction = begin(conn).await?;
        let names: Vec<&TableName> = checkpoints.iter().map(|(name, _)| name).collect();
        let held = store.locked(&mut transaction, &names).await?;
        for (table, checkpoint) in checkpoints {
            if let Some(held) = held.get(table) {
                checkpoint.check_moves_forward(held, table, store.name())?;
            }
        }
        for (changes, target) in batch.tables().zip(&targets) {
            let name = target.qualified_name();
            let source = &changes.table.name;
            let doing = |what: &str| format!("{what} {name}");
            if changes.truncate {
                // TRUNCATE is DDL, which commits whatever the transaction holds; a
                // DELETE of every row stays in it, with the checkpoint.
                transaction
                    .query_drop(format!("DELETE FROM {name}"))
                    .await
                    .map_err(|e| driver_error(&doing("emptying"), e).with_table(source.clone()))?;
            }
            // An upsert matches a row by any unique key: with a unique key besides the
            // primary key, a batch that swaps two rows' values of it would update the
            // wrong row. Such a table's upserted rows are deleted and inserted anew.
            let replace = target.has_secondary_unique();
            let upserted_keys = changes.upserts().filter(|_| replace).map(|row| {
                changes
                    .key_positions()
                    .iter()
                    .map(|&i| row[i].clone())
                    .collect::<Vec<Value>>()
            });
            let keys: Vec<Vec<Value>> = changes
                .deletes()
                .map(<[Value]>::to_vec)
                .chain(upserted_keys)
                .collect();
            let key_columns: Vec<TargetColumn> = target
                .primary_key
                .iter()
                .filter_map(|k| target.column(k).cloned())
                .collect();
            delete_statement(target)
                .execute(
                    &mut transaction,
                    &key_columns,
                    &keys,
                    *packet,
                    &doing("deleting from"),
                )
                .await
                .map_err(|e| e.with_table(source.clone()))?;
            let upserts: Vec<&Row> = changes.upserts().collect();
            upsert_statement(target, replace)
                .execute(
                    &mut transaction,
                    &target.columns,
                    &upserts,
                    *packet,
                    &doing("upserting into"),
                )
                .await
                .map_err(|e| e.with_table(source.clone()))?;
        }
        store.save(&mut transaction, checkpoints).await?;
        transaction
            .commit()
            .await
            .map_err(|e| driver_error("committing a batch", e))
    }
}

/// A transaction on `conn`. Should its future be dropped before the end (a stop
/// mid-write), the driver rolls it back before the connection's next statement.
async fn begin(conn: &mut Conn) -> Result<Transaction<'_>> {
    conn.start_transaction(TxOpts::default())
        .await
        .map_err(|e| driver_error("starting a transaction", e))
}

/// Runs `target`'s `LOAD DATA` for the `rows` rows its infile handler holds.
async fn load(
    transaction: &mut Transaction<'_>,
    target: &TargetTable,
    rows: usize,
    doing: &str,
) -> Result<()> {
    transaction
        .query_drop(infile_format::load_statement(target))
        .await
        .map_err(|e| driver_error(doing, e))?;
    // LOCAL makes the server skip or cut what it cannot take, with a warning: every
    // row must have gone in, untouched.
    let loaded = transaction.affected_rows();
    if transaction.get_warnings() == 0 && loaded == rows as u64 {
        return Ok(());
    }
    let warnings: Vec<(String, u32, String)> = transaction
        .query("SHOW WARNINGS LIMIT 1")
        .await
        .map_err(|e| driver_error(doing, e))?;
    let said = warnings
        .first()
        .map_or(String::new(), |(_, code, message)| {
            format!(": {message} ({code})")
        });
    Err(Error::new(
        ErrorKind::InvalidData,
        format!("{doing} stored {loaded} of {rows} rows with warnings{said}"),
    ))
}

/// A multi-row `INSERT` of whole rows into `target`, ending in `tail`.
fn insert_statement(target: &TargetTable, tail: String) -> MultiRow {
    let columns: Vec<String> = target.columns.iter().map(|c| quote(&c.name)).collect();
    MultiRow {
        head: format!(
            "INSERT INTO {} ({}) VALUES ",
            target.qualified_name(),
            columns.join(", ")
        ),
        row: placeholders(columns.len()),
        separator: ", ",
        tail,
        params_per_row: columns.len(),
    }
}

/// An `INSERT` of whole rows: plain when `replace` (their keys were deleted), else
/// `ON DUPLICATE KEY UPDATE` of every column but the key's. `VALUES(c)` rather than
/// MySQL 8's row alias, which MariaDB lacks.
fn upsert_statement(target: &TargetTable, replace: bool) -> MultiRow {
    let tail = if replace {
        String::new()
    } else {
        let mut updates: Vec<String> = target
            .columns
            .iter()
            .filter(|c| !target.primary_key.contains(&c.name))
            .map(|c| format!("{0} = VALUES({0})", quote(&c.name)))
            .collect();
        if updates.is_empty() {
            // Every column is the key's: there is nothing to update, and the clause
            // needs one assignment.
            let key = quote(&target.primary_key[0]);
            updates.push(format!("{key} = {key}"));
        }
        format!(" ON DUPLICATE KEY UPDATE {}", updates.join(", "))
    };
    insert_statement(target, tail)
}

/// A `DELETE` by key: `k IN (?, ?)`, or `(a = ? AND b = ?) OR ...` for a composite
/// key, which every version turns into index lookups.
fn delete_statement(target: &TargetTable) -> MultiRow {
    let head = format!("DELETE FROM {} WHERE ", target.qualified_name());
    match target.primary_key.as_slice() {
        [key] => MultiRow {
            head: format!("{head}{} IN (", quote(key)),
            row: "?".into(),
            separator: ", ",
            tail: ")".into(),
            params_per_row: 1,
        },
        keys => {
            let terms: Vec<String> = keys.iter().map(|k| format!("{} = ?", quote(k))).collect();
            MultiRow {
                head,
                row: format!("({})", terms.join(" AND ")),
                separator: " OR ",
                tail: String::new(),
                params_per_row: keys.len(),
            }
        }
    }
}
