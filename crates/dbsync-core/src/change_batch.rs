//! Changes gathered for one target transaction, compacted per key.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;

use crate::change::{Change, ChangeOp, Row};
use crate::table_schema::{TableName, TableSchema};
use crate::value::Value;

/// The net effect of a run of changes, per table: replaying it has the same result on
/// a target as replaying the changes one by one, but touches each key once.
///
/// After compaction the keys of a table's upserts and deletes are disjoint, so a
/// target may apply a table's `truncate`, then its deletes, then its upserts, in any
/// grouping it likes.
#[derive(Debug, Default)]
pub struct ChangeBatch {
    tables: HashMap<TableName, TableChanges>,
    /// Source changes pushed, before compaction.
    changes: usize,
    /// A rough size of the rows held, to bound memory.
    bytes: usize,
}

/// One table's share of a [`ChangeBatch`].
#[derive(Debug)]
pub struct TableChanges {
    pub table: Arc<TableSchema>,
    /// Every row of the table goes first.
    pub truncate: bool,
    rows: HashMap<KeyBytes, FinalState>,
    key_positions: Vec<usize>,
}

/// What a key ends as.
#[derive(Debug, Clone, PartialEq)]
pub enum FinalState {
    /// The row exists with these values.
    Upsert(Row),
    /// The row with this key does not exist; the values are the key's.
    Delete(Vec<Value>),
}

/// A key's values encoded so that equal keys have equal bytes.
type KeyBytes = Vec<u8>;

impl ChangeBatch {
    pub fn new() -> Self {
        ChangeBatch::default()
    }

