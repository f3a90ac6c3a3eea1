//! Writing a pair's tables into PostgreSQL: the copy's chunks and the stream's
//! batches, each in one transaction with the checkpoints it moves.

use std::collections::{HashMap, HashSet};

use bytes::Bytes;
use std::sync::Arc;

use dbsync_core::pipeline::{Target, planned_target};
use dbsync_core::{
    ChangeBatch, Checkpoint, CopyProgress, Error, Result, Row, TableChanges, TableName,
    TableSchema, Value,
};
use futures_util::SinkExt;
use tokio_postgres::{Client, NoTls, Transaction};

use crate::copy_format::CopyEncoder;
use crate::error::driver_error;
use crate::sql::{literal, quote};
use dbsync_config::IdentifierCase;

use crate::target_table::TargetTable;
use crate::target_type::MappingOptions;

/// The table in the target schema that holds each table's [`Checkpoint`].
pub const CHECKPOINT_TABLE: &str = "dbsync_checkpoint";

/// A connection to the target that writes one pair.
#[derive(Debug)]
pub struct Writer {
    client: Client,
    pair: String,
    schema: String,
    checkpoint_table: String,
    options: MappingOptions,
    case: IdentifierCase,
    /// Target table names that differ from the source's (per-table `target`, a prefix).
    renames: HashMap<String, String>,
    /// The target of each prepared source table.
    targets: HashMap<TableName, TargetTable>,
    /// Target tables whose staging tables exist in this session.
    staged: HashSet<String>,
    checkpoint_table_ready: bool,
}

impl Writer {
    /// Connects to the target that receives the tables in `schema`.
    pub async fn connect(
        config: &tokio_postgres::Config,
        pair: &str,
        schema: &str,
        case: IdentifierCase,
        options: MappingOptions,
    ) -> Result<Writer> {
        let (client, connection) = config
            .connect(NoTls)
            .await
            .map_err(|e| driver_error("connecting to the target", e))?;
        tokio::spawn(async move {
            // The error, if any, surfaces on the next query as a closed connection.
            let _ = connection.await;
        });
        let schema = case.apply(schema).into_owned();
        let checkpoint_table = format!("{}.{}", quote(&schema), quote(CHECKPOINT_TABLE));
        let writer = Writer {
            client,
            pair: pair.to_owned(),
            schema,
            checkpoint_table,
            options,
            case,
            renames: HashMap::new(),
            targets: HashMap::new(),
            staged: HashSet::new(),
            checkpoint_table_ready: false,
        };
        writer
            .client
            .batch_execute("SET TIME ZONE 'UTC'")
            .await
            .map_err(|e| driver_error("setting the session's time zone", e))?;
        Ok(writer)
    }

    /// Checks what the target must allow before anything is written: see
    /// [`crate::preflight`].
    pub async fn check(&self) -> Result<()> {
        crate::preflight::check_target(&self.client, &self.schema).await
    }

    /// Creates the schema and the checkpoint table when absent, at the first table
    /// prepared: connecting and planning write nothing, so a run refused before its
    /// first table leaves the target as it was.
    async fn ensure_checkpoint_table(&mut self) -> Result<()> {
        if self.checkpoint_table_ready {
            return Ok(());
        }
        self.client
            .batch_execute(&format!(
                "CREATE SCHEMA IF NOT EXISTS {schema};
                 CREATE TABLE IF NOT EXISTS {table} (
                   pair text NOT NULL,
                   source_table text NOT NULL,
                   checkpoint jsonb NOT NULL,
                   updated_at timestamptz NOT NULL DEFAULT now(),
                   PRIMARY KEY (pair, source_table)
                 )",
                schema = quote(&self.schema),
                table = self.checkpoint_table
            ))
            .await
            .map_err(|e| driver_error("creating the checkpoint table", e))?;
        self.checkpoint_table_ready = true;
        Ok(())
    }

