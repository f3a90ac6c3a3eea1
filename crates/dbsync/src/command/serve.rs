//! `dbsync serve`: the REST API over the state store, and every enabled pair of the
//! configuration file running, each as a run in the store, until SIGTERM or SIGINT.

use std::collections::HashMap;
use std::path::Path;

use dbsync_config::Config;
use dbsync_control::{ActiveRun, Control, Operation, Outcome, Store, TableStatus, TableUpdate};
use dbsync_core::{CopyProgress, TableName};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

use crate::failure::{Exit, Failure};
use crate::pair_sync::{PairSync, Until};
use crate::progress::{Committed, Written};

pub(crate) async fn run(config_path: &Path) -> Result<(), Failure> {
    let config = super::load_config(config_path)?;
    crate::logging::init(&config.logging);
    let store = open_store(&config).await?;
    let syncs = config
        .pairs
        .iter()
        .filter(|(_, pair)| pair.enabled)
        .map(|(name, pair)| PairSync::new(name, pair, &config))
        .collect::<Result<Vec<_>, _>>()?;
    let control = Control::new(store);
    let router = dbsync_control::router(control.clone(), &config.server)?;
    let listen = &config.server.listen;
    let listener = TcpListener::bind(listen).await.map_err(|e| {
        Failure::new(
            Exit::Usage,
            format!(
                "dbsync cannot listen on {listen}: {e}; free the address or change server.listen."
            ),
        )
    })?;
    tracing::info!("serving the API on {listen}");

    let (stop_tx, stop) = watch::channel(false);
    // A signal ends the server gracefully; then the pairs finish their batch in flight.
    // A server that fails stops the pairs too, rather than leave them unseen.
    let events = control.events.clone();
    let server = async move {
        let served =
            dbsync_control::serve(listener, router, events, crate::signal::shutdown()).await;
        tracing::info!("stopping: finishing the batches in flight");
        stop_tx.send_replace(true);
        served
    };
    let pairs = futures_util::future::join_all(
        syncs
            .into_iter()
            .map(|sync| run_pair(control.clone(), sync, stop.clone())),
    );
    let (served, _) = tokio::join!(server, pairs);
    served.map_err(|e| Failure::runtime(format!("the API server on {listen} failed: {e}.")))
}

/// The state store, with the runs a dead process left running marked failed and the
/// file's connections and pairs declared in it.
async fn open_store(config: &Config) -> Result<Store, Failure> {
    let store = Store::open(&config.state).await?;
    for run in store.fail_interrupted_runs().await? {
        tracing::warn!("marked run {run} failed: the process running it ended before it did");
    }
    store.declare(config).await?;
    Ok(store)
}

/// Runs `sync` as one run of the store until `stop`, recording what its target commits.
async fn run_pair(control: Control, mut sync: PairSync, stop: watch::Receiver<bool>) {
    let pair = sync.name().to_owned();
    let run = match control.start_run(&pair).await {
        Ok(run) => run,
        Err(error) => {
            tracing::error!(pair, "{error}");
            return;
        }
    };
    let (progress, reports) = mpsc::unbounded_channel();
    sync.report_to(progress);
    let running = async move {
        let result = sync.run(Until::Stopped, stop).await;
        // With `sync` go the last senders, which ends the recording below.
        drop(sync);
        result
    };
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
    if let Err(error) = control.finish_run(run, outcome).await {
        tracing::error!(pair, "{error}");
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
