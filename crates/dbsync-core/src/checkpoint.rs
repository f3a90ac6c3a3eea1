//! Where each table of a pair stands, as the target records it.

use serde::{Deserialize, Serialize};

use crate::position::Position;
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
