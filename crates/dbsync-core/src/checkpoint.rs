//! Where each table of a pair stands, as the target records it.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind, Result};
use crate::position::Position;
use crate::table_schema::TableName;
use crate::value::Value;

/// One table's progress, written in the target in the same transaction as the rows it
/// accounts for, so that it is never ahead of or behind them.
///
/// Progress must never move backward: a writer refuses a position older than the one
/// it holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub copy: CopyProgress,
    /// The source position up to which the table's changes are applied: where its
    /// stream resumes. Set when the copy starts, to a position taken before its first
    /// chunk, so that the stream replays every change the copy may have missed.
    pub position: Position,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum CopyProgress {
    /// Chunks up to and including the row with key `after` are copied.
    Copying {
        after: Option<Vec<Value>>,
        rows: u64,
    },
    Done {
        rows: u64,
    },
}

impl CopyProgress {
    pub fn rows(&self) -> u64 {
        match self {
            CopyProgress::Copying { rows, .. } | CopyProgress::Done { rows } => *rows,
        }
    }
}

impl Checkpoint {
    /// The checkpoint of `table` stored as `json` in `store`.
    pub fn from_json(json: &str, table: &TableName, store: &str) -> Result<Checkpoint> {
        serde_json::from_str(json).map_err(|e| {
            Error::new(
                ErrorKind::InvalidData,
                format!("the checkpoint of {table} in {store} is not readable: {e}"),
            )
        })
    }

    /// The checkpoint of `table` as JSON, to store in a target.
    pub fn to_json(&self, table: &TableName) -> Result<String> {
        serde_json::to_string(self).map_err(|e| {
            Error::new(
                ErrorKind::InvalidData,
                format!("the checkpoint of {table} cannot be written: {e}"),
            )
        })
    }

    /// Checks that `held`, the checkpoint a target holds for `table` in `store` (`None`
    /// when it holds none), is the one a copy chunk of `chunk_rows` rows follows, before
    /// the chunk is committed with `self`.
    ///
    /// The chunk goes straight into the table, which would refuse (or double) a row
    /// copied before. The held checkpoint differs when another process copies the
    /// same pair, or when an earlier attempt's commit landed after its connection was
    /// lost; the error is retryable, and reading the checkpoints again sorts it out.
    pub fn check_chunk_follows(
        &self,
        held: Option<&Checkpoint>,
        chunk_rows: usize,
        table: &TableName,
        store: &str,
    ) -> Result<()> {
        let before = self.copy.rows().saturating_sub(chunk_rows as u64);
        let held_rows = match held.map(|h| &h.copy) {
            None => Some(0),
            Some(CopyProgress::Copying { rows, .. }) => Some(*rows),
            Some(CopyProgress::Done { .. }) => None,
        };
        if held_rows == Some(before) {
            return Ok(());
        }
        let says = match held.map(|h| &h.copy) {
            None => "nothing is copied".to_owned(),
            Some(CopyProgress::Done { rows }) => format!("the copy is done ({rows} rows)"),
            Some(CopyProgress::Copying { rows, .. }) => format!("{rows} rows are copied"),
        };
        Err(Error::new(
            ErrorKind::Retryable,
            format!(
                "the checkpoint in {store} says {says} where this chunk follows {before} copied rows: another dbsync process copies this pair, or an earlier write landed late; the copy resumes from the checkpoint"
            ),
        )
        .with_table(table.clone()))
    }

    /// Checks that writing `self` over `held`, the checkpoint a target holds for
    /// `table` in `store`, does not move it backward (an older position, or a copy
    /// further back), which would replay changes over newer rows. As for a chunk, the
    /// cause is another process or a late commit, and the error is retryable.
    ///
    /// Positions that do not compare (the pair's source changed) are left to the
    /// capture, which refuses a position not its own.
    pub fn check_moves_forward(
        &self,
        held: &Checkpoint,
        table: &TableName,
        store: &str,
    ) -> Result<()> {
        let position_back = self.position.partial_cmp(&held.position) == Some(Ordering::Less);
        let copy_back = match (&held.copy, &self.copy) {
            (CopyProgress::Done { .. }, CopyProgress::Copying { .. }) => true,
            (held_copy, copy) => copy.rows() < held_copy.rows(),
        };
        if !position_back && !copy_back {
            return Ok(());
        }
        Err(Error::new(
            ErrorKind::Retryable,
            format!(
                "the checkpoint in {store} is at {} where this write would move it back to {}: another dbsync process syncs this pair, or an earlier write landed late; the stream resumes from the checkpoint",
                held.position, self.position
            ),
        )
        .with_table(table.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(id: u64, copy: CopyProgress) -> Checkpoint {
        Checkpoint {
            copy,
            position: Position::AuditLog { id },
        }
    }

    fn copying(rows: u64) -> CopyProgress {
        CopyProgress::Copying { after: None, rows }
    }

    #[test]
    fn a_chunk_follows_exactly_the_rows_held() {
        let table = TableName::new("shop", "orders");
        let next = at(4, copying(30));
        assert!(next.check_chunk_follows(None, 30, &table, "t").is_ok());
        assert!(
            next.check_chunk_follows(Some(&at(4, copying(20))), 10, &table, "t")
                .is_ok()
        );
        let late = next
            .check_chunk_follows(Some(&at(4, copying(30))), 10, &table, "t")
            .unwrap_err();
        assert_eq!(late.kind(), ErrorKind::Retryable);
        let done = at(4, CopyProgress::Done { rows: 20 });
        assert!(
            next.check_chunk_follows(Some(&done), 10, &table, "t")
                .is_err()
        );
    }

    #[test]
    fn checkpoints_never_move_backward() {
        let table = TableName::new("shop", "orders");
        let done = CopyProgress::Done { rows: 5 };
        let held = at(100, done.clone());
        assert!(held.check_moves_forward(&held, &table, "t").is_ok());
        assert!(
            at(200, done.clone())
                .check_moves_forward(&held, &table, "t")
                .is_ok()
        );
        let back = at(50, done)
            .check_moves_forward(&held, &table, "t")
            .unwrap_err();
        assert_eq!(back.kind(), ErrorKind::Retryable);
        assert!(
            at(200, copying(5))
                .check_moves_forward(&held, &table, "t")
                .is_err()
        );
    }
}