    /// Writes source table `source` (by name) into table `target` of the schema.
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
        let target = TargetTable::plan(
            source,
            &self.schema,
            name,
            &source.primary_key,
            self.case,
            self.options,
        )?;
        self.targets.insert(source.name.clone(), target.clone());
        Ok(target)
    }

    async fn transaction(&mut self) -> Result<Transaction<'_>> {
        self.client
            .transaction()
            .await
            .map_err(|e| driver_error("starting a transaction", e))
    }

    /// Session-private staging tables, emptied at each commit, created once per
    /// connection.
    async fn ensure_staging(&mut self, target: &TargetTable) -> Result<()> {
        let name = target.qualified_name();
        if self.staged.contains(&name) {
            return Ok(());
        }
        let key = key_columns(target).join(", ");
        self.client
            .batch_execute(&format!(
                "CREATE TEMP TABLE IF NOT EXISTS {upsert} (LIKE {name} EXCLUDING ALL) ON COMMIT DELETE ROWS;
                 CREATE TEMP TABLE IF NOT EXISTS {delete} ON COMMIT DELETE ROWS AS SELECT {key} FROM {name} WITH NO DATA;",
                upsert = staging_name(target, "upsert"),
                delete = staging_name(target, "delete"),
            ))
            .await
            .map_err(|e| driver_error(&format!("creating the staging tables of {name}"), e))?;
        self.staged.insert(name);
        Ok(())
    }
}

impl Writer {
    /// Empties the target table of `table` and removes its checkpoint, in one
    /// transaction, so that the next run copies it again from the start: killed
    /// midway, the table keeps both its rows and its checkpoint.
    pub async fn reset_table(&mut self, table: &TableName) -> Result<()> {
        let name = planned_target(&self.targets, table)?.qualified_name();
        let (pair, checkpoint_table) = (self.pair.clone(), self.checkpoint_table.clone());
        let transaction = self.transaction().await?;
        transaction
            .batch_execute(&format!("TRUNCATE {name}"))
            .await
            .map_err(|e| {
                driver_error(&format!("truncating {name}"), e).with_table(table.clone())
            })?;
        transaction
            .execute(
                &format!("DELETE FROM {checkpoint_table} WHERE pair = $1 AND source_table = $2"),
                &[&pair, &table.name],
            )
            .await
            .map_err(|e| driver_error("removing a checkpoint", e))?;
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
        self.ensure_checkpoint_table().await?;
        for statement in target.table_statements() {
            self.client
                .batch_execute(&statement)
                .await
                .map_err(|e| driver_error(&format!("creating {}", target.qualified_name()), e))?;
        }
        for index in &target.skipped_indexes {
            tracing::warn!(table = %source.name, "{index} has no PostgreSQL counterpart and is not created");
        }
        Ok(())
    }

    /// The checkpoints of the prepared tables; a table prepared for the first time has
    /// none.
    async fn checkpoints(&mut self) -> Result<Vec<(TableName, Checkpoint)>> {
        self.ensure_checkpoint_table().await?;
        let rows = self
            .client
            .query(
                &format!(
                    "SELECT source_table, checkpoint::text FROM {} WHERE pair = $1",
                    self.checkpoint_table
                ),
                &[&self.pair],
            )
            .await
            .map_err(|e| driver_error("reading the checkpoints", e))?;
        let mut checkpoints = Vec::new();
        for row in rows {
            let name: String = row.get(0);
            let Some(source) = self.targets.keys().find(|source| source.name == name) else {
                continue; // a table no longer selected
            };
            let json: String = row.get(1);
            let checkpoint = Checkpoint::from_json(&json, source, &self.checkpoint_table)?;
            checkpoints.push((source.clone(), checkpoint));
        }
        Ok(checkpoints)
    }

    async fn write_chunk(
        &mut self,
        table: &TableName,
        rows: &[Row],
        checkpoint: &Checkpoint,
    ) -> Result<()> {
        let target = planned_target(&self.targets, table)?.clone();
        let (options, pair, checkpoint_table) = (
            self.options,
            self.pair.clone(),
            self.checkpoint_table.clone(),
        );
        let transaction = self.transaction().await?;
        // Under the checkpoint's row lock, the table must hold exactly the rows before
        // this chunk.
        let held = locked_checkpoint(&transaction, &checkpoint_table, &pair, table).await?;
        checkpoint.check_chunk_follows(held.as_ref(), rows.len(), table, &checkpoint_table)?;
        copy_rows(
            &transaction,
            &target.qualified_name(),
            &target,
            rows.iter(),
            options,
        )
        .await?;
        // The secondary indexes are built with the last chunk, in its transaction: a
        // table whose checkpoint says the copy is done has them.
        if let CopyProgress::Done { .. } = checkpoint.copy {
            for statement in target.index_statements() {
                transaction.batch_execute(&statement).await.map_err(|e| {
                    driver_error(&format!("indexing {}", target.qualified_name()), e)
                })?;
            }
        }
        save_checkpoints(
            &transaction,
            &checkpoint_table,
            &pair,
            &[(table.clone(), checkpoint.clone())],
        )
        .await?;
        transaction
            .commit()
            .await
            .map_err(|e| driver_error("committing a copied chunk", e))
    }

