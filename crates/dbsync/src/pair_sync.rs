//! One pair from start to stop: checks, target tables, the copy, then the stream,
//! retrying transient failures.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;

use dbsync_config::{Backoff, Capture, Config, ConnectionUrl, Engine, Pair, Retry};
use dbsync_core::pipeline::{
    BatchLimits, Capture as _, CopyOptions, Source as _, StreamEnd, copy_tables, stream_changes,
};
use dbsync_core::{Checkpoint, Error, ErrorKind, Position, Result, TableName, TableSchema};
use dbsync_mysql::binlog::BinlogConfig;
use dbsync_mysql::capture::BinlogCapture;
use dbsync_mysql::source::MysqlSource;
use dbsync_postgres::target_table::TargetTable;
use dbsync_postgres::target_type::MappingOptions;
use dbsync_postgres::writer::Writer;
use tokio::sync::watch;

use crate::connection::{mysql_options, postgres_config};
use crate::failure::{Exit, Failure};

/// Whether a run ends when it has caught up (`--once`) or when asked to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Until {
    CaughtUp,
    Stopped,
}

/// A pair resolved from the configuration, ready to run.
#[derive(Debug)]
pub(crate) struct PairSync {
    name: String,
    pair: Pair,
    source: ConnectionUrl,
    target: ConnectionUrl,
    retry: Retry,
}

