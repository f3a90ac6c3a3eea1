//! What a pair's target commits, reported as it happens, for `dbsync serve` to show.
//!
//! The engines know nothing of it: the target of a pair that reports sends one
//! [`Committed`] per table after each write that committed rows with their checkpoint.
//! Nobody listening is fine; a report never holds a write back.

use std::collections::BTreeMap;
use std::time::Duration;

use dbsync_core::{ChangeBatch, Checkpoint, TableName};
use tokio::sync::mpsc;

/// Where reports go.
pub(crate) type ProgressSender = mpsc::UnboundedSender<Committed>;

/// One table's rows committed with its checkpoint.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Committed {
    pub(crate) table: TableName,
    pub(crate) written: Written,
    /// The checkpoint committed with the rows: the copy's progress and the position.
    pub(crate) checkpoint: Checkpoint,
    /// How long the write took, commit included; for a batch of several tables, the
    /// whole batch's.
    pub(crate) took: Duration,
}

/// The rows of one commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Written {
    /// A chunk of the initial copy.
    Copied { rows: u64 },
    /// Streamed changes, compacted: the rows upserted and the keys deleted, after the
    /// whole table was emptied when `truncated`.
    Applied {
        upserts: u64,
        deletes: u64,
        truncated: bool,
    },
}

/// Reports a copied chunk of `rows` rows of `table`.
pub(crate) fn copied(
    progress: &ProgressSender,
    table: &TableName,
    rows: usize,
    checkpoint: &Checkpoint,
    took: Duration,
) {
    report(
        progress,
        Committed {
            table: table.clone(),
            written: Written::Copied { rows: rows as u64 },
            checkpoint: checkpoint.clone(),
            took,
        },
    );
}

/// Reports an applied `batch`, one report per table whose checkpoint moved with it.
pub(crate) fn applied(
    progress: &ProgressSender,
    batch: &ChangeBatch,
    checkpoints: &[(TableName, Checkpoint)],
    took: Duration,
) {
    let written: BTreeMap<&TableName, Written> = batch
        .tables()
        .map(|changes| {
            let written = Written::Applied {
                upserts: changes.upserts().count() as u64,
                deletes: changes.deletes().count() as u64,
                truncated: changes.truncate,
            };
            (&changes.table.name, written)
        })
        .collect();
    for (table, checkpoint) in checkpoints {
        let written = written.get(table).copied().unwrap_or(Written::Applied {
            upserts: 0,
            deletes: 0,
            truncated: false,
        });
        report(
            progress,
            Committed {
                table: table.clone(),
                written,
                checkpoint: checkpoint.clone(),
                took,
            },
        );
    }
}

fn report(progress: &ProgressSender, committed: Committed) {
    // An error only means that nobody listens any more.
    let _ = progress.send(committed);
}
