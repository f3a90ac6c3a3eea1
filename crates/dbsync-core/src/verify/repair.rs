//! Repair: the target's rows of the keys a verify found differing made equal to the
//! source's, through the target's normal apply path.

use serde::{Deserialize, Serialize};

use crate::change::{Change, ChangeOp};
use crate::change_batch::ChangeBatch;
use crate::checkpoint::Checkpoint;
use crate::error::{Error, ErrorKind, Result};
use crate::pipeline::Target;
use crate::table_schema::TableName;
use crate::verify::by_key::RowsByKey;
use crate::verify::report::{Keys, TableReport};
use crate::verify::side::VerifySide;
use crate::verify::summary::VerifyTable;

/// Which differences a repair fixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepairScope {
    /// Missing rows are inserted, different ones overwritten, extra ones deleted.
    Everything,
    /// Missing rows are inserted; no row the target holds is changed.
    MissingOnly,
}

/// What a repair wrote to one table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Repaired {
    /// Rows written as the source holds them now.
    pub upserted: u64,
    /// Rows deleted, the source having none of their keys.
    pub deleted: u64,
}

/// Makes `table`'s rows on `target` of the keys in `report` (which must list every
/// key, see [`Keys::is_complete`]) what `source` holds now, within `scope`.
///
/// Each key's row is read afresh from the source (a run of keys in few queries): a
/// key the source has is upserted as it is now, one it lacks is deleted, so that a
/// row that changed since the verify is not put back as it was. Writes go through
/// [`Target::apply`] in batches of at most `batch_rows` keys, each one transaction
/// that carries `checkpoint` (the table's own, read from the target) unchanged, so
/// that no checkpoint moves. Upserts and deletes by key are idempotent: a repair that
/// fails midway may simply run again.
pub async fn repair_table<S: VerifySide, T: Target>(
    source: &mut S,
    target: &mut T,
    table: &VerifyTable,
    report: &TableReport,
    scope: RepairScope,
    checkpoint: Option<&Checkpoint>,
    batch_rows: usize,
) -> Result<Repaired> {
    let repaired_keys: &[&Keys] = match scope {
        RepairScope::Everything => &[&report.missing, &report.different, &report.extra],
        RepairScope::MissingOnly => &[&report.missing],
    };
    if let Some(partial) = repaired_keys.iter().find(|k| !k.is_complete()) {
        return Err(Error::new(
            ErrorKind::Config,
            format!(
                "the verify listed {} of the {} differing keys, and a repair needs them all; verify again listing every key",
                partial.first.len(),
                partial.count
            ),
        )
        .with_table(report.table.clone()));
    }
    let checkpoints: Vec<_> = checkpoint
        .map(|c| (report.table.clone(), c.clone()))
        .into_iter()
        .collect();
    let mut repaired = Repaired::default();
    let mut batch = ChangeBatch::new();
    let keys = || repaired_keys.iter().flat_map(|keys| &keys.first);
    let mut source_rows = RowsByKey::new(table, keys(), batch_rows);
    for key in keys() {
        let op = match source_rows.row(source, key).await? {
            Some(after) => {
                repaired.upserted += 1;
                ChangeOp::Insert { after }
            }
            // Inserting only, nothing is deleted: a missing row gone from the source
            // since the verify is simply no longer missing.
            None if scope == RepairScope::MissingOnly => continue,
            None => {
                repaired.deleted += 1;
                ChangeOp::Delete {
                    before: table.row_with_key(key),
                }
            }
        };
        push(&mut batch, table, op, target, &checkpoints, batch_rows).await?;
    }
    if !batch.is_empty() {
        target.apply(&batch, &checkpoints).await?;
    }
    Ok(repaired)
}

/// Adds `op` to `batch`, applying the batch once it holds `batch_rows` changes.
async fn push<T: Target>(
    batch: &mut ChangeBatch,
    table: &VerifyTable,
    op: ChangeOp,
    target: &mut T,
    checkpoints: &[(TableName, Checkpoint)],
    batch_rows: usize,
) -> Result<()> {
    batch.push(Change {
        table: table.schema.clone(),
        op,
    });
    if batch.changes() >= batch_rows.max(1) {
        target.apply(batch, checkpoints).await?;
        *batch = ChangeBatch::new();
    }
    Ok(())
}
