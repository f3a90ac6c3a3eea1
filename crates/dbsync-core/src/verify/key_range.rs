//! A range of a table's primary key, the unit that verify summarizes and compares.

use std::ops::Bound;

use crate::value::Value;

/// The values of a row's key columns, in key order, as the source table's values.
pub type Key = Vec<Value>;

/// The rows whose key is at or after (or strictly after) `start` and before `end`,
/// as each engine orders keys.
///
/// Bounds are keys of the source table's values; an engine compares them with its own
/// columns' order, which for text keys may not be the source's. Verify copes: a row
/// that falls on the other side of a bound on one engine makes both ranges differ, and
/// the rows of all differing ranges of a table are matched by key together.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyRange {
    pub start: Bound<Key>,
    /// Exclusive; `None` for the end of the table.
    pub end: Option<Key>,
}

impl KeyRange {
    /// The whole table.
    pub fn all() -> KeyRange {
        KeyRange {
            start: Bound::Unbounded,
            end: None,
        }
    }

    /// What is left of the range after the row whose key is `key`: where the next
    /// chunk of a read in key order starts.
    pub fn after(&self, key: Key) -> KeyRange {
        KeyRange {
            start: Bound::Excluded(key),
            end: self.end.clone(),
        }
    }

    /// The range from this one's start to `end` (exclusive), a key within it, or to
    /// this one's end when `end` is `None`.
    pub fn until(&self, end: Option<Key>) -> KeyRange {
        KeyRange {
            start: self.start.clone(),
            end: end.or_else(|| self.end.clone()),
        }
    }
}
