//! The database a pair writes.

use std::sync::Arc;
use std::time::Instant;

use dbsync_config::{ConnectionUrl, Engine, Pair};
use dbsync_core::pipeline::Target;
use dbsync_core::{ChangeBatch, Checkpoint, Error, ErrorKind, Result, Row, TableName, TableSchema};
use dbsync_postgres::target_type::MappingOptions;

use crate::connection::{mysql_options, postgres_config};
use crate::progress::{self, ProgressSender};

/// The writer of the target's engine, reporting what it commits when asked to.
#[derive(Debug)]
pub(crate) struct AnyTarget {
    writer: Writer,
    progress: Option<ProgressSender>,
}

/// Writers differ much in size; the large ones are boxed so that a lane of the copy
/// does not carry the largest's size whatever its engine.
#[derive(Debug)]
enum Writer {
    Postgres(Box<dbsync_postgres::writer::Writer>),
    Mysql(Box<dbsync_mysql::writer::Writer>),
    Sqlite(dbsync_sqlite::writer::Writer),
}

impl AnyTarget {
    /// Connects to the target of pair `name`; writes nothing.
    pub(crate) async fn open(url: &ConnectionUrl, name: &str, pair: &Pair) -> Result<AnyTarget> {
        let writer = Writer::open(url, name, pair).await?;
        Ok(AnyTarget {
            writer,
            progress: None,
        })
    }

    /// Reports every write that commits to `progress` from now on.
    pub(crate) fn report_to(&mut self, progress: ProgressSender) {
        self.progress = Some(progress);
    }

    /// Checks what the target must allow before anything is written.
    pub(crate) async fn check(&mut self) -> Result<()> {
        match &mut self.writer {
            Writer::Postgres(writer) => writer.check().await,
            // Connecting checked what the writer needs (the database, `local_infile`);
            // opening the file checked that it can be written.
            Writer::Mysql(_) | Writer::Sqlite(_) => Ok(()),
        }
    }

    /// Writes source table `source` (by name) into table `target`.
    pub(crate) fn rename(&mut self, source: &str, target: &str) {
        match &mut self.writer {
            Writer::Postgres(writer) => writer.rename(source, target),
            Writer::Mysql(writer) => writer.rename(source, target),
            Writer::Sqlite(writer) => writer.rename(source, target),
        }
    }

    /// Plans the target table of `source` without writing anything: a column the
    /// target cannot hold fails here.
    pub(crate) fn plan_table(&mut self, source: &Arc<TableSchema>) -> Result<()> {
        match &mut self.writer {
            Writer::Postgres(writer) => writer.plan_table(source).map(drop),
            Writer::Mysql(writer) => writer.plan_table(source).map(drop),
            Writer::Sqlite(writer) => writer.plan_table(source).map(drop),
        }
    }
    /// Empties the target table of `table` and removes its checkpoint in one
    /// transaction: the next run copies it again from the start.
    pub(crate) async fn reset_table(&mut self, table: &TableName) -> Result<()> {
        match &mut self.writer {
            Writer::Postgres(writer) => writer.reset_table(table).await,
            Writer::Mysql(writer) => writer.reset_table(table).await,
            Writer::Sqlite(writer) => writer.reset_table(table).await,
        }
    }
}

impl Writer {
    async fn open(url: &ConnectionUrl, name: &str, pair: &Pair) -> Result<Writer> {
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
                Ok(Writer::Postgres(Box::new(writer)))
            }
            Engine::MySql => {
                let writer =
                    dbsync_mysql::writer::Writer::connect(mysql_options(url), name).await?;
                Ok(Writer::Mysql(Box::new(writer)))
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
                Ok(Writer::Sqlite(writer))
            }
        }
    }
}

impl Target for AnyTarget {
    async fn prepare_table(&mut self, source: &Arc<TableSchema>) -> Result<()> {
        match &mut self.writer {
            Writer::Postgres(writer) => writer.prepare_table(source).await,
            Writer::Mysql(writer) => writer.prepare_table(source).await,
            Writer::Sqlite(writer) => writer.prepare_table(source).await,
        }
    }

    async fn checkpoints(&mut self) -> Result<Vec<(TableName, Checkpoint)>> {
        match &mut self.writer {
            Writer::Postgres(writer) => writer.checkpoints().await,
            Writer::Mysql(writer) => writer.checkpoints().await,
            Writer::Sqlite(writer) => writer.checkpoints().await,
        }
    }

    async fn write_chunk(
        &mut self,
        table: &TableName,
        rows: &[Row],
        checkpoint: &Checkpoint,
    ) -> Result<()> {
        let started = Instant::now();
        match &mut self.writer {
            Writer::Postgres(writer) => writer.write_chunk(table, rows, checkpoint).await,
            Writer::Mysql(writer) => writer.write_chunk(table, rows, checkpoint).await,
            Writer::Sqlite(writer) => writer.write_chunk(table, rows, checkpoint).await,
        }?;
        if let Some(progress) = &self.progress {
            progress::copied(progress, table, rows.len(), checkpoint, started.elapsed());
        }
        Ok(())
    }

    async fn apply(
        &mut self,
        batch: &ChangeBatch,
        checkpoints: &[(TableName, Checkpoint)],
    ) -> Result<()> {
        let started = Instant::now();
        match &mut self.writer {
            Writer::Postgres(writer) => writer.apply(batch, checkpoints).await,
            Writer::Mysql(writer) => writer.apply(batch, checkpoints).await,
            Writer::Sqlite(writer) => writer.apply(batch, checkpoints).await,
        }?;
        if let Some(progress) = &self.progress {
            progress::applied(progress, batch, checkpoints, started.elapsed());
        }
        Ok(())
    }
}
