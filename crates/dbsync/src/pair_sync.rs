//! One pair from start to stop: checks, target tables, the copy, then the stream,
//! retrying transient failures.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dbsync_config::{Backoff, Capture, Config, ConnectionUrl, Engine, Pair, Retry};
use dbsync_core::pipeline::poll::{PollColumns, PollReader, PollStream, PollTable, poll_tables};
use dbsync_core::pipeline::{
    self, BatchLimits, Capture as _, CopyOptions, Target as _, copy_tables, earliest_position,
    stream_changes,
};
use dbsync_core::{
    Checkpoint, CopyProgress, Error, ErrorKind, Position, Result, TableName, TableSchema,
};
use dbsync_mysql::binlog::BinlogConfig;
use dbsync_mysql::capture::BinlogCapture;
use dbsync_mysql::poll::MysqlPollSource;
use dbsync_mysql::trigger_capture::{TriggerCapture, TriggerCaptureConfig};
use dbsync_postgres::poll::PgPollSource;
use tokio::sync::watch;

use crate::connection::{mysql_options, postgres_config};
use crate::endpoint::{AnyCapture, AnySource, AnyTarget, AnyTargetReader};
use crate::failure::{Exit, Failure};
use crate::progress::ProgressSender;

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
    capture: Capture,
    retry: Retry,
    /// Lanes of the initial copy (`workers` in the configuration).
    workers: usize,
    /// Where every lane's target reports what it commits, if anywhere.
    progress: Option<ProgressSender>,
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
        if !BUILT_PATHS.contains(&(source.engine(), capture, target.engine())) {
            return Err(Failure::new(
                Exit::Usage,
                format!(
                    "pair `{name}` syncs {} to {} by {} capture, which this version of dbsync cannot run yet; it runs {}.",
                    source.engine(),
                    target.engine(),
                    capture.as_str(),
                    built_paths()
                ),
            ));
        }
        Ok(PairSync {
            name: name.to_owned(),
            pair: pair.clone(),
            source,
            target,
            capture,
            retry: config.retry,
            workers: config.workers.max(1) as usize,
            progress: None,
        })
    }

    /// Has every target of the pair report what it commits to `progress`.
    pub(crate) fn report_to(&mut self, progress: ProgressSender) {
        self.progress = Some(progress);
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn capture(&self) -> Capture {
        self.capture
    }

    /// Connects to the source and reads the tables the pair selects, without the
    /// checks of its capture: for commands that prepare the source for it.
    pub(crate) async fn read_source_tables(
        &self,
    ) -> Result<(AnySource, String, Vec<Arc<TableSchema>>)> {
        let database = self.source_database();
        let mut source = AnySource::connect(&self.source).await?;
        let tables = self.selected_tables(&mut source, &database).await?;
        Ok((source, database, tables))
    }

    /// The source database the pair reads.
    pub(crate) fn source_database(&self) -> String {
        self.source.database().unwrap_or_default().to_owned()
    }

    /// Empties every target table of the pair and drops its checkpoint, one table per
    /// transaction, so that the next run copies everything again (`run --full`).
    /// Killed midway, each table is either reset or untouched, and running again
    /// resets what is left.
    pub(crate) async fn reset(&self) -> Result<()> {
        let mut checkpoints = HashMap::new();
        let (_, mut target, tables, _) = self.connect(&mut checkpoints).await?;
        for table in &tables {
            target.reset_table(&table.name).await?;
            tracing::info!(pair = %self.name, table = %table.name, "emptied for a full copy");
        }
        Ok(())
    }

    /// Runs the pair until it has caught up (`--once`) or `stop` turns true, starting
    /// over from the target's checkpoints after a transient failure (a lost
    /// connection, a deadlock), wherever it happens: at the start, in the copy or in
    /// the stream.
    pub(crate) async fn run(&self, until: Until, stop: watch::Receiver<bool>) -> Result<()> {
        let mut failures = 0u32;
        let mut checkpoints = HashMap::new();
        let mut goals = Goals::default();
        loop {
            let before = checkpoints.clone();
            let started = Instant::now();
            let error = match self
                .attempt(until, stop.clone(), &mut checkpoints, &mut goals)
                .await
            {
                Ok(()) => return Ok(()),
                Err(error) => error,
            };
            if self.capture == Capture::Triggers {
                self.record_in_audit_log(&checkpoints, &error).await;
            }
            // Retries are for a bad moment, not a bad day: an attempt that moved a
            // checkpoint or lasted a while was a success, and the count starts over.
            if checkpoints != before || started.elapsed() >= HEALTHY_ATTEMPT {
                failures = 0;
            }
            if !error.is_transient() || failures >= self.retry.attempts {
                return Err(error);
            }
            let wait = self.backoff(failures);
            failures += 1;
            tracing::warn!(pair = %self.name, "{error}; retrying in {wait:?} ({failures} of {})", self.retry.attempts);
            let mut stop = stop.clone();
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = stopped(&mut stop) => return Ok(()),
            }
        }
    }

    /// Counts a failed attempt, with its error, on the audit log entries still to
    /// apply of the table that failed, where people look for them (seed 000's
    /// `retry_count` and `error`). Best effort: the error itself goes on regardless.
    async fn record_in_audit_log(
        &self,
        checkpoints: &HashMap<TableName, Checkpoint>,
        error: &Error,
    ) {
        let Some(table) = error.table() else {
            return;
        };
        let Some(Position::AuditLog { id }) = checkpoints.get(table).map(|c| &c.position) else {
            return;
        };
        let log = dbsync_mysql::audit_log::AuditLog::new(&table.schema);
        let recorded = async {
            let mut conn =
                dbsync_mysql::session::connect(mysql_options(&self.source), "the source").await?;
            log.record_error(&mut conn, &table.name, *id, u64::MAX, &error.to_string())
                .await
        };
        if let Err(e) = recorded.await {
            tracing::warn!(pair = %self.name, "could not record the error in the audit log: {e}");
        }
    }

    /// One attempt: connect, check, copy what is not copied yet, then follow the
    /// source. The checkpoints are read from the target afresh into `checkpoints`,
    /// which follows the attempt's progress; `goals` are where a `--once` run ends,
    /// fixed by the first attempt that gets that far.
    async fn attempt(
        &self,
        until: Until,
        mut stop: watch::Receiver<bool>,
        checkpoints: &mut HashMap<TableName, Checkpoint>,
        goals: &mut Goals,
    ) -> Result<()> {
        // Until the stream runs, a stop drops the work in flight: every chunk is
        // committed with its checkpoint, so nothing is lost but the chunk.
        let Some(started) = unless_stopped(&mut stop, self.connect(checkpoints)).await else {
            return Ok(());
        };
        let (source, target, tables, capture) = started?;
        match capture {
            PairCapture::Stream(mut capture) => {
                let copied = self.copy(source, target, &tables, &mut capture, checkpoints);
                let Some(target) = unless_stopped(&mut stop, copied).await else {
                    return Ok(());
                };
                self.stream(
                    &mut capture,
                    target?,
                    tables,
                    until,
                    checkpoints,
                    goals,
                    stop,
                )
                .await
            }
            PairCapture::MysqlPoll(mut capture) => {
                self.copy_and_poll(
                    source,
                    target,
                    &tables,
                    &mut *capture,
                    until,
                    checkpoints,
                    goals,
                    stop,
                )
                .await
            }
            PairCapture::PostgresPoll(mut capture) => {
                self.copy_and_poll(
                    source,
                    target,
                    &tables,
                    &mut *capture,
                    until,
                    checkpoints,
                    goals,
                    stop,
                )
                .await
            }
        }
    }

    /// Copies what is not copied yet, each new table starting its checkpoint where
    /// `capture` says; gives back a target connection for what follows.
    async fn copy<C: pipeline::Capture>(
        &self,
        source: AnySource,
        target: AnyTarget,
        tables: &[Arc<TableSchema>],
        capture: &mut C,
        checkpoints: &mut HashMap<TableName, Checkpoint>,
    ) -> Result<AnyTarget> {
        // One lane per table still to copy, up to `workers`: each lane is a source
        // and a target connection copying one table at a time.
        let pending = tables
            .iter()
            .filter(|t| {
                !matches!(
                    checkpoints.get(&t.name),
                    Some(Checkpoint {
                        copy: CopyProgress::Done { .. },
                        ..
                    })
                )
            })
            .count();
        let mut lanes = vec![(source, target)];
        for _ in 1..pending.min(self.workers) {
            let source = AnySource::connect(&self.source).await?;
            lanes.push((source, self.open_target(tables).await?));
        }
        let mut lanes =
            copy_tables(lanes, capture, tables, checkpoints, CopyOptions::default()).await?;
        lanes
            .pop()
            .map(|(_, target)| target)
            .ok_or_else(|| Error::new(ErrorKind::Io, "the copy gave no connection back"))
    }

    /// Follows one stream of every table's changes until caught up or stopped.
    #[allow(clippy::too_many_arguments)]
    async fn stream(
        &self,
        capture: &mut AnyCapture,
        mut target: AnyTarget,
        tables: Vec<Arc<TableSchema>>,
        until: Until,
        checkpoints: &mut HashMap<TableName, Checkpoint>,
        goals: &mut Goals,
        mut stop: watch::Receiver<bool>,
    ) -> Result<()> {
        if until == Until::CaughtUp && goals.stream.is_none() {
            let none = HashMap::new();
            let now = capture.start_position(&tables[0], &none);
            let Some(position) = unless_stopped(&mut stop, now).await else {
                return Ok(());
            };
            goals.stream = Some(position?);
        }
        let from = earliest(checkpoints)?;
        let Some(stream) = unless_stopped(&mut stop, capture.stream(tables, from)).await else {
            return Ok(());
        };
        stream_changes(
            &mut stream?,
            &mut target,
            checkpoints,
            self.limits(),
            goals.stream.clone(),
            stopped(&mut stop),
        )
        .await?;
        Ok(())
    }

    /// Copies what is not copied yet, then polls every table on its own until each has
    /// caught up or `stop` turns true.
    #[allow(clippy::too_many_arguments)]
    async fn copy_and_poll<C, R>(
        &self,
        source: AnySource,
        target: AnyTarget,
        tables: &[Arc<TableSchema>],
        capture: &mut C,
        until: Until,
        checkpoints: &mut HashMap<TableName, Checkpoint>,
        goals: &mut Goals,
        mut stop: watch::Receiver<bool>,
    ) -> Result<()>
    where
        C: pipeline::Capture<Stream = PollStream<R>>,
        R: PollReader,
    {
        let copied = self.copy(source, target, tables, capture, checkpoints);
        let Some(target) = unless_stopped(&mut stop, copied).await else {
            return Ok(());
        };
        let goals = (until == Until::CaughtUp).then_some(&mut goals.polled);
        poll_tables(
            capture,
            &mut target?,
            tables,
            checkpoints,
            self.limits(),
            goals,
            stopped(&mut stop),
        )
        .await?;
        Ok(())
    }

    fn limits(&self) -> BatchLimits {
        BatchLimits {
            // batch_size counts the source rows of one target transaction.
            max_changes: self.pair.batch_size.max(1) as usize,
            ..BatchLimits::default()
        }
    }

    /// A connection to the target that writes `tables`, renamed as the pair says, with
    /// every table planned: a column the target cannot hold fails here, with nothing
    /// written.
    pub(crate) async fn open_target(&self, tables: &[Arc<TableSchema>]) -> Result<AnyTarget> {
        let mut target = AnyTarget::open(&self.target, &self.name, &self.pair).await?;
        if let Some(progress) = &self.progress {
            target.report_to(progress.clone());
        }
        for (table, name) in self.target_names(tables) {
            target.rename(&table.name.name, &name);
            target.plan_table(&table)?;
        }
        Ok(target)
    }

    /// The target tables of `tables`, read back as the source's values, for verify.
    pub(crate) async fn open_target_reader(
        &self,
        tables: &[Arc<TableSchema>],
    ) -> Result<AnyTargetReader> {
        AnyTargetReader::open(&self.target, &self.pair, &self.target_names(tables)).await
    }

    /// Each of `tables` with the name of its target table (before identifier case):
    /// its own, or the one the pair gives it.
    fn target_names(&self, tables: &[Arc<TableSchema>]) -> Vec<(Arc<TableSchema>, String)> {
        tables
            .iter()
            .map(|table| {
                let name = self
                    .pair
                    .selects(&table.name.name)
                    .map_or_else(|| table.name.name.clone(), |s| s.target_table());
                (Arc::clone(table), name)
            })
            .collect()
    }

    /// The pair's capture for `tables`; polling checks here that each table has the
    /// columns it polls by.
    fn open_capture(&self, tables: &[Arc<TableSchema>]) -> Result<PairCapture> {
        match (self.capture, self.source.engine()) {
            (Capture::Binlog, _) => {
                Ok(PairCapture::Stream(AnyCapture::Binlog(BinlogCapture::new(
                    mysql_options(&self.source),
                    self.binlog_config(),
                    Duration::from_millis(20),
                ))))
            }
            (Capture::Triggers, _) => Ok(PairCapture::Stream(AnyCapture::Triggers(
                TriggerCapture::new(
                    mysql_options(&self.source),
                    TriggerCaptureConfig {
                        batch_size: self.pair.batch_size.max(1) as usize,
                        ..TriggerCaptureConfig::default()
                    },
                ),
            ))),
            (Capture::Poll, Engine::MySql) => Ok(PairCapture::MysqlPoll(Box::new(
                dbsync_mysql::poll::PollCapture::new(
                    MysqlPollSource::new(mysql_options(&self.source)),
                    self.poll_tables(tables)?,
                ),
            ))),
            (Capture::Poll, Engine::PostgreSql) => Ok(PairCapture::PostgresPoll(Box::new(
                dbsync_postgres::poll::PollCapture::new(
                    PgPollSource::new(postgres_config(&self.source)),
                    self.poll_tables(tables)?,
                ),
            ))),
            (other, _) => Err(Error::new(
                ErrorKind::Config,
                format!(
                    "this version of dbsync cannot capture changes by {} from {}",
                    other.as_str(),
                    self.source.engine()
                ),
            )),
        }
    }

    /// How each of `tables` is polled, from its `timestamp_column`, `id_column` and
    /// `poll_interval`.
    fn poll_tables(&self, tables: &[Arc<TableSchema>]) -> Result<HashMap<TableName, PollTable>> {
        let mut polled = HashMap::new();
        for table in tables {
            let selection = self.pair.selects(&table.name.name);
            let options = selection.as_ref().and_then(|s| s.options());
            let columns = PollColumns::choose(
                table,
                options.and_then(|o| o.timestamp_column.as_deref()),
                options.and_then(|o| o.id_column.as_deref()),
            )?;
            let interval = selection.map_or(self.pair.poll_interval, |s| s.poll_interval());
            polled.insert(table.name.clone(), PollTable::new(columns, interval));
        }
        Ok(polled)
    }

    /// Connects to both sides, checks them, opens the capture, plans and prepares the
    /// target tables, and reads the checkpoints into `checkpoints`.
    async fn connect(
        &self,
        checkpoints: &mut HashMap<TableName, Checkpoint>,
    ) -> Result<(AnySource, AnyTarget, Vec<Arc<TableSchema>>, PairCapture)> {
        let database = self.source_database();
        let mut source = AnySource::connect(&self.source).await?;
        let tables = self.source_tables(&mut source, &database).await?;
        let capture = self.open_capture(&tables)?;
        let mut target = self.open_target(&tables).await?;
        target.check().await?;
        for table in &tables {
            target.prepare_table(table).await?;
        }
        *checkpoints = target.checkpoints().await?.into_iter().collect();
        Ok((source, target, tables, capture))
    }

    /// Checks the source for the pair's capture and reads the tables the pair selects.
    async fn source_tables(
        &self,
        source: &mut AnySource,
        database: &str,
    ) -> Result<Vec<Arc<TableSchema>>> {
        // Binlog checks come first: with binary logging off, nothing else matters.
        if self.capture == Capture::Binlog {
            source
                .check(self.capture, database, &[], &self.name)
                .await?;
        }
        let tables = self.selected_tables(source, database).await?;
        if self.capture != Capture::Binlog {
            source
                .check(self.capture, database, &tables, &self.name)
                .await?;
        }
        Ok(tables)
    }

    /// The source tables the pair selects, with declared keys applied; a table with
    /// no key at all stops the run before anything is written.
    async fn selected_tables(
        &self,
        source: &mut AnySource,
        database: &str,
    ) -> Result<Vec<Arc<TableSchema>>> {
        let mut tables = Vec::new();
        for mut table in source.read_tables(database).await? {
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

/// Where a `--once` run ends: the position of the pair's one stream, or each polled
/// table's own.
#[derive(Debug, Default)]
struct Goals {
    stream: Option<Position>,
    polled: HashMap<TableName, Position>,
}

/// The pair's capture for one attempt: one stream for every table, or each table
/// polled on its own (the poll captures of each engine are types of their own).
enum PairCapture {
    Stream(AnyCapture),
    MysqlPoll(Box<dbsync_mysql::poll::PollCapture>),
    PostgresPoll(Box<dbsync_postgres::poll::PollCapture>),
}

/// The (source, capture, target) paths this version runs.
const BUILT_PATHS: &[(Engine, Capture, Engine)] = &[
    (Engine::MySql, Capture::Binlog, Engine::PostgreSql),
    (Engine::MySql, Capture::Binlog, Engine::MySql),
    (Engine::MySql, Capture::Binlog, Engine::Sqlite),
    (Engine::MySql, Capture::Triggers, Engine::PostgreSql),
    (Engine::MySql, Capture::Triggers, Engine::MySql),
    (Engine::MySql, Capture::Triggers, Engine::Sqlite),
    (Engine::MySql, Capture::Poll, Engine::PostgreSql),
    (Engine::MySql, Capture::Poll, Engine::MySql),
    (Engine::MySql, Capture::Poll, Engine::Sqlite),
    (Engine::PostgreSql, Capture::Poll, Engine::PostgreSql),
    (Engine::PostgreSql, Capture::Poll, Engine::MySql),
    (Engine::PostgreSql, Capture::Poll, Engine::Sqlite),
];

fn built_paths() -> String {
    let paths: Vec<String> = BUILT_PATHS
        .iter()
        .map(|(source, capture, target)| format!("{source} to {target} by {}", capture.as_str()))
        .collect();
    paths.join(", ")
}

/// An attempt that ran this long was a success, whatever ended it.
const HEALTHY_ATTEMPT: Duration = Duration::from_secs(60);

/// Resolves once `stop` is true; never when nobody can set it any more.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    if stop.wait_for(|stop| *stop).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// `work`'s output, or `None` when `stop` turns true first (`work` is then dropped).
async fn unless_stopped<T>(
    stop: &mut watch::Receiver<bool>,
    work: impl std::future::Future<Output = T>,
) -> Option<T> {
    tokio::select! {
        biased;
        () = stopped(stop) => None,
        output = work => Some(output),
    }
}

/// Where the stream starts: the earliest table checkpoint, so no table misses a change.
fn earliest(checkpoints: &HashMap<TableName, Checkpoint>) -> Result<Position> {
    earliest_position(checkpoints).cloned().ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidData,
            "no table has a checkpoint after the copy",
        )
    })
}
