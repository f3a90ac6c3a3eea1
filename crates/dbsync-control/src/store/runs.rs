//! Runs of pairs (their history) and the log lines of each run.

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Row, TransactionBehavior};
use serde::Serialize;
use utoipa::ToSchema;

use super::Store;
use super::pairs;
use super::time::{from_micros, now_micros};
use crate::error::{Error, ErrorKind, Result};
use crate::lifecycle::{ActiveRun, Outcome, PairState, RunId, RunState};

/// A run as the history shows it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RunRecord {
    pub id: RunId,
    pub pair: String,
    pub state: RunState,
    pub started_at: DateTime<Utc>,
    /// Unset while the run is running.
    pub ended_at: Option<DateTime<Utc>>,
    /// Rows the run applied to the target.
    pub rows: u64,
    /// Why it failed; set exactly when `state` is `failed`.
    pub error: Option<String>,
}

/// A pair with its state and latest run, for `status`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PairStatus {
    pub pair: String,
    pub enabled: bool,
    pub state: PairState,
    pub latest_run: Option<RunRecord>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

impl LogLevel {
    fn as_str(self) -> &'static str {
        match self {
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
            LogLevel::Trace => "trace",
        }
    }

    fn parse(text: &str) -> LogLevel {
        match text {
            "error" => LogLevel::Error,
            "warn" => LogLevel::Warn,
            "debug" => LogLevel::Debug,
            "trace" => LogLevel::Trace,
            _ => LogLevel::Info,
        }
    }
}

/// One line of a run's log.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RunLogLine {
    pub at: DateTime<Utc>,
    pub level: LogLevel,
    pub message: String,
}

const COLUMNS: &str = "id, pair, state, started_at, ended_at, rows, error";

impl Store {
    /// idle (or ended) -> running: records a new run of `pair` and hands out the one
    /// [`ActiveRun`]. Refused while another run of the pair is running, in this process or
    /// another sharing the file: a unique index on running runs holds it.
    pub async fn start_run(&self, pair: impl Into<String>) -> Result<ActiveRun> {
        let pair = pair.into();
        self.call(move |connection| {
            let transaction =
                connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let exists: Option<String> = transaction
                .query_row("SELECT name FROM pairs WHERE name = ?1", [&pair], |row| {
                    row.get(0)
                })
                .optional()?;
            if exists.is_none() {
                return Err(pairs::missing(&pair));
            }
            if let Some(running) = running_run(&transaction, &pair)? {
                return Err(already_running(&pair, &format!("run {running}")));
            }
            let id = RunId::generate();
            let started_at = now_micros();
            transaction
                .execute(
                    "INSERT INTO runs (id, pair, state, started_at) VALUES (?1, ?2, 'running', ?3)",
                    (id.as_str(), &pair, started_at),
                )
                .map_err(|error| match error.sqlite_error_code() {
                    // The index, not the check above, is what holds across processes.
                    Some(rusqlite::ErrorCode::ConstraintViolation) => {
                        already_running(&pair, "started by another process")
                    }
                    _ => error.into(),
                })?;
            transaction.commit()?;
            Ok(ActiveRun::new(id, pair, from_micros(started_at)))
        })
        .await
    }

    /// running -> completed | failed | stopped, once.
    pub async fn finish_run(&self, run: ActiveRun, outcome: Outcome) -> Result<RunRecord> {
        self.call(move |connection| {
            let changed = connection.execute(
                "UPDATE runs SET state = ?2, ended_at = ?3, error = ?4 WHERE id = ?1 AND state = 'running'",
                (run.id().as_str(), outcome.state().as_str(), now_micros(), outcome.error()),
            )?;
            if changed == 0 {
                return Err(Error::conflict(format!(
                    "run {} of pair `{}` is no longer running (it was marked interrupted or removed); its outcome is not recorded",
                    run.id(),
                    run.pair()
                )));
            }
            find(connection, run.id().as_str())?.ok_or_else(|| missing(run.id().as_str()))
        })
        .await
    }

    /// Adds `rows` applied rows to a running run's count.
    pub async fn add_run_rows(&self, run: &ActiveRun, rows: u64) -> Result<()> {
        let id = run.id().clone();
        let rows = i64::try_from(rows).unwrap_or(i64::MAX);
        self.call(move |connection| {
            connection.execute(
                "UPDATE runs SET rows = rows + ?2 WHERE id = ?1",
                (id.as_str(), rows),
            )?;
            Ok(())
        })
        .await
    }

    /// Appends a line to a running run's log.
    pub async fn log_run(
        &self,
        run: &ActiveRun,
        level: LogLevel,
        message: impl Into<String>,
    ) -> Result<()> {
        let id = run.id().clone();
        let message = message.into();
        self.call(move |connection| {
            connection.execute(
                "INSERT INTO run_logs (run, at, level, message) VALUES (?1, ?2, ?3, ?4)",
                (id.as_str(), now_micros(), level.as_str(), &message),
            )?;
            Ok(())
        })
        .await
    }

    /// Marks every run still `running` as failed. For a server starting on a store no
    /// other dbsync process uses: their runs died with the process that ran them, and would
    /// otherwise keep their pairs from ever running again.
    pub async fn fail_interrupted_runs(&self) -> Result<Vec<RunId>> {
        self.call(|connection| {
            let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let ids = {
                let mut statement =
                    transaction.prepare("SELECT id FROM runs WHERE state = 'running' ORDER BY started_at")?;
                let rows = statement.query_map([], |row| row.get::<_, String>(0))?;
                rows.map(|id| id.map(RunId::from_stored)).collect::<rusqlite::Result<Vec<_>>>()?
            };
            transaction.execute(
                "UPDATE runs SET state = 'failed', ended_at = ?1,
                 error = 'the dbsync process running it ended before the run did; start the pair again'
                 WHERE state = 'running'",
                [now_micros()],
            )?;
            transaction.commit()?;
            Ok(ids)
        })
        .await
    }