    /// Adds a change. Rows are identified by their table's `primary_key`, which the
    /// engine sets to the declared key for a table that has none.
    pub fn push(&mut self, change: Change) {
        self.changes += 1;
        let table = self
            .tables
            .entry(change.table.name.clone())
            .or_insert_with(|| TableChanges::new(&change.table));
        match change.op {
            ChangeOp::Insert { after } => {
                self.bytes += row_bytes(&after);
                table.upsert(after);
            }
            ChangeOp::Update { before, after } => {
                self.bytes += row_bytes(&after);
                let old_key = table.key_bytes(&before);
                if old_key != table.key_bytes(&after) {
                    // The key changed: the old row is gone, the new one exists.
                    table
                        .rows
                        .insert(old_key, FinalState::Delete(table.key_values(&before)));
                }
                table.upsert(after);
            }
            ChangeOp::Delete { before } => {
                let key = table.key_bytes(&before);
                table
                    .rows
                    .insert(key, FinalState::Delete(table.key_values(&before)));
            }
            ChangeOp::Truncate => {
                table.truncate = true;
                table.rows.clear();
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.changes == 0
    }

    /// Source changes pushed since the batch began.
    pub fn changes(&self) -> usize {
        self.changes
    }

    pub fn bytes(&self) -> usize {
        self.bytes
    }

    pub fn tables(&self) -> impl Iterator<Item = &TableChanges> {
        self.tables.values()
    }
}

impl TableChanges {
    fn new(table: &Arc<TableSchema>) -> Self {
        let key_positions = table
            .primary_key
            .iter()
            .filter_map(|name| table.columns.iter().position(|c| &c.name == name))
            .collect();
        TableChanges {
            table: Arc::clone(table),
            truncate: false,
            rows: HashMap::new(),
            key_positions,
        }
    }

    fn upsert(&mut self, row: Row) {
        match self.rows.entry(self.key_bytes(&row)) {
            Entry::Occupied(mut entry) => *entry.get_mut() = FinalState::Upsert(row),
            Entry::Vacant(entry) => {
                entry.insert(FinalState::Upsert(row));
            }
        }
    }

    fn key_values(&self, row: &Row) -> Vec<Value> {
        self.key_positions.iter().map(|&i| row[i].clone()).collect()
    }

    fn key_bytes(&self, row: &Row) -> KeyBytes {
        let mut bytes = Vec::with_capacity(16 * self.key_positions.len());
        for &i in &self.key_positions {
            encode_key_value(&row[i], &mut bytes);
        }
        bytes
    }

    /// The rows that end up existing.
    pub fn upserts(&self) -> impl Iterator<Item = &Row> {
        self.rows.values().filter_map(|state| match state {
            FinalState::Upsert(row) => Some(row),
            FinalState::Delete(_) => None,
        })
    }

    /// The keys that end up absent.
    pub fn deletes(&self) -> impl Iterator<Item = &[Value]> {
        self.rows.values().filter_map(|state| match state {
            FinalState::Delete(key) => Some(key.as_slice()),
            FinalState::Upsert(_) => None,
        })
    }

    /// The positions of the key columns in a row.
    pub fn key_positions(&self) -> &[usize] {
        &self.key_positions
    }
}

/// A tagged, length-prefixed encoding: two keys are equal exactly when their values are.
/// Floats compare by bit pattern, which is what a key column of floats means anyway.
fn encode_key_value(value: &Value, out: &mut Vec<u8>) {
    let mut put = |tag: u8, bytes: &[u8]| {
        out.push(tag);
        out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        out.extend_from_slice(bytes);
    };
    match value {
        Value::Null => put(0, &[]),
        Value::Bool(b) => put(1, &[u8::from(*b)]),
        Value::Int(n) => put(2, &n.to_le_bytes()),
        Value::UInt(n) => put(3, &n.to_le_bytes()),
        Value::Float(x) => put(4, &x.to_bits().to_le_bytes()),
        Value::Double(x) => put(5, &x.to_bits().to_le_bytes()),
        Value::Decimal(d) => put(6, d.as_str().as_bytes()),
        Value::Text(s) | Value::Json(s) | Value::Enum(s) => put(7, s.as_bytes()),
        Value::Bytes(b) => put(8, b),
        Value::Date(d) => put(9, d.to_string().as_bytes()),
        Value::ZeroDate => put(10, &[]),
        Value::Time(t) => put(11, &t.micros().to_le_bytes()),
        Value::DateTime(dt) => put(12, dt.to_string().as_bytes()),
        Value::Timestamp(ts) => put(13, &ts.timestamp_micros().to_le_bytes()),
        Value::Year(y) => put(14, &y.to_le_bytes()),
        Value::Set(labels) => put(15, labels.join(",").as_bytes()),
        Value::Bit(bits) => put(16, bits.as_bytes()),
        Value::Geometry(g) => put(17, &g.wkb),
        Value::Uuid(u) => put(18, &u.0),
    }
}

/// A rough in-memory size of a row, for the byte bound of a batch.
fn row_bytes(row: &Row) -> usize {
    row.iter()
        .map(|value| {
            std::mem::size_of::<Value>()
                + match value {
                    Value::Text(s) | Value::Json(s) | Value::Enum(s) => s.len(),
                    Value::Bytes(b) => b.len(),
                    Value::Geometry(g) => g.wkb.len(),
                    Value::Decimal(d) => d.as_str().len(),
                    Value::Set(labels) => labels.iter().map(String::len).sum(),
                    _ => 0,
                }
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table_schema::fixture::int_table;

    fn row(id: i64, v: i64) -> Row {
        vec![Value::Int(id), Value::Int(v)]
    }

    fn change(op: ChangeOp) -> Change {
        Change {
            table: int_table("t", &["id", "v"]),
            op,
        }
    }

    fn states(batch: &ChangeBatch) -> (Vec<Row>, Vec<Vec<Value>>, bool) {
        let t = batch.tables().next().unwrap();
        let mut upserts: Vec<Row> = t.upserts().cloned().collect();
        let mut deletes: Vec<Vec<Value>> = t.deletes().map(<[Value]>::to_vec).collect();
        upserts.sort_by_key(|r| format!("{r:?}"));
        deletes.sort_by_key(|r| format!("{r:?}"));
        (upserts, deletes, t.truncate)
    }

    #[test]
    fn last_change_per_key_wins() {
        let mut batch = ChangeBatch::new();
        batch.push(change(ChangeOp::Insert { after: row(1, 10) }));
        batch.push(change(ChangeOp::Update {
            before: row(1, 10),
            after: row(1, 11),
        }));
        batch.push(change(ChangeOp::Insert { after: row(2, 20) }));
        batch.push(change(ChangeOp::Delete { before: row(2, 20) }));
        assert_eq!(batch.changes(), 4);
        assert_eq!(
            states(&batch),
            (vec![row(1, 11)], vec![vec![Value::Int(2)]], false)
        );
    }

    #[test]
    fn a_key_change_deletes_the_old_key() {
        let mut batch = ChangeBatch::new();
        batch.push(change(ChangeOp::Update {
            before: row(1, 10),
            after: row(5, 10),
        }));
        assert_eq!(
            states(&batch),
            (vec![row(5, 10)], vec![vec![Value::Int(1)]], false)
        );
        // Moving it back leaves the original key existing and the other one gone.
        batch.push(change(ChangeOp::Update {
            before: row(5, 10),
            after: row(1, 12),
        }));
        assert_eq!(
            states(&batch),
            (vec![row(1, 12)], vec![vec![Value::Int(5)]], false)
        );
    }

    #[test]
    fn truncate_discards_what_came_before() {
        let mut batch = ChangeBatch::new();
        batch.push(change(ChangeOp::Insert { after: row(1, 10) }));
        batch.push(change(ChangeOp::Truncate));
        batch.push(change(ChangeOp::Insert { after: row(2, 20) }));
        assert_eq!(states(&batch), (vec![row(2, 20)], vec![], true));
    }
}