    /// Per table, `TRUNCATE` if asked, deletes by key through a staged key list, and
    /// upserts through a staged copy of the rows; then the checkpoints; one transaction.
    async fn apply(
        &mut self,
        batch: &ChangeBatch,
        checkpoints: &[(TableName, Checkpoint)],
    ) -> Result<()> {
        let targets: Vec<TargetTable> = batch
            .tables()
            .map(|table| planned_target(&self.targets, &table.table.name).cloned())
            .collect::<Result<_>>()?;
        for target in &targets {
            self.ensure_staging(target).await?;
        }
        let (options, pair, checkpoint_table) = (
            self.options,
            self.pair.clone(),
            self.checkpoint_table.clone(),
        );
        let transaction = self.transaction().await?;
        for (table, target) in batch.tables().zip(&targets) {
            apply_table(&transaction, table, target, options)
                .await
                .map_err(|e| e.with_table(table.table.name.clone()))?;
        }
        save_checkpoints(&transaction, &checkpoint_table, &pair, checkpoints).await?;
        transaction
            .commit()
            .await
            .map_err(|e| driver_error("committing a batch", e))
    }
}

fn key_columns(target: &TargetTable) -> Vec<String> {
    target.primary_key.iter().map(|k| quote(k)).collect()
}

/// The target restricted to its key columns, in key order, to stage deleted keys.
fn key_target(target: &TargetTable) -> TargetTable {
    let columns = target
        .primary_key
        .iter()
        .filter_map(|k| target.columns.iter().find(|c| &c.name == k).cloned())
        .collect();
    TargetTable {
        columns,
        indexes: Vec::new(),
        skipped_indexes: Vec::new(),
        ..target.clone()
    }
}

/// A staging table's name, unique per target table: temporary tables live in their
/// own schema, so the target's schema is folded into the name.
fn staging_name(target: &TargetTable, purpose: &str) -> String {
    quote(&format!(
        "dbsync_{purpose}_{}_{}",
        target.schema, target.name
    ))
}

fn upsert_statement(target: &TargetTable, stage: &str) -> String {
    let columns: Vec<String> = target.columns.iter().map(|c| quote(&c.name)).collect();
    let key = key_columns(target);
    let updates: Vec<String> = columns
        .iter()
        .filter(|c| !key.contains(c))
        .map(|c| format!("{c} = EXCLUDED.{c}"))
        .collect();
    let action = if updates.is_empty() {
        "DO NOTHING".to_owned()
    } else {
        format!("DO UPDATE SET {}", updates.join(", "))
    };
    format!(
        "INSERT INTO {} ({cols}) SELECT {cols} FROM {stage} ON CONFLICT ({}) {action}",
        target.qualified_name(),
        key.join(", "),
        cols = columns.join(", ")
    )
}

/// One table's part of a batch: the truncate, the deletes by key through the delete
/// staging table, the upserts through the upsert staging table.
async fn apply_table(
    transaction: &Transaction<'_>,
    table: &TableChanges,
    target: &TargetTable,
    options: MappingOptions,
) -> Result<()> {
    let name = target.qualified_name();
    let doing = |what: &str| format!("{what} {name}");
    if table.truncate {
        transaction
            .batch_execute(&format!("TRUNCATE {name}"))
            .await
            .map_err(|e| driver_error(&doing("truncating"), e))?;
    }
    let deletes: Vec<Row> = table.deletes().map(<[Value]>::to_vec).collect();
    if !deletes.is_empty() {
        let stage = staging_name(target, "delete");
        copy_rows(
            transaction,
            &stage,
            &key_target(target),
            deletes.iter(),
            options,
        )
        .await?;
        let matches: Vec<String> = key_columns(target)
            .iter()
            .map(|k| format!("t.{k} = s.{k}"))
            .collect();
        transaction
            .batch_execute(&format!(
                "DELETE FROM {name} t USING {stage} s WHERE {}",
                matches.join(" AND ")
            ))
            .await
            .map_err(|e| driver_error(&doing("deleting from"), e))?;
    }
    let mut upserts = table.upserts().peekable();
    if upserts.peek().is_some() {
        let stage = staging_name(target, "upsert");
        copy_rows(transaction, &stage, target, upserts, options).await?;
        transaction
            .batch_execute(&upsert_statement(target, &stage))
            .await
            .map_err(|e| driver_error(&doing("upserting into"), e))?;
    }
    Ok(())
}

