//! Reading a side's rows of a list of keys, in few queries where the keys are dense.

use std::collections::{HashMap, HashSet};
use std::ops::Bound;

use crate::change::Row;
use crate::error::Result;
use crate::verify::key_range::{Key, KeyRange};
use crate::verify::side::VerifySide;
use crate::verify::summary::VerifyTable;

/// The rows of a list of keys, asked for one key at a time in the list's order.
///
/// Each key's row is the first row at or after it, when its key is that key. A read
/// from a key also returns the rows after it, up to a limit that doubles while every
/// row read is one of the keys still to come (a run of missing rows, a table whose
/// target lost a whole range) and falls back to one row at the first that is not (keys
/// scattered over the table): dense keys cost a query per many rows, sparse ones a
/// query each and no wasted rows. Rows are matched by canonical key encoding, so the
/// order an engine sorts its keys in does not matter.
#[derive(Debug)]
pub(crate) struct RowsByKey<'t> {
    table: &'t VerifyTable,
    /// The encodings of the keys not asked for yet.
    to_come: HashSet<Vec<u8>>,
    /// Rows read ahead, of keys to come.
    ahead: HashMap<Vec<u8>, Row>,
    limit: usize,
    max_limit: usize,
}

impl<'t> RowsByKey<'t> {
    /// For `keys` of `table`, reading at most `max_limit` rows at a time.
    pub(crate) fn new<'k>(
        table: &'t VerifyTable,
        keys: impl IntoIterator<Item = &'k Key>,
        max_limit: usize,
    ) -> Self {
        RowsByKey {
            table,
            to_come: keys.into_iter().map(|k| table.key_encoding(k)).collect(),
            ahead: HashMap::new(),
            limit: 1,
            max_limit: max_limit.max(1),
        }
    }

    /// `side`'s row of `key`, if it has one.
    pub(crate) async fn row<S: VerifySide>(
        &mut self,
        side: &mut S,
        key: &Key,
    ) -> Result<Option<Row>> {
        let wanted = self.table.key_encoding(key);
        self.to_come.remove(&wanted);
        if let Some(row) = self.ahead.remove(&wanted) {
            return Ok(Some(row));
        }
        let from = KeyRange {
            start: Bound::Included(key.clone()),
            end: None,
        };
        let rows = side.read_range(self.table, &from, self.limit).await?;
        let (read, mut to_come) = (rows.len(), 0);
        let mut found = None;
        for row in rows {
            let encoding = self.table.key_encoding(&self.table.key_of(&row));
            if encoding == wanted {
                found = Some(row);
            } else if self.to_come.contains(&encoding) {
                to_come += 1;
                self.ahead.insert(encoding, row);
            }
        }
        let dense = read == self.limit && to_come + usize::from(found.is_some()) == read;
        self.limit = if dense {
            (self.limit * 2).min(self.max_limit)
        } else {
            1
        };
        Ok(found)
    }
}