    /// The runs of `pair`, newest first, at most `limit`.
    pub async fn runs(&self, pair: impl Into<String>, limit: u32) -> Result<Vec<RunRecord>> {
        let pair = pair.into();
        self.call(move |connection| {
            let exists: Option<String> = connection
                .query_row("SELECT name FROM pairs WHERE name = ?1", [&pair], |row| {
                    row.get(0)
                })
                .optional()?;
            if exists.is_none() {
                return Err(pairs::missing(&pair));
            }
            let mut statement = connection.prepare(&format!(
                "SELECT {COLUMNS} FROM runs WHERE pair = ?1 ORDER BY started_at DESC, id LIMIT ?2"
            ))?;
            let rows = statement.query_map((&pair, limit), read_raw)?;
            rows.map(|row| row?.parse()).collect()
        })
        .await
    }

    /// The runs of every pair, newest first, at most `limit` (seed 001's history).
    pub async fn history(&self, limit: u32) -> Result<Vec<RunRecord>> {
        self.call(move |connection| {
            let mut statement = connection.prepare(&format!(
                "SELECT {COLUMNS} FROM runs ORDER BY started_at DESC, id LIMIT ?1"
            ))?;
            let rows = statement.query_map([limit], read_raw)?;
            rows.map(|row| row?.parse()).collect()
        })
        .await
    }

    pub async fn run(&self, id: impl Into<String>) -> Result<RunRecord> {
        let id = id.into();
        self.call(move |connection| find(connection, &id)?.ok_or_else(|| missing(&id)))
            .await
    }

    /// The log of run `id`, oldest line first.
    pub async fn run_logs(&self, id: impl Into<String>) -> Result<Vec<RunLogLine>> {
        let id = id.into();
        self.call(move |connection| {
            if find(connection, &id)?.is_none() {
                return Err(missing(&id));
            }
            let mut statement = connection
                .prepare("SELECT at, level, message FROM run_logs WHERE run = ?1 ORDER BY id")?;
            let rows = statement.query_map([&id], |row| {
                Ok(RunLogLine {
                    at: from_micros(row.get(0)?),
                    level: LogLevel::parse(&row.get::<_, String>(1)?),
                    message: row.get(2)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    /// Every pair with its state and latest run, by name.
    pub async fn status(&self) -> Result<Vec<PairStatus>> {
        let pairs = self.pairs().await?;
        self.call(move |connection| {
            let mut statement = connection.prepare(&format!(
                "SELECT {COLUMNS} FROM runs WHERE pair = ?1 ORDER BY started_at DESC, id LIMIT 1"
            ))?;
            pairs
                .into_iter()
                .map(|pair| {
                    let latest_run = statement
                        .query_row([&pair.name], read_raw)
                        .optional()?
                        .map(RawRun::parse)
                        .transpose()?;
                    Ok(PairStatus {
                        state: latest_run.as_ref().map(|run| run.state).into(),
                        pair: pair.name,
                        enabled: pair.enabled,
                        latest_run,
                    })
                })
                .collect()
        })
        .await
    }
}

fn running_run(connection: &rusqlite::Connection, pair: &str) -> Result<Option<String>> {
    Ok(connection
        .query_row(
            "SELECT id FROM runs WHERE pair = ?1 AND state = 'running'",
            [pair],
            |row| row.get(0),
        )
        .optional()?)
}

fn already_running(pair: &str, which: &str) -> Error {
    Error::conflict(format!(
        "pair `{pair}` is already running ({which}); wait for it to end or stop it"
    ))
}

fn missing(id: &str) -> Error {
    Error::not_found(format!(
        "there is no run `{id}`; the history lists the runs that are kept"
    ))
}

struct RawRun {
    id: String,
    pair: String,
    state: String,
    started_at: i64,
    ended_at: Option<i64>,
    rows: i64,
    error: Option<String>,
}

impl RawRun {
    fn parse(self) -> Result<RunRecord> {
        Ok(RunRecord {
            state: RunState::parse(&self.state)?,
            id: RunId::from_stored(self.id),
            pair: self.pair,
            started_at: from_micros(self.started_at),
            ended_at: self.ended_at.map(from_micros),
            rows: u64::try_from(self.rows).map_err(|_| {
                Error::new(
                    ErrorKind::Store,
                    "the state store holds a run with a negative row count",
                )
            })?,
            error: self.error,
        })
    }
}

fn read_raw(row: &Row<'_>) -> rusqlite::Result<RawRun> {
    Ok(RawRun {
        id: row.get(0)?,
        pair: row.get(1)?,
        state: row.get(2)?,
        started_at: row.get(3)?,
        ended_at: row.get(4)?,
        rows: row.get(5)?,
        error: row.get(6)?,
    })
}

fn find(connection: &rusqlite::Connection, id: &str) -> Result<Option<RunRecord>> {
    connection
        .query_row(
            &format!("SELECT {COLUMNS} FROM runs WHERE id = ?1"),
            [id],
            read_raw,
        )
        .optional()?
        .map(RawRun::parse)
        .transpose()
}
