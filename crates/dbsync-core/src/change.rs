//! Row changes as they flow from capture to apply.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::position::Position;
use crate::table_schema::TableSchema;
use crate::value::Value;

/// The values of one row, in the column order of its table's schema.
pub type Row = Vec<Value>;

/// One row-level change to one table.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// The schema the row images follow; shared by every change to the table.
    pub table: Arc<TableSchema>,
    pub op: ChangeOp,
}

/// What happened to the row. Each operation carries exactly the images it has, so an
/// insert without its new row or a delete without its old row cannot be built.
#[derive(Debug, Clone, PartialEq)]
pub enum ChangeOp {
    Insert {
        after: Row,
    },
    Update {
        before: Row,
        after: Row,
    },
    Delete {
        before: Row,
    },
    /// Every row of the table was removed.
    Truncate,
}

/// What a capture stream yields, in source order: the changes of a source transaction,
/// in as many items as it takes, then its commit.
///
/// A transaction is not gathered whole, so a million-row source transaction costs no
/// more memory than a small one. Its position is known, and may be checkpointed, only
/// at its `Commit`; a restart from the previous commit replays the transaction's first
/// part, which idempotent apply absorbs.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamItem {
    Changes(Vec<Change>),
    Commit {
        /// The position just after the commit: where to resume to read what follows.
        position: Position,
        commit_time: DateTime<Utc>,
    },
}
