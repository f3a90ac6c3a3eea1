use std::collections::HashMap;
use std::future::Future;
use std::time::{Duration, Instant};

use crate::change::StreamItem;
use crate::change_batch::ChangeBatch;
use crate::checkpoint::Checkpoint;
use crate::error::{Error, ErrorKind, Result};
use crate::pipeline::{ChangeStream, Target};
use crate::position::Position;
use crate::table_schema::TableName;

/// When a batch is written: whichever bound is reached first.
#[derive(Debug, Clone, Copy)]
pub struct BatchLimits {
    pub max_changes: usize,
    pub max_bytes: usize,
    /// How long a change may wait for its batch to fill, which bounds the lag an idle
    /// pair adds.
    pub max_delay: Duration,
}

impl Default for BatchLimits {
    fn default() -> Self {
        BatchLimits {
            max_changes: 10_000,
            max_bytes: 16 << 20,
            max_delay: Duration::from_millis(50),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamEnd {
    /// The stream reached the position it was asked to catch up with.
    CaughtUp,
    /// `stop` resolved.
    Stopped,
}

/// Applies `stream` to `target` in compacted batches until it reaches `until` (when
/// given) or `stop` resolves; every batch is written with the checkpoints of the
/// tables it touches.
///
/// The stream starts at the earliest checkpoint, so tables whose checkpoint is further
/// on see transactions they already hold: those are skipped. A checkpoint is always a
/// commit position, so a transaction that began before a table's checkpoint is one the
/// table has.
pub async fn stream_changes<St: ChangeStream, T: Target>(
    stream: &mut St,
    target: &mut T,
    checkpoints: &mut HashMap<TableName, Checkpoint>,
    limits: BatchLimits,
    until: Option<Position>,
    stop: impl Future<Output = ()>,
) -> Result<StreamEnd> {
    tokio::pin!(stop);
    let mut batch = ChangeBatch::new();
    let mut batch_started = Instant::now();
    // Where the transaction being read began: the previous commit.
    let mut txn_start = stream.position();
    let mut last_commit: Option<Position> = None;
    let caught_up = |position: &Position| until.as_ref().is_some_and(|until| position >= until);
    if caught_up(&txn_start) {
        return Ok(StreamEnd::CaughtUp);
    }
    loop {
        let item = tokio::select! {
            biased;
            () = &mut stop => {
                flush(target, &mut batch, checkpoints, last_commit.as_ref()).await?;
                settle(target, checkpoints, &stream.position()).await?;
                return Ok(StreamEnd::Stopped);
            }
            item = stream.next() => item?,
        };
        match item {
            Some(StreamItem::Changes(changes)) => {
                for change in changes {
                    let applied = checkpoints
                        .get(&change.table.name)
                        .is_some_and(|c| txn_start < c.position);
                    if !applied {
                        batch.push(change);
                    }
                }
                // A huge transaction is written in several batches; the checkpoint
                // stays at the last commit until the transaction's own commit.
                if batch.changes() >= limits.max_changes || batch.bytes() >= limits.max_bytes {
                    flush(target, &mut batch, checkpoints, last_commit.as_ref()).await?;
                    batch_started = Instant::now();
                }
            }
            Some(StreamItem::Commit { position, .. }) => {
                txn_start = position.clone();
                let done = caught_up(&position);
                last_commit = Some(position);
                let full = batch.changes() >= limits.max_changes
                    || batch.bytes() >= limits.max_bytes
                    || batch_started.elapsed() >= limits.max_delay;
                if full || done {
                    flush(target, &mut batch, checkpoints, last_commit.as_ref()).await?;
                    batch_started = Instant::now();
                }
                if done {
                    settle(target, checkpoints, &stream.position()).await?;
                    return Ok(StreamEnd::CaughtUp);
                }
            }
            None => {
                flush(target, &mut batch, checkpoints, last_commit.as_ref()).await?;
                batch_started = Instant::now();
                if caught_up(&stream.position()) {
                    settle(target, checkpoints, &stream.position()).await?;
                    return Ok(StreamEnd::CaughtUp);
                }
            }
        }
    }
}

/// Writes `batch` with the checkpoints of the tables it touches moved to `commit`.
async fn flush<T: Target>(
    target: &mut T,
    batch: &mut ChangeBatch,
    checkpoints: &mut HashMap<TableName, Checkpoint>,
    commit: Option<&Position>,
) -> Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let mut moved = Vec::new();
    for table in batch.tables() {
        let Some(checkpoint) = checkpoints.get(&table.table.name) else {
            return Err(Error::new(
                ErrorKind::SchemaMismatch,
                "has changes but was never copied",
            )
            .with_table(table.table.name.clone()));
        };
        let mut checkpoint = checkpoint.clone();
        if let Some(commit) = commit.filter(|commit| *commit > &checkpoint.position) {
            checkpoint.position = commit.clone();
        }
        moved.push((table.table.name.clone(), checkpoint));
    }
    target.apply(batch, &moved).await?;
    for (table, checkpoint) in moved {
        checkpoints.insert(table, checkpoint);
    }
    *batch = ChangeBatch::new();
    Ok(())
}

/// Moves every table's checkpoint up to `position`, which the stream has read and
/// applied whole, so that the next run need not read again what no table needed.
async fn settle<T: Target>(
    target: &mut T,
    checkpoints: &mut HashMap<TableName, Checkpoint>,
    position: &Position,
) -> Result<()> {
    let mut moved = Vec::new();
    for (table, checkpoint) in checkpoints.iter_mut() {
        if position > &checkpoint.position {
            checkpoint.position = position.clone();
            moved.push((table.clone(), checkpoint.clone()));
        }
    }
    if moved.is_empty() {
        return Ok(());
    }
    target.apply(&ChangeBatch::new(), &moved).await
}
