//! The database a pair writes.

use std::sync::Arc;

use dbsync_config::{ConnectionUrl, Engine, Pair};
use dbsync_core::pipeline::Target;
use dbsync_core::{ChangeBatch, Checkpoint, Error, ErrorKind, Result, Row, TableName, TableSchema};
use dbsync_postgres::target_type::MappingOptions;

use crate::connection::{mysql_options, postgres_config};

/// Writers differ much in size; the large ones are boxed so that a lane of the copy
/// does not carry the largest's size whatever its engine.
#[derive(Debug)]
pub(crate) enum AnyTarget {
    Postgres(Box<dbsync_postgres::writer::Writer>),
    Mysql(Box<dbsync_mysql::writer::Writer>),
    Sqlite(dbsync_sqlite::writer::Writer),
}

impl AnyTarget {
    /// Connects to the target of pair `name`; writes nothing.
    pub(crate) async fn open(url: &ConnectionUrl, name: &str, pair: &Pair) -> Result<AnyTarget> {
        match url.engine() {
            Engine::PostgreSql => {
                let options = MappingOptions {
                    zero_date: pair.zero_date,
                    enum_mapping: pair.enum_mapping,
                    set_mapping: pair.set_mapping,
                };
                let writer = dbsync_postgres::writer::Writer::connect(
                    &postgres_config(url),
                    name,
                    &pair.target_schema,
                    pair.effective_identifier_case(Engine::PostgreSql),
                    options,
                )
                .await?;
                Ok(AnyTarget::Postgres(Box::new(writer)))
            }
            Engine::MySql => {
                let writer =
                    dbsync_mysql::writer::Writer::connect(mysql_options(url), name).await?;
                Ok(AnyTarget::Mysql(Box::new(writer)))
            }
            Engine::Sqlite => {
                let options = dbsync_sqlite::target_type::MappingOptions::new(
                    pair.zero_date,
                    pair.enum_mapping,
                    pair.set_mapping,
                )?;
                let path = url.sqlite_path().ok_or_else(|| {
                    Error::new(
                        ErrorKind::Config,
                        format!("{url} names no file; write sqlite://PATH"),
                    )
                })?;
                let writer = dbsync_sqlite::writer::Writer::open(path, name, options).await?;
                Ok(AnyTarget::Sqlite(writer))
            }
        }
    }

    /// Checks what the target must allow before anything is written.
    pub(crate) async fn check(&mut self) -> Result<()> {
        match self {
            AnyTarget::Postgres(writer) => writer.check().await,
            // Connecting checked what the writer needs (the database, `local_infile`);
            // opening the file checked that it can be written.
            AnyTarget::Mysql(_) | AnyTarget::Sqlite(_) => Ok(()),
        }
    }

    /// Writes source table `source` (by name) into table `target`.
    pub(crate) fn rename(&mut self, source: &str, target: &str) {
        match self {
            AnyTarget::Postgres(writer) => writer.rename(source, target),
            AnyTarget::Mysql(writer) => writer.rename(source, target),
            AnyTarget::Sqlite(writer) => writer.rename(source, target),
        }
    }

    /// Plans the target table of `source` without writing anything: a column the
    /// target cannot hold fails here.
    pub(crate) fn plan_table(&mut self, source: &Arc<TableSchema>) -> Result<()> {
        match self {
            AnyTarget::Postgres(writer) => writer.plan_table(source).map(drop),
            AnyTarget::Mysql(writer) => writer.plan_table(source).map(drop),
            AnyTarget::Sqlite(writer) => writer.plan_table(source).map(drop),
        }
    }
}

impl Target for AnyTarget {
    async fn prepare_table(&mut self, source: &Arc<TableSchema>) -> Result<()> {
        match self {
            AnyTarget::Postgres(writer) => writer.prepare_table(source).await,
            AnyTarget::Mysql(writer) => writer.prepare_table(source).await,
            AnyTarget::Sqlite(writer) => writer.prepare_table(source).await,
        }
    }

    async fn checkpoints(&mut self) -> Result<Vec<(TableName, Checkpoint)>> {
        match self {
            AnyTarget::Postgres(writer) => writer.checkpoints().await,
            AnyTarget::Mysql(writer) => writer.checkpoints().await,
            AnyTarget::Sqlite(writer) => writer.checkpoints().await,
        }
    }

    async fn write_chunk(
        &mut self,
        table: &TableName,
        rows: &[Row],
        checkpoint: &Checkpoint,
    ) -> Result<()> {
        match self {
            AnyTarget::Postgres(writer) => writer.write_chunk(table, rows, checkpoint).await,
            AnyTarget::Mysql(writer) => writer.write_chunk(table, rows, checkpoint).await,
            AnyTarget::Sqlite(writer) => writer.write_chunk(table, rows, checkpoint).await,
        }
    }

    async fn apply(
        &mut self,
        batch: &ChangeBatch,
        checkpoints: &[(TableName, Checkpoint)],
    ) -> Result<()> {
        match self {
            AnyTarget::Postgres(writer) => writer.apply(batch, checkpoints).await,
            AnyTarget::Mysql(writer) => writer.apply(batch, checkpoints).await,
            AnyTarget::Sqlite(writer) => writer.apply(batch, checkpoints).await,
        }
    }
}
