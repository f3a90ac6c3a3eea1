use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use crate::change::Row;
use crate::change_batch::ChangeBatch;
use crate::checkpoint::Checkpoint;
use crate::error::{Error, ErrorKind, Result};
use crate::table_schema::{TableName, TableSchema};

/// A database that dbsync writes a pair's tables into.
///
/// Delivery is at-least-once: after a crash, the changes since the last checkpoint
/// arrive again, so writes must be idempotent (an upsert of a key that exists
/// overwrites it; a delete of a key that does not exist does nothing). Each write
/// commits its rows and the checkpoints it is given in one transaction, which is what
/// makes the effect exactly-once.
pub trait Target: Send {
    /// Creates the target table of `source` when absent, or checks that the existing
    /// one can hold its rows.
    fn prepare_table(
        &mut self,
        source: &Arc<TableSchema>,
    ) -> impl Future<Output = Result<()>> + Send;

    /// The checkpoints this target holds for the pair, by source table.
    fn checkpoints(&mut self) -> impl Future<Output = Result<Vec<(TableName, Checkpoint)>>> + Send;

    /// Writes a chunk of the initial copy. The copy owns the chunk's key range (the
    /// stream has not started on the table), so rows go straight in.
    ///
    /// The chunk follows the rows the checkpoint held before it
    /// (`checkpoint.copy.rows()` less the chunk's); when the target's checkpoint says
    /// otherwise (another process copies the same pair, or an earlier write whose
    /// connection was lost committed after all), the write fails with a retryable
    /// error rather than copy rows twice, and the caller reads the checkpoints again.
    fn write_chunk(
        &mut self,
        table: &TableName,
        rows: &[Row],
        checkpoint: &Checkpoint,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Applies a compacted batch of streamed changes with the checkpoints it moves.
    fn apply(
        &mut self,
        batch: &ChangeBatch,
        checkpoints: &[(TableName, Checkpoint)],
    ) -> impl Future<Output = Result<()>> + Send;
}

/// The target a writer planned for `source` among `targets`, or the error that it has
/// changes but none was planned.
pub fn planned_target<'a, T>(
    targets: &'a HashMap<TableName, T>,
    source: &TableName,
) -> Result<&'a T> {
    targets.get(source).ok_or_else(|| {
        Error::new(
            ErrorKind::SchemaMismatch,
            "has changes but no target table was planned for it",
        )
        .with_table(source.clone())
    })
}