impl PairSync {
    /// Resolves `name`; fails with one sentence for a path this version cannot run.
    pub(crate) fn new(name: &str, pair: &Pair, config: &Config) -> Result<PairSync, Failure> {
        // Validation guarantees both connections exist.
        let url = |connection: &str| config.connections.get(connection).map(|c| c.url.clone());
        let (Some(source), Some(target)) = (url(&pair.source), url(&pair.target)) else {
            return Err(Failure::new(
                Exit::Usage,
                format!("pair `{name}` names a connection that is not defined."),
            ));
        };
        let capture = pair.effective_capture(source.engine());
        if (source.engine(), capture, target.engine())
            != (Engine::MySql, Capture::Binlog, Engine::PostgreSql)
        {
            return Err(Failure::new(
                Exit::Usage,
                format!(
                    "pair `{name}` syncs {:?} to {:?} by {} capture, which this version of dbsync cannot run yet; MySQL/MariaDB to PostgreSQL by binlog is built.",
                    source.engine(),
                    target.engine(),
                    capture.as_str()
                ),
            ));
        }
        Ok(PairSync {
            name: name.to_owned(),
            pair: pair.clone(),
            source,
            target,
            retry: config.retry,
        })
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    pub(crate) async fn run(&self, until: Until, mut stop: watch::Receiver<bool>) -> Result<()> {
        let database = self.source.database().unwrap_or_default().to_owned();
        let source_opts = mysql_options(&self.source);
        let mut source = MysqlSource::connect(source_opts.clone()).await?;
        dbsync_mysql::preflight::check_binlog_source(source.conn(), &database).await?;
        let tables = self.selected_tables(&mut source, &database).await?;
        let options = MappingOptions {
            zero_date: self.pair.zero_date,
            enum_mapping: self.pair.enum_mapping,
            set_mapping: self.pair.set_mapping,
        };
        let case = self.pair.effective_identifier_case(Engine::PostgreSql);
        // Plan every target table before writing anything: a column no PostgreSQL type
        // holds stops the run here, with nothing created.
        for table in &tables {
            TargetTable::plan(
                table,
                &self.pair.target_schema,
                &table.name.name,
                &table.primary_key,
                case,
                options,
            )?;
        }
        let target_config = postgres_config(&self.target);
        {
            let (client, connection) =
                target_config
                    .connect(tokio_postgres::NoTls)
                    .await
                    .map_err(|e| {
                        Error::new(
                            ErrorKind::Connection,
                            format!("connecting to the target: {e}"),
                        )
                    })?;
            let connection = tokio::spawn(connection);
            dbsync_postgres::preflight::check_target(
                &client,
                &case.apply(&self.pair.target_schema),
            )
            .await?;
            drop(client);
            let _ = connection.await;
        }

        let connect_target = || async {
            let mut writer = Writer::connect(
                &target_config,
                &self.name,
                &self.pair.target_schema,
                case,
                options,
            )
            .await?;
            for table in &tables {
                if let Some(selection) = self.pair.selects(&table.name.name) {
                    writer.rename(&table.name.name, &selection.target_table());
                }
                writer.prepare_table(table).await?;
            }
            Ok::<_, Error>(writer)
        };
        use dbsync_core::pipeline::Target as _;
        let mut writer = connect_target().await?;
        let mut checkpoints: HashMap<TableName, Checkpoint> =
            writer.checkpoints().await?.into_iter().collect();

        let mut source = copy_tables(
            source,
            &mut writer,
            &tables,
            &mut checkpoints,
            CopyOptions::default(),
        )
        .await?;
        let target_position = match until {
            Until::CaughtUp => Some(source.current_position().await?),
            Until::Stopped => None,
        };
        drop(source);

        let mut capture =
            BinlogCapture::new(source_opts, self.binlog_config(), Duration::from_millis(20));
        let limits = BatchLimits {
            // batch_size counts the source rows of one target transaction.
            max_changes: self.pair.batch_size.max(1) as usize,
            ..BatchLimits::default()
        };
        let mut failures = 0u32;
        loop {
            let from = earliest(&checkpoints)?;
            let attempt = async {
                let mut stream = capture.stream(tables.clone(), from).await?;
                let stopped = async {
                    let _ = stop.wait_for(|stop| *stop).await;
                };
                stream_changes(
                    &mut stream,
                    &mut writer,
                    &mut checkpoints,
                    limits,
                    target_position.clone(),
                    stopped,
                )
                .await
            }
            .await;
            match attempt {
                Ok(StreamEnd::CaughtUp | StreamEnd::Stopped) => return Ok(()),
                Err(error) if error.is_transient() && failures < self.retry.attempts => {
                    let wait = self.backoff(failures);
                    failures += 1;
                    tracing::warn!(pair = %self.name, "{error}; retrying in {wait:?} ({failures} of {})", self.retry.attempts);
                    tokio::select! {
                        () = tokio::time::sleep(wait) => {}
                        _ = stop.wait_for(|stop| *stop) => return Ok(()),
                    }
                    // The target connection may be the one that failed: start afresh
                    // from what the target holds.
                    writer = connect_target().await?;
                    checkpoints = writer.checkpoints().await?.into_iter().collect();
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// The source tables the pair selects, with declared keys applied; a table with
    /// no key at all stops the run before anything is written.
    async fn selected_tables(
        &self,
        source: &mut MysqlSource,
        database: &str,
    ) -> Result<Vec<Arc<TableSchema>>> {
        let mut tables = Vec::new();
        for mut table in dbsync_mysql::schema::read_tables(source.conn(), database).await? {
            let Some(selection) = self.pair.selects(&table.name.name) else {
                continue;
            };
            if let Some(key) = selection.primary_key() {
                table.primary_key = key.to_vec();
            }
            if table.primary_key.is_empty() {
                return Err(Error::new(
                    ErrorKind::Config,
                    format!(
                        "has no primary key, so its rows cannot be told apart; add one, or declare `primary_key` for it under pairs.{}.tables, or exclude it with \"!{}\"",
                        self.name, table.name.name
                    ),
                )
                .with_table(table.name.clone()));
            }
            tables.push(Arc::new(table));
        }
        if tables.is_empty() {
            return Err(Error::new(
                ErrorKind::Config,
                format!(
                    "pair `{}` selects no table of database `{database}`; check its `tables`",
                    self.name
                ),
            ));
        }
        Ok(tables)
    }

    /// A replica id for this pair's binlog stream: stable per pair and target, so that
    /// a second run of the same pair replaces the first's dump (the server ends the
    /// older one) while other pairs on the same source get their own, and far from
    /// the small ids people give their servers.
    fn binlog_config(&self) -> BinlogConfig {
        let mut hasher = DefaultHasher::new();
        (
            &self.name,
            self.target.host(),
            self.target.port(),
            self.target.database(),
            &self.pair.target_schema,
        )
            .hash(&mut hasher);
        let server_id = 1_000_000_000 + (hasher.finish() % 1_000_000_000) as u32;
        BinlogConfig {
            heartbeat: Duration::from_secs(1),
            ..BinlogConfig::new(server_id)
        }
    }

    fn backoff(&self, failures: u32) -> Duration {
        let wait = match self.retry.backoff {
            Backoff::Fixed => self.retry.delay,
            Backoff::Exponential => self
                .retry
                .delay
                .saturating_mul(2u32.saturating_pow(failures)),
        };
        wait.min(self.retry.max_delay)
    }
}

/// Where the stream starts: the earliest table checkpoint, so no table misses a change.
fn earliest(checkpoints: &HashMap<TableName, Checkpoint>) -> Result<Position> {
    let mut positions = checkpoints.values().map(|c| &c.position);
    let first = positions.next().ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidData,
            "no table has a checkpoint after the copy",
        )
    })?;
    Ok(positions
        .fold(first, |earliest, p| if p < earliest { p } else { earliest })
        .clone())
}
