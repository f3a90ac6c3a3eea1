//! Cleanup of history older than the retention age (`history.retention`).

use std::time::Duration;

use serde::Serialize;
use utoipa::ToSchema;

use super::Store;
use super::time::now_micros;
use crate::error::Result;

/// What a cleanup deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Cleaned {
    /// Ended runs, with their log lines.
    pub runs: u64,
    pub resolved_conflicts: u64,
    /// Verify results, with their tables.
    pub verifications: u64,
}

impl Store {
    /// Deletes runs that ended, conflicts resolved and verifies finished more than
    /// `retention` ago. Running
    /// runs, unresolved conflicts, dead letters and table state are kept whatever their
    /// age: they describe the present, not the past.
    pub async fn clean_up_history(&self, retention: Duration) -> Result<Cleaned> {
        let retention = i64::try_from(retention.as_micros()).unwrap_or(i64::MAX);
        self.call(move |connection| {
            let cutoff = now_micros().saturating_sub(retention);
            let transaction = connection.transaction()?;
            let runs = transaction.execute(
                "DELETE FROM runs WHERE ended_at IS NOT NULL AND ended_at < ?1",
                [cutoff],
            )?;
            let resolved_conflicts = transaction.execute(
                "DELETE FROM conflicts WHERE resolved_at IS NOT NULL AND resolved_at < ?1",
                [cutoff],
            )?;
            let verifications = transaction
                .execute("DELETE FROM verifications WHERE finished_at < ?1", [cutoff])?;
            transaction.commit()?;
            Ok(Cleaned {
                runs: runs as u64,
                resolved_conflicts: resolved_conflicts as u64,
                verifications: verifications as u64,
            })
        })
        .await
    }
}