/// Streams `rows` into `table` (the target or a staging table shaped like `target`)
/// with binary `COPY`, in pieces of about a megabyte.
async fn copy_rows<'r>(
    transaction: &Transaction<'_>,
    table: &str,
    target: &TargetTable,
    rows: impl Iterator<Item = &'r Row>,
    options: MappingOptions,
) -> Result<()> {
    const PIECE: usize = 1 << 20;
    let columns: Vec<String> = target.columns.iter().map(|c| quote(&c.name)).collect();
    let names: Vec<String> = target.columns.iter().map(|c| c.name.clone()).collect();
    let types: Vec<_> = target.columns.iter().map(|c| c.pg_type.clone()).collect();
    let statement = format!(
        "COPY {table} ({}) FROM STDIN (FORMAT binary)",
        columns.join(", ")
    );
    let sink = transaction
        .copy_in(&statement)
        .await
        .map_err(|e| driver_error(&format!("copying into {table}"), e))?;
    futures_util::pin_mut!(sink);
    let mut encoder = CopyEncoder::new(options);
    for row in rows {
        encoder
            .push_row(row, &types, &names)
            .map_err(|e| Error::new(e.kind(), format!("{table}: {e}")))?;
        if encoder.len() >= PIECE {
            sink.send(Bytes::from(encoder.take()))
                .await
                .map_err(|e| driver_error(&format!("copying into {table}"), e))?;
        }
    }
    sink.send(Bytes::from(encoder.finish()))
        .await
        .map_err(|e| driver_error(&format!("copying into {table}"), e))?;
    sink.finish()
        .await
        .map_err(|e| driver_error(&format!("copying into {table}"), e))?;
    Ok(())
}

/// The checkpoint of `source`, locked until the end of `transaction`.
async fn locked_checkpoint(
    transaction: &Transaction<'_>,
    checkpoint_table: &str,
    pair: &str,
    source: &TableName,
) -> Result<Option<Checkpoint>> {
    let row = transaction
        .query_opt(
            &format!(
                "SELECT checkpoint::text FROM {checkpoint_table} WHERE pair = $1 AND source_table = $2 FOR UPDATE"
            ),
            &[&pair, &source.name],
        )
        .await
        .map_err(|e| driver_error(&format!("reading the checkpoint of {source}"), e))?;
    row.map(|row| {
        let json: String = row.get(0);
        Checkpoint::from_json(&json, source, checkpoint_table)
    })
    .transpose()
}

/// Writes `checkpoints` in one statement.
async fn save_checkpoints(
    transaction: &Transaction<'_>,
    checkpoint_table: &str,
    pair: &str,
    checkpoints: &[(TableName, Checkpoint)],
) -> Result<()> {
    if checkpoints.is_empty() {
        return Ok(());
    }
    let mut rows = Vec::with_capacity(checkpoints.len());
    for (source, checkpoint) in checkpoints {
        let json = checkpoint.to_json(source)?;
        rows.push(format!(
            "({}, {}, {}::jsonb, now())",
            literal(pair),
            literal(&source.name),
            literal(&json)
        ));
    }
    // Literals rather than parameters: the checkpoint goes in as jsonb text, which a
    // text parameter cannot be without a cast the driver refuses.
    transaction
        .batch_execute(&format!(
            "INSERT INTO {checkpoint_table} (pair, source_table, checkpoint, updated_at)
             VALUES {}
             ON CONFLICT (pair, source_table) DO UPDATE SET checkpoint = EXCLUDED.checkpoint, updated_at = now()",
            rows.join(",\n                    ")
        ))
        .await
        .map_err(|e| driver_error("saving the checkpoints", e))
}
