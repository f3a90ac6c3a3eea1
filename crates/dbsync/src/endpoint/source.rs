//! The database a pair reads.

use std::sync::Arc;

use dbsync_config::{Capture, ConnectionUrl, Engine};
use dbsync_core::pipeline::Source;
use dbsync_core::verify::{
    DatabaseHash, Key, KeyRange, RangeSummary, SnapshotSide, VerifySide, VerifyTable,
};
use dbsync_core::{Error, ErrorKind, Position, Result, Row, TableSchema, Value};
use dbsync_mysql::audit_log::AuditLog;
use dbsync_mysql::consistent_read;
use dbsync_mysql::source::MysqlSource;
use dbsync_postgres::source::PgSource;

use crate::connection::{mysql_options, postgres_config};

/// PostgreSQL tables sync from this schema.
const POSTGRES_SOURCE_SCHEMA: &str = "public";

#[derive(Debug)]
pub(crate) enum AnySource {
    Mysql(MysqlSource),
    Postgres(PgSource),
}

impl AnySource {
    pub(crate) async fn connect(url: &ConnectionUrl) -> Result<AnySource> {
        match url.engine() {
            Engine::MySql => Ok(AnySource::Mysql(
                MysqlSource::connect(mysql_options(url)).await?,
            )),
            Engine::PostgreSql => Ok(AnySource::Postgres(
                PgSource::connect(&postgres_config(url)).await?,
            )),
            engine => Err(Error::new(
                ErrorKind::Config,
                format!("this version of dbsync cannot read from {engine} yet"),
            )),
        }
    }

    /// Checks that the source allows `capture` of `tables` for pair `pair`, before
    /// anything is written.
    pub(crate) async fn check(
        &mut self,
        capture: Capture,
        database: &str,
        tables: &[Arc<TableSchema>],
        pair: &str,
    ) -> Result<()> {
        match (self, capture) {
            (AnySource::Mysql(source), Capture::Binlog) => {
                dbsync_mysql::preflight::check_binlog_source(source.conn(), database).await
            }
            (AnySource::Mysql(source), Capture::Triggers) => {
                dbsync_mysql::preflight::check_trigger_source(source.conn(), database, tables, pair)
                    .await
            }
            // Polling reads the tables, as the copy does: the copy's reads check it.
            (_, Capture::Poll) => Ok(()),
            (_, capture) => Err(Error::new(
                ErrorKind::Config,
                format!(
                    "this version of dbsync cannot capture changes by {} from this source yet",
                    capture.as_str()
                ),
            )),
        }
    }

    /// The connection to a MySQL/MariaDB source, for what only those have (triggers).
    pub(crate) fn mysql_conn(&mut self) -> Option<&mut mysql_async::Conn> {
        match self {
            AnySource::Mysql(source) => Some(source.conn()),
            AnySource::Postgres(_) => None,
        }
    }

    /// Every table of `database` but dbsync's own (the trigger audit log); of a
    /// PostgreSQL database, those of its `public` schema.
    pub(crate) async fn read_tables(&mut self, database: &str) -> Result<Vec<TableSchema>> {
        match self {
            AnySource::Mysql(source) => {
                let mut tables = dbsync_mysql::schema::read_tables(source.conn(), database).await?;
                tables.retain(|t| t.name.name != dbsync_mysql::audit_log::AUDIT_LOG);
                Ok(tables)
            }
            AnySource::Postgres(source) => {
                dbsync_postgres::schema::read_tables(source.client(), POSTGRES_SOURCE_SCHEMA).await
            }
        }
    }
}

impl Source for AnySource {
    async fn estimated_rows(&mut self, table: &TableSchema) -> Result<Option<u64>> {
        match self {
            AnySource::Mysql(source) => source.estimated_rows(table).await,
            AnySource::Postgres(source) => source.estimated_rows(table).await,
        }
    }

    async fn read_chunk(
        &mut self,
        table: &Arc<TableSchema>,
        after: Option<&[Value]>,
        limit: usize,
    ) -> Result<Vec<Row>> {
        match self {
            AnySource::Mysql(source) => source.read_chunk(table, after, limit).await,
            AnySource::Postgres(source) => source.read_chunk(table, after, limit).await,
        }
    }
}

impl VerifySide for AnySource {
    async fn read_range(
        &mut self,
        table: &VerifyTable,
        range: &KeyRange,
        limit: usize,
    ) -> Result<Vec<Row>> {
        match self {
            AnySource::Mysql(source) => source.read_range(table, range, limit).await,
            AnySource::Postgres(source) => source.read_range(table, range, limit).await,
        }
    }

    async fn database_hash(&mut self, table: &VerifyTable) -> Result<Option<DatabaseHash>> {
        match self {
            AnySource::Mysql(source) => source.database_hash(table).await,
            AnySource::Postgres(source) => source.database_hash(table).await,
        }
    }

    async fn summarize_in_database(
        &mut self,
        table: &VerifyTable,
        range: &KeyRange,
    ) -> Result<RangeSummary> {
        match self {
            AnySource::Mysql(source) => source.summarize_in_database(table, range).await,
            AnySource::Postgres(source) => source.summarize_in_database(table, range).await,
        }
    }

    async fn key_at(
        &mut self,
        table: &VerifyTable,
        range: &KeyRange,
        offset: usize,
    ) -> Result<Option<Key>> {
        match self {
            AnySource::Mysql(source) => source.key_at(table, range, offset).await,
            AnySource::Postgres(source) => source.key_at(table, range, offset).await,
        }
    }
}

/// A pair's source whose rows verify checks again held still at a point of the pair's
/// change stream: what tells the point depends on the capture.
#[derive(Debug)]
pub(crate) struct PairSnapshots<'s> {
    source: &'s mut AnySource,
    capture: Capture,
    /// The source database, which holds the trigger capture's audit log.
    database: &'s str,
}

impl<'s> PairSnapshots<'s> {
    pub(crate) fn new(source: &'s mut AnySource, capture: Capture, database: &'s str) -> Self {
        PairSnapshots {
            source,
            capture,
            database,
        }
    }
}

impl VerifySide for PairSnapshots<'_> {
    async fn read_range(
        &mut self,
        table: &VerifyTable,
        range: &KeyRange,
        limit: usize,
    ) -> Result<Vec<Row>> {
        self.source.read_range(table, range, limit).await
    }
}

impl SnapshotSide for PairSnapshots<'_> {
    async fn begin_snapshot(
        &mut self,
        table: &VerifyTable,
        keys: &[Key],
    ) -> Result<Option<Position>> {
        let AnySource::Mysql(source) = &mut *self.source else {
            // A polled source tells no position its polls could be compared with.
            return Ok(None);
        };
        let conn = source.conn();
        match self.capture {
            Capture::Binlog => {
                consistent_read::begin_locked(conn, &table.schema, keys).await?;
                let position = dbsync_mysql::binlog::current_position(conn).await?;
                Ok(Some(Position::Binlog(position)))
            }
            Capture::Triggers => {
                consistent_read::begin_locked(conn, &table.schema, keys).await?;
                let id = AuditLog::new(self.database).highest_id(conn).await?;
                Ok(Some(Position::AuditLog { id }))
            }
            // None tells a position of its own that a checkpoint could be at.
            Capture::Poll | Capture::Logical | Capture::Snapshot => Ok(None),
        }
    }

    async fn end_snapshot(&mut self) -> Result<()> {
        match (&mut *self.source, self.capture) {
            (AnySource::Mysql(source), Capture::Binlog | Capture::Triggers) => {
                consistent_read::end(source.conn()).await
            }
            _ => Ok(()),
        }
    }
}
