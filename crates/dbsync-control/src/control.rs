//! The control plane as one value: what `dbsync serve` builds once and hands to the
//! API and the engines.

use crate::error::Result;
use crate::events::{Event, Events};
use crate::lifecycle::{ActiveRun, Outcome, RunState};
use crate::metrics::Metrics;
use crate::store::{RunRecord, Store, TableStatus, TableUpdate};
use crate::supervisor::Supervisor;

/// What the server serves, shared with the engines that feed it: the state store, the
/// metrics, the live events and the supervisor that starts and stops runs.
#[derive(Debug, Clone)]
pub struct Control {
    pub store: Store,
    pub metrics: Metrics,
    pub events: Events,
    pub supervisor: Supervisor,
}

impl Control {
    /// A control plane over `store` with new metrics and events, whose runs `supervisor`
    /// starts and stops.
    pub fn new(store: Store, supervisor: Supervisor) -> Control {
        Control {
            store,
            metrics: Metrics::new(),
            events: Events::new(),
            supervisor,
        }
    }

    /// Starts a run of `pair` ([`Store::start_run`]) and announces it.
    pub async fn start_run(&self, pair: &str) -> Result<ActiveRun> {
        let run = self.store.start_run(pair).await?;
        self.events.publish(Event::RunState {
            pair: run.pair().to_owned(),
            run: run.id().clone(),
            state: RunState::Running,
            error: None,
        });
        Ok(run)
    }

    /// Ends `run` ([`Store::finish_run`]) and announces how.
    pub async fn finish_run(&self, run: ActiveRun, outcome: Outcome) -> Result<RunRecord> {
        let record = self.store.finish_run(run, outcome).await?;
        self.events.publish(Event::RunState {
            pair: record.pair.clone(),
            run: record.id.clone(),
            state: record.state,
            error: record.error.clone(),
        });
        Ok(record)
    }

    /// Records where a table of `pair` stands ([`Store::record_table_state`]) and
    /// announces it, with its error when it failed. `rows_estimated` is the source's
    /// estimate during the initial copy, for a percentage.
    pub async fn record_table(
        &self,
        pair: &str,
        update: TableUpdate,
        rows_estimated: Option<u64>,
    ) -> Result<()> {
        self.store.record_table_state(pair, update.clone()).await?;
        if let (TableStatus::Failed, Some(message)) = (update.status, &update.last_error) {
            self.events.publish(Event::Error {
                pair: pair.to_owned(),
                table: Some(update.table.clone()),
                message: message.clone(),
            });
        }
        self.events.publish(Event::Progress {
            pair: pair.to_owned(),
            table: update.table,
            status: update.status,
            rows_synced: update.rows_synced,
            rows_estimated,
        });
        Ok(())
    }
}
