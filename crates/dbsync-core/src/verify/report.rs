//! What verify found, per table.

use serde::{Deserialize, Serialize};

use crate::table_schema::TableName;
use crate::verify::key_range::Key;

/// The outcome of verifying a pair's tables.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VerifyReport {
    pub tables: Vec<TableReport>,
}

impl VerifyReport {
    /// Whether the target holds exactly the source's rows in every table.
    pub fn is_equal(&self) -> bool {
        self.tables.iter().all(TableReport::is_equal)
    }
}

/// How one table's target rows differ from its source rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableReport {
    pub table: TableName,
    pub source_rows: u64,
    pub target_rows: u64,
    /// Keys the source has and the target lacks.
    pub missing: Keys,
    /// Keys the target has and the source lacks.
    pub extra: Keys,
    /// Keys on both sides whose rows differ.
    pub different: Keys,
}

impl TableReport {
    pub fn is_equal(&self) -> bool {
        self.missing.count == 0 && self.extra.count == 0 && self.different.count == 0
    }
}

/// How many keys, and the first of them in the order found (the source's key order,
/// mostly), up to the limit the verify was given.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Keys {
    pub count: u64,
    pub first: Vec<Key>,
}

impl Keys {
    /// Whether every key found is listed, not only the first: what a repair needs.
    pub fn is_complete(&self) -> bool {
        self.first.len() as u64 == self.count
    }

    pub(crate) fn push(&mut self, key: Key, limit: usize) {
        self.count += 1;
        if self.first.len() < limit {
            self.first.push(key);
        }
    }
}
