//! One run of a pair under `dbsync serve`: the engine's progress recorded in the state
//! store, the metrics and the live events, and the run ended with its outcome.

use std::collections::HashMap;

use dbsync_control::{ActiveRun, Control, LogLevel, Operation, Outcome, TableStatus, TableUpdate};
use dbsync_core::{CopyProgress, TableName};
use tokio::sync::{mpsc, watch};

use crate::pair_sync::{PairSync, Until};
use crate::progress::{Committed, Written};

/// Runs `sync` as `run` until `stop`, recording what its target commits, and ends the
/// run with how it went; gives that outcome.
pub(crate) async fn run_pair(
    control: Control,
    mut sync: PairSync,
    run: ActiveRun,
    stop: watch::Receiver<bool>,
) -> Outcome {
    let pair = sync.name().to_owned();
    let (progress, reports) = mpsc::unbounded_channel();
    sync.report_to(progress);
    let running = async move {
        let result = sync.run(Until::Stopped, stop).await;
        // With `sync` go the last senders, which ends the recording below.
        drop(sync);
        result
    };
    log(&control, &run, LogLevel::Info, "started").await;
    let mut tables = Tables::new(&control, &pair);
    let (result, ()) = tokio::join!(running, tables.record(&run, reports));
    let outcome = match result {
        Ok(()) => {
            tables.stop().await;
            Outcome::Stopped
        }
        Err(error) => {
            tracing::error!(pair, "{error}");
            if let Some(table) = error.table() {
                control
                    .metrics
                    .error(&pair, &table.to_string(), error.kind());
                tables.fail(table, error.to_string()).await;
            }
            Outcome::Failed {
                error: error.to_string(),
            }
        }
    };
    match &outcome {
        Outcome::Failed { error } => log(&control, &run, LogLevel::Error, error).await,
        _ => log(&control, &run, LogLevel::Info, outcome.state().as_str()).await,
    }
    if let Err(error) = control.finish_run(run, outcome.clone()).await {
        tracing::error!(pair, "{error}");
    }
    outcome
}

/// Adds a line to the run's log in the store (seed 002's job logs); a store that fails
/// costs the line, said on the process's log.
async fn log(control: &Control, run: &ActiveRun, level: LogLevel, message: &str) {
    if let Err(error) = control.store.log_run(run, level, message).await {
        tracing::warn!(pair = run.pair(), "{error}");
    }
}

/// Reports taken together at most: enough for every table of a large pair.
const REPORTS_AT_ONCE: usize = 4096;

/// What the store and the metrics know of a pair's tables in this process.
struct Tables<'a> {
    control: &'a Control,
    pair: &'a str,
    /// The last update of each table: what a failure or the stop changes.
    latest: HashMap<TableName, TableUpdate>,
    /// Rows streamed into each table since the server started; the checkpoint holds
    /// the rows copied.
    applied: HashMap<TableName, u64>,
}

impl<'a> Tables<'a> {
    fn new(control: &'a Control, pair: &'a str) -> Self {
        Tables {
            control,
            pair,
            latest: HashMap::new(),
            applied: HashMap::new(),
        }
    }

    /// Records every report until the pair's targets are gone. Reports waiting are
    /// taken together, so that a busy stream costs the store a write per table per
    /// wake-up rather than per batch.
    async fn record(&mut self, run: &ActiveRun, mut reports: mpsc::UnboundedReceiver<Committed>) {
        let mut waiting = Vec::new();
        while reports.recv_many(&mut waiting, REPORTS_AT_ONCE).await > 0 {
            let mut rows = 0;
            let mut changed = HashMap::new();
            for committed in waiting.drain(..) {
                rows += self.count(&committed);
                changed.insert(committed.table.clone(), committed);
            }
            if rows > 0
                && let Err(error) = self.control.store.add_run_rows(run, rows).await
            {
                tracing::warn!(pair = self.pair, "{error}");
            }
            for (table, committed) in changed {
                let status = match committed.checkpoint.copy {
                    CopyProgress::Copying { .. } => TableStatus::Copying,
                    CopyProgress::Done { .. } => TableStatus::Streaming,
                };
                let update = TableUpdate {
                    table: table.to_string(),
                    status,
                    rows_synced: committed.checkpoint.copy.rows()
                        + self.applied.get(&table).copied().unwrap_or_default(),
                    checkpoint: Some(committed.checkpoint),
                    last_error: None,
                };
                self.save(table, update).await;
            }
        }
    }

    /// Counts `committed` in the metrics; gives the rows it wrote.
    fn count(&mut self, committed: &Committed) -> u64 {
        let (pair, table, metrics) = (
            self.pair,
            committed.table.to_string(),
            &self.control.metrics,
        );
        metrics.batch_applied(pair, &table, committed.took);
        match committed.written {
            Written::Copied { rows } => {
                metrics.rows_applied(pair, &table, Operation::Insert, rows);
                let copied = committed.checkpoint.copy.rows();
                metrics.copy_progress(pair, &table, copied, None);
                rows
            }
            Written::Applied {
                upserts,
                deletes,
                truncated,
            } => {
                metrics.rows_applied(pair, &table, Operation::Upsert, upserts);
                metrics.rows_applied(pair, &table, Operation::Delete, deletes);
                if truncated {
                    metrics.rows_applied(pair, &table, Operation::Truncate, 1);
                }
                let rows = upserts + deletes;
                *self.applied.entry(committed.table.clone()).or_default() += rows;
                rows
            }
        }
    }

    /// Records that `table` stopped on `error`.
    async fn fail(&mut self, table: &TableName, error: String) {
        let mut update = self.latest.get(table).cloned().unwrap_or(TableUpdate {
            table: table.to_string(),
            status: TableStatus::Failed,
            checkpoint: None,
            rows_synced: 0,
            last_error: None,
        });
        update.status = TableStatus::Failed;
        update.last_error = Some(error);
        self.save(table.clone(), update).await;
    }

    /// Records every table known as stopped, as the run ends on request.
    async fn stop(&mut self) {
        let stopped: Vec<_> = self
            .latest
            .iter()
            .map(|(table, update)| {
                let mut update = update.clone();
                update.status = TableStatus::Stopped;
                (table.clone(), update)
            })
            .collect();
        for (table, update) in stopped {
            self.save(table, update).await;
        }
    }

    async fn save(&mut self, table: TableName, update: TableUpdate) {
        if let Err(error) = self
            .control
            .record_table(self.pair, update.clone(), None)
            .await
        {
            tracing::warn!(pair = self.pair, "{error}");
        }
        self.latest.insert(table, update);
    }
}
