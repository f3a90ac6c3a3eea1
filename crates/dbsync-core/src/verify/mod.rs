//! Verify: whether a target holds exactly its source's rows, on any pair of engines.
//!
//! Each side reads its rows as the source table's values ([`VerifySide`]); each row is
//! encoded canonically ([`Canonical`]) with the source column types and hashed; key
//! ranges are summarized as a row count and a sum of row hashes ([`RangeSummary`]);
//! ranges that differ are bisected down to rows, which are matched by key
//! ([`verify_table`]). The result lists per table the missing, extra and different
//! keys ([`VerifyReport`]), which [`repair_table`] can make equal through the target's
//! normal apply path. Keys found differing are checked again once the pair's stream
//! has passed the source's state they were read in ([`recheck_table`]), so that rows
//! changing on the source during a verify are not reported.

mod by_key;
mod canonical;
mod compare;
mod json;
mod key_range;
mod recheck;
mod repair;
mod report;
mod side;
mod summary;

pub use canonical::{Canonical, ZeroDates};
pub use compare::{VerifyOptions, verify_table, verify_tables};
pub use key_range::{Key, KeyRange};
pub use recheck::{Recheck, RecheckOptions, Rechecked, SnapshotSide, recheck_table};
pub use repair::{RepairScope, Repaired, repair_table};
pub use report::{Keys, TableReport, VerifyReport};
pub use side::{Part, VerifySide};
pub use summary::{DatabaseHash, RangeSummary, RowDigest, SummaryKind, VerifyTable};

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::ops::Bound;
    use std::sync::Arc;

    use super::*;
    use crate::change::Row;
    use crate::error::Result;
    use crate::table_schema::fixture::int_table;
    use crate::value::Value;

    /// A side held in memory, keyed by its first column.
    #[derive(Debug, Default)]
    struct Memory {
        rows: BTreeMap<i64, Row>,
        reads: usize,
        /// The hash this side's "database" offers, and how many ranges it summarized.
        offers: Option<DatabaseHash>,
        summarized_in_database: usize,
    }

    impl Memory {
        fn with(rows: impl IntoIterator<Item = (i64, i64)>) -> Memory {
            Memory {
                rows: rows
                    .into_iter()
                    .map(|(k, v)| (k, vec![Value::Int(k), Value::Int(v)]))
                    .collect(),
                ..Memory::default()
            }
        }

        fn offering(self, hash: &str) -> Memory {
            Memory {
                offers: Some(DatabaseHash::new(hash)),
                ..self
            }
        }
    }

    fn int_key(key: &Key) -> i64 {
        match key[..] {
            [Value::Int(k)] => k,
            _ => panic!("not an int key: {key:?}"),
        }
    }

    impl VerifySide for Memory {
        async fn read_range(
            &mut self,
            _: &VerifyTable,
            range: &KeyRange,
            limit: usize,
        ) -> Result<Vec<Row>> {
            self.reads += 1;
            let start = match &range.start {
                Bound::Included(k) => Bound::Included(int_key(k)),
                Bound::Excluded(k) => Bound::Excluded(int_key(k)),
                Bound::Unbounded => Bound::Unbounded,
            };
            let end = range
                .end
                .as_ref()
                .map_or(Bound::Unbounded, |k| Bound::Excluded(int_key(k)));
            Ok(self
                .rows
                .range((start, end))
                .take(limit)
                .map(|(_, row)| row.clone())
                .collect())
        }

        async fn database_hash(&mut self, _: &VerifyTable) -> Result<Option<DatabaseHash>> {
            Ok(self.offers.clone())
        }

        /// A count and a plain sum of the values: what a database might compute, and
        /// unlike the canonical summary blind to values swapped between rows.
        async fn summarize_in_database(
            &mut self,
            table: &VerifyTable,
            range: &KeyRange,
        ) -> Result<RangeSummary> {
            self.summarized_in_database += 1;
            let rows = self.rows(table, range).await?;
            let mut summary = RangeSummary::default();
            for row in &rows {
                let Value::Int(v) = row[1] else {
                    panic!("not an int")
                };
                summary.add(v as u128);
            }
            Ok(summary)
        }
    }

    fn options() -> VerifyOptions {
        VerifyOptions {
            rows_per_range: 1_000,
            leaf_rows: 50,
            fanout: 4,
            chunk_rows: 100,
            keys_listed: 3,
            ..VerifyOptions::default()
        }
    }

    async fn verify(source: &mut Memory, target: &mut Memory) -> TableReport {
        let table = int_table("t", &["id", "v"]);
        verify_table(source, target, &table, &options())
            .await
            .unwrap()
    }

    fn keys(ids: &[i64]) -> Vec<Key> {
        ids.iter().map(|&id| vec![Value::Int(id)]).collect()
    }

    #[tokio::test]
    async fn equal_tables_show_no_difference() {
        let rows = (0..5_000).map(|k| (k * 3, k));
        let mut source = Memory::with(rows.clone());
        let mut target = Memory::with(rows);
        let report = verify(&mut source, &mut target).await;
        assert!(report.is_equal(), "{report:?}");
        assert_eq!((report.source_rows, report.target_rows), (5_000, 5_000));
    }

    #[tokio::test]
    async fn planted_changes_are_found_with_their_keys() {
        let rows = (0..20_000).map(|k| (k, k));
        let mut source = Memory::with(rows.clone());
        let mut target = Memory::with(rows);
        target
            .rows
            .insert(7_777, vec![Value::Int(7_777), Value::Int(-1)]);
        target
            .rows
            .insert(19_999, vec![Value::Int(19_999), Value::Null]);
        target.rows.remove(&0);
        target.rows.remove(&12_345);
        target.rows.remove(&12_346);
        for extra in [-5, 25_000, 30_000, 40_000] {
            target
                .rows
                .insert(extra, vec![Value::Int(extra), Value::Int(0)]);
        }
        let report = verify(&mut source, &mut target).await;

        assert_eq!(report.different.count, 2);
        assert_eq!(report.different.first, keys(&[7_777, 19_999]));
        assert_eq!(report.missing.count, 3);
        assert_eq!(report.missing.first, keys(&[0, 12_345, 12_346]));
        assert_eq!(report.extra.count, 4);
        assert_eq!(report.extra.first, keys(&[-5, 25_000, 30_000]));
        assert_eq!((report.source_rows, report.target_rows), (20_000, 20_001));
    }

    #[tokio::test]
    async fn bisection_reads_far_less_than_the_differing_range() {
        let rows = (0..20_000).map(|k| (k, k));
        let mut source = Memory::with(rows.clone());
        let mut target = Memory::with(rows);
        verify(&mut source, &mut target).await;
        let first_pass = std::mem::take(&mut target.reads);

        target
            .rows
            .insert(4_321, vec![Value::Int(4_321), Value::Int(0)]);
        let report = verify(&mut source, &mut target).await;
        assert_eq!(report.different.first, keys(&[4_321]));
        // The differing range of 1000 rows is split in 4 parts of 250 (3 chunks each
        // on the target), the differing one in 4 of 63, that in 4 of 16 (one chunk
        // each), whose 16 rows are read.
        assert_eq!(target.reads - first_pass, 12 + 4 + 4 + 1);
    }

    #[tokio::test]
    async fn ranges_are_summarized_in_the_database_only_when_both_sides_offer_one_hash() {
        let rows = (0..5_000).map(|k| (k, k));
        // Values 10 and 11 swapped between their rows: the same sum.
        let mut changed: Vec<(i64, i64)> = rows.clone().collect();
        changed[10].1 = 11;
        changed[11].1 = 10;
        for (source_hash, target_hash, in_database) in [("a", "b", false), ("a", "a", true)] {
            let mut source = Memory::with(rows.clone()).offering(source_hash);
            let mut target = Memory::with(changed.clone()).offering(target_hash);
            let report = verify(&mut source, &mut target).await;
            assert_eq!(
                (
                    source.summarized_in_database > 0,
                    target.summarized_in_database > 0
                ),
                (in_database, in_database)
            );
            // The database's weak sum misses the swap, which the canonical finds.
            let found = if in_database { vec![] } else { keys(&[10, 11]) };
            assert_eq!(report.different.first, found);
        }
    }

    #[tokio::test]
    async fn an_empty_source_lists_every_target_row_as_extra() {
        let mut source = Memory::default();
        let mut target = Memory::with((0..3_000).map(|k| (k, k)));
        let report = verify(&mut source, &mut target).await;
        assert_eq!(report.extra.count, 3_000);
        assert_eq!(report.extra.first, keys(&[0, 1, 2]));
        assert_eq!(report.missing.count, 0);
    }

    #[tokio::test]
    async fn a_verify_for_a_repair_lists_every_key() {
        let mut source = Memory::with((0..3_000).map(|k| (k, k)));
        let mut target = Memory::default();
        let table = int_table("t", &["id", "v"]);
        let listed = verify_table(&mut source, &mut target, &table, &options())
            .await
            .unwrap();
        assert!(!listed.missing.is_complete());
        let options = options().listing_every_key();
        let every = verify_table(&mut source, &mut target, &table, &options)
            .await
            .unwrap();
        assert!(every.missing.is_complete());
        assert_eq!(every.missing.first, keys(&(0..3_000).collect::<Vec<_>>()));
    }

    async fn rows_by_key(source: &mut Memory, ids: &[i64]) -> Vec<Option<Row>> {
        let table =
            VerifyTable::new(int_table("t", &["id", "v"]), Canonical::default(), 100).unwrap();
        let keys = keys(ids);
        let mut reader = by_key::RowsByKey::new(&table, &keys, 100);
        let mut rows = Vec::new();
        for key in &keys {
            rows.push(reader.row(source, key).await.unwrap());
        }
        rows
    }

    #[tokio::test]
    async fn rows_of_dense_keys_are_read_in_few_queries() {
        let mut source = Memory::with((0..2_000).map(|k| (k, k * 10)));
        let ids: Vec<i64> = (500..1_500).collect();
        let rows = rows_by_key(&mut source, &ids).await;
        let expected: Vec<Option<Row>> = ids
            .iter()
            .map(|&k| Some(vec![Value::Int(k), Value::Int(k * 10)]))
            .collect();
        assert_eq!(rows, expected);
        // 1, 2, 4, ... 64 rows (127 in 7 reads), then 100 at a time.
        assert_eq!(source.reads, 7 + 9);
    }

    #[tokio::test]
    async fn rows_of_scattered_keys_are_read_one_each_and_absent_ones_are_none() {
        let mut source = Memory::with((0..2_000).map(|k| (k * 2, k)));
        let rows = rows_by_key(&mut source, &[10, 501, 3_000, 5_000, 3_002]).await;
        assert_eq!(
            rows,
            [
                Some(vec![Value::Int(10), Value::Int(5)]),
                None,
                Some(vec![Value::Int(3_000), Value::Int(1_500)]),
                None,
                Some(vec![Value::Int(3_002), Value::Int(1_501)]),
            ]
        );
        assert_eq!(source.reads, 5);
    }

    /// A side keyed by text, ordered as its engine's collation orders: case-blind
    /// (MySQL's `_ci`) or by bytes (SQLite's, PostgreSQL's "C").
    struct Collated {
        rows: Vec<Row>,
        case_blind: bool,
        reads: usize,
    }

    impl Collated {
        fn new(keys: &[String], case_blind: bool) -> Collated {
            let order = |k: &String| {
                if case_blind {
                    k.to_lowercase()
                } else {
                    k.clone()
                }
            };
            let mut keys = keys.to_vec();
            keys.sort_by_key(order);
            let rows = keys
                .into_iter()
                .map(|k| vec![Value::Text(k), Value::Int(1)])
                .collect();
            Collated {
                rows,
                case_blind,
                reads: 0,
            }
        }

        fn order(&self, row: &Row) -> String {
            match &row[0] {
                Value::Text(k) if self.case_blind => k.to_lowercase(),
                Value::Text(k) => k.clone(),
                other => panic!("not a text key: {other:?}"),
            }
        }
    }

    impl VerifySide for Collated {
        async fn read_range(
            &mut self,
            _: &VerifyTable,
            range: &KeyRange,
            limit: usize,
        ) -> Result<Vec<Row>> {
            self.reads += 1;
            let bound = |key: &Key| self.order(&vec![key[0].clone()]);
            let start = match &range.start {
                Bound::Included(k) => Bound::Included(bound(k)),
                Bound::Excluded(k) => Bound::Excluded(bound(k)),
                Bound::Unbounded => Bound::Unbounded,
            };
            let end = range.end.as_ref().map(bound);
            Ok(self
                .rows
                .iter()
                .filter(|row| {
                    let k = self.order(row);
                    let after = match &start {
                        Bound::Included(s) => k >= *s,
                        Bound::Excluded(s) => k > *s,
                        Bound::Unbounded => true,
                    };
                    after && end.as_ref().is_none_or(|e| k < *e)
                })
                .take(limit)
                .cloned()
                .collect())
        }
    }

    #[tokio::test]
    async fn text_keys_ordered_differently_on_each_side_are_read_once() {
        let mut schema = (*int_table("t", &["code", "v"])).clone();
        schema.columns[0].data_type = crate::data_type::DataType::VarChar { length: Some(8) };
        let table = Arc::new(schema);
        let keys: Vec<String> = (0..11_000)
            .map(|i| {
                if i % 2 == 0 {
                    format!("a{i}")
                } else {
                    format!("B{i}")
                }
            })
            .collect();
        let mut source = Collated::new(&keys, true);
        let mut target = Collated::new(&keys, false);
        let equal = verify_table(&mut source, &mut target, &table, &options())
            .await
            .unwrap();
        assert!(equal.is_equal(), "{equal:?}");
        // 11,000 rows in chunks of 100, once on each side.
        assert_eq!((source.reads, target.reads), (111, 111));

        target.rows.retain(|row| row[0] != Value::Text("B7".into()));
        target.rows[0][1] = Value::Int(2);
        let changed = target.rows[0][0].clone();
        let report = verify_table(&mut source, &mut target, &table, &options())
            .await
            .unwrap();
        assert_eq!(report.missing.first, vec![vec![Value::Text("B7".into())]]);
        assert_eq!(report.different.first, vec![vec![changed]]);
        assert_eq!(report.extra.count, 0);
    }

    #[test]
    fn a_report_serializes_to_json() {
        let mut report = VerifyReport::default();
        let mut missing = Keys::default();
        missing.push(vec![Value::Int(3)], 10);
        report.tables.push(TableReport {
            table: crate::TableName::new("shop", "orders"),
            source_rows: 2,
            target_rows: 1,
            missing,
            extra: Keys::default(),
            different: Keys::default(),
        });
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(
            json["tables"][0]["missing"],
            serde_json::json!({"count": 1, "first": [[{"type": "int", "value": 3}]]})
        );
        assert!(!report.is_equal());
    }
}
