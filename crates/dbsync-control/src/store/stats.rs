//! Counts over the whole store, for seed 002's `/api/sync/stats`.

use serde::Serialize;
use utoipa::ToSchema;

use super::Store;
use crate::error::Result;

/// How much the store holds and how its runs went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Stats {
    pub connections: u64,
    pub pairs: u64,
    pub pairs_enabled: u64,
    pub runs: u64,
    pub runs_running: u64,
    pub runs_completed: u64,
    pub runs_failed: u64,
    pub runs_stopped: u64,
    /// Rows applied to targets over every run kept in the history.
    pub rows: u64,
    pub conflicts_unresolved: u64,
}

impl Store {
    pub async fn stats(&self) -> Result<Stats> {
        self.call(|connection| {
            let stats = connection.query_row(
                "SELECT
                    (SELECT count(*) FROM connections),
                    (SELECT count(*) FROM pairs),
                    (SELECT count(*) FROM pairs
                     WHERE coalesce(json_extract(definition, '$.enabled'), 1) != 0),
                    (SELECT count(*) FROM runs),
                    (SELECT count(*) FROM runs WHERE state = 'running'),
                    (SELECT count(*) FROM runs WHERE state = 'completed'),
                    (SELECT count(*) FROM runs WHERE state = 'failed'),
                    (SELECT count(*) FROM runs WHERE state = 'stopped'),
                    (SELECT coalesce(sum(rows), 0) FROM runs),
                    (SELECT count(*) FROM conflicts WHERE resolved_at IS NULL)",
                [],
                |row| {
                    // SQLite's integers are signed; counts and sums are never negative.
                    let count = |column| row.get::<_, i64>(column).map(i64::unsigned_abs);
                    Ok(Stats {
                        connections: count(0)?,
                        pairs: count(1)?,
                        pairs_enabled: count(2)?,
                        runs: count(3)?,
                        runs_running: count(4)?,
                        runs_completed: count(5)?,
                        runs_failed: count(6)?,
                        runs_stopped: count(7)?,
                        rows: count(8)?,
                        conflicts_unresolved: count(9)?,
                    })
                },
            )?;
            Ok(stats)
        })
        .await
    }
}
