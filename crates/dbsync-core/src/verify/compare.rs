//! The verify algorithm: summarize a table's key ranges on both sides, bisect the
//! ranges whose summaries differ, and compare the rows of the small ones by key.

use std::collections::HashMap;
use std::sync::Arc;

use crate::change::Row;
use crate::error::Result;
use crate::table_schema::{TableName, TableSchema};
use crate::verify::canonical::Canonical;
use crate::verify::key_range::KeyRange;
use crate::verify::report::{Keys, TableReport, VerifyReport};
use crate::verify::side::{Part, VerifySide};
use crate::verify::summary::{RangeSummary, RowDigest, SummaryKind, VerifyTable};

#[derive(Debug, Clone, Copy)]
pub struct VerifyOptions {
    pub canonical: Canonical,
    /// Source rows per range of the first pass over a table whose rows are hashed in
    /// dbsync.
    pub rows_per_range: usize,
    /// The same where both databases summarize ranges in SQL: ranges cost the
    /// network nothing per row, so they are made larger to save round trips.
    pub rows_per_range_in_database: usize,
    /// A differing range with at most this many rows on each side is compared row by
    /// row; a larger one is split.
    pub leaf_rows: usize,
    /// How many parts a differing range is split into.
    pub fanout: usize,
    /// How many rows a side reads at a time.
    pub chunk_rows: usize,
    /// How many keys of each kind of difference a report lists per table.
    pub keys_listed: usize,
}

impl VerifyOptions {
    /// These options with every differing key listed, as a repair needs. The keys are
    /// held in memory until the table's report is done, so memory grows with the
    /// number of differences found (a key per differing row).
    pub fn listing_every_key(self) -> VerifyOptions {
        VerifyOptions {
            keys_listed: usize::MAX,
            ..self
        }
    }
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            canonical: Canonical::default(),
            rows_per_range: 10_000,
            rows_per_range_in_database: 100_000,
            leaf_rows: 1_000,
            fanout: 16,
            chunk_rows: 10_000,
            keys_listed: 10,
        }
    }
}

/// Compares each of `tables` (the source's schemas) between `source` and `target`.
pub async fn verify_tables<S: VerifySide, T: VerifySide>(
    source: &mut S,
    target: &mut T,
    tables: &[Arc<TableSchema>],
    options: &VerifyOptions,
) -> Result<VerifyReport> {
    let mut report = VerifyReport::default();
    for table in tables {
        report
            .tables
            .push(verify_table(source, target, table, options).await?);
    }
    Ok(report)
}

/// Compares `table` between `source` and `target`.
///
/// Both sides are asked which hash their database computes of the table's rows; when
/// they offer the same, ranges are summarized in SQL (the whole table first), else
/// from rows hashed in dbsync.
/// The first pass cuts the table into ranges of the source's keys and summarizes each
/// on both sides. A range whose summaries differ is cut again, by the keys of the side
/// that has more rows in it (so that rows only the target has are split too), until
/// it is small enough to read whole on both sides and compare by key, always in the
/// canonical encoding, so that every difference the report lists is a real one.
pub async fn verify_table<S: VerifySide, T: VerifySide>(
    source: &mut S,
    target: &mut T,
    table: &Arc<TableSchema>,
    options: &VerifyOptions,
) -> Result<TableReport> {
    let table = VerifyTable::new(Arc::clone(table), options.canonical, options.chunk_rows)?;
    let (source_hash, target_hash) =
        tokio::try_join!(source.database_hash(&table), target.database_hash(&table))?;
    let table = table.summarized_as(SummaryKind::agreed(source_hash, target_hash));
    tracing::debug!(
        table = %table.schema.name,
        summary = ?table.summary_kind(),
        "summarizing key ranges"
    );
    if *table.summary_kind() == SummaryKind::Canonical && table.key_order_may_differ() {
        return compare_whole(source, target, &table, options.keys_listed).await;
    }
    if let SummaryKind::InDatabase(_) = table.summary_kind() {
        // A whole table summarized in SQL costs each database one scan and sends one
        // row: a table found equal so needs nothing more.
        let all = KeyRange::all();
        let (source_summary, target_summary) = tokio::try_join!(
            source.summarize(&table, &all),
            target.summarize(&table, &all)
        )?;
        if source_summary == target_summary {
            let diff = RowDiff::new(options.keys_listed);
            let name = table.schema.name.clone();
            return Ok(diff.finish(name, source_summary.rows, target_summary.rows));
        }
    }
    let mut differing = Vec::new();
    let (mut source_rows, mut target_rows) = (0, 0);
    let rows_per_range = match table.summary_kind() {
        SummaryKind::Canonical => options.rows_per_range,
        SummaryKind::InDatabase(_) => options.rows_per_range_in_database,
    };
    let parts = summarized_parts(source, target, &table, &KeyRange::all(), rows_per_range).await?;
    for (range, source_summary, target_summary) in parts {
        source_rows += source_summary.rows;
        target_rows += target_summary.rows;
        if source_summary != target_summary {
            differing.push((range, source_summary, target_summary));
        }
    }
    // Depth first, in key order, so that the report lists keys roughly in order.
    differing.reverse();
    let mut diff = RowDiff::new(options.keys_listed);
    while let Some((range, source_summary, target_summary)) = differing.pop() {
        let most = source_summary.rows.max(target_summary.rows);
        if most > options.leaf_rows as u64 {
            let rows_per_part = most.div_ceil(options.fanout.max(2) as u64) as usize;
            let parts = if source_summary.rows >= target_summary.rows {
                summarized_parts(source, target, &table, &range, rows_per_part).await?
            } else {
                summarized_parts(target, source, &table, &range, rows_per_part)
                    .await?
                    .into_iter()
                    .map(|(range, target, source)| (range, source, target))
                    .collect()
            };
            // Rows changing under the verify may leave a range that no longer
            // splits; it is then compared whole.
            if parts.len() > 1 {
                differing.extend(parts.into_iter().rev().filter(|(_, s, t)| s != t));
                continue;
            }
        }
        let (source_rows, target_rows) =
            tokio::try_join!(source.rows(&table, &range), target.rows(&table, &range))?;
        diff.compare(
            source_rows.iter().map(|row| table.digest(row)),
            target_rows.iter().map(|row| table.digest(row)),
        );
    }
    Ok(diff.finish(table.schema.name.clone(), source_rows, target_rows))
}

/// Compares `table` by reading both sides whole, each in its own key order, matching
/// rows by key: for keys that two engines may order differently, where a key range
/// would hold other rows on each side. Summaries hashed in dbsync read every row
/// anyway, so this costs what the first pass would; the rows unmatched so far are held
/// until their match comes, the whole table at worst.
async fn compare_whole<S: VerifySide, T: VerifySide>(
    source: &mut S,
    target: &mut T,
    table: &VerifyTable,
    keys_listed: usize,
) -> Result<TableReport> {
    let mut diff = RowDiff::new(keys_listed);
    let (mut source_rest, mut target_rest) = (Some(KeyRange::all()), Some(KeyRange::all()));
    let (mut source_rows, mut target_rows) = (0, 0);
    while source_rest.is_some() || target_rest.is_some() {
        let (source_chunk, target_chunk) = tokio::try_join!(
            next_chunk(source, table, &mut source_rest),
            next_chunk(target, table, &mut target_rest)
        )?;
        source_rows += source_chunk.len() as u64;
        target_rows += target_chunk.len() as u64;
        diff.compare(
            source_chunk.iter().map(|row| table.digest(row)),
            target_chunk.iter().map(|row| table.digest(row)),
        );
    }
    Ok(diff.finish(table.schema.name.clone(), source_rows, target_rows))
}

/// The next chunk of `side`'s rows in `rest`, which moves past them; `None` once read.
async fn next_chunk<V: VerifySide>(
    side: &mut V,
    table: &VerifyTable,
    rest: &mut Option<KeyRange>,
) -> Result<Vec<Row>> {
    let Some(range) = rest.take() else {
        return Ok(Vec::new());
    };
    let chunk = side.read_range(table, &range, table.chunk_rows).await?;
    if let Some(last) = chunk.last().filter(|_| chunk.len() == table.chunk_rows) {
        *rest = Some(range.after(table.key_of(last)));
    }
    Ok(chunk)
}

/// `range` cut into parts of about `rows_per_part` of `by`'s rows, by `by`'s keys,
/// with `by`'s and `other`'s summaries of each, as (range, by's, other's).
///
/// `by` cuts the next part while `other` summarizes the last one: both databases
/// work at once.
async fn summarized_parts<B: VerifySide, O: VerifySide>(
    by: &mut B,
    other: &mut O,
    table: &VerifyTable,
    range: &KeyRange,
    rows_per_part: usize,
) -> Result<Vec<(KeyRange, RangeSummary, RangeSummary)>> {
    let mut parts = Vec::new();
    let mut rest = Some(range.clone());
    let mut last: Option<Part> = None;
    loop {
        let cut = async {
            match &rest {
                Some(rest) => by.next_part(table, rest, rows_per_part).await.map(Some),
                None => Ok(None),
            }
        };
        let summarize = async {
            match &last {
                Some(part) => other.summarize(table, &part.range).await.map(Some),
                None => Ok(None),
            }
        };
        let (next, other_summary) = tokio::try_join!(cut, summarize)?;
        if let (Some(part), Some(other_summary)) = (last.take(), other_summary) {
            parts.push((part.range, part.summary, other_summary));
        }
        match next {
            Some(next) => {
                rest = next.rest.clone();
                last = Some(next);
            }
            None => return Ok(parts),
        }
    }
}

/// Rows matched by key across all the compared ranges of a table.
///
/// A row unmatched in its range waits for the rest of the table: where an engine
/// orders text keys by another collation than the source's, it may sit in another
/// range on the other side, which then differs too and is compared later.
#[derive(Debug)]
struct RowDiff {
    keys_listed: usize,
    different: Keys,
    /// Unmatched rows by key encoding, with the order they were found in.
    source_only: HashMap<Vec<u8>, (usize, RowDigest)>,
    target_only: HashMap<Vec<u8>, (usize, RowDigest)>,
    found: usize,
}

impl RowDiff {
    fn new(keys_listed: usize) -> RowDiff {
        RowDiff {
            keys_listed,
            different: Keys::default(),
            source_only: HashMap::new(),
            target_only: HashMap::new(),
            found: 0,
        }
    }

    fn compare(
        &mut self,
        source: impl IntoIterator<Item = RowDigest>,
        target: impl IntoIterator<Item = RowDigest>,
    ) {
        for row in source {
            self.unmatched(row, true);
        }
        for row in target {
            self.unmatched(row, false);
        }
    }

    /// Matches `row` with the other side's unmatched row of its key, or keeps it.
    fn unmatched(&mut self, row: RowDigest, from_source: bool) {
        let (own, other) = if from_source {
            (&mut self.source_only, &mut self.target_only)
        } else {
            (&mut self.target_only, &mut self.source_only)
        };
        match other.remove(&row.key_encoding) {
            Some((_, matched)) if matched.hash != row.hash => {
                self.different.push(row.key, self.keys_listed);
            }
            Some(_) => {}
            None => {
                self.found += 1;
                own.insert(row.key_encoding.clone(), (self.found, row));
            }
        }
    }

    fn finish(self, table: TableName, source_rows: u64, target_rows: u64) -> TableReport {
        let keys = |unmatched: HashMap<Vec<u8>, (usize, RowDigest)>| {
            let mut rows: Vec<(usize, RowDigest)> = unmatched.into_values().collect();
            rows.sort_by_key(|(found, _)| *found);
            let mut keys = Keys::default();
            for (_, row) in rows {
                keys.push(row.key, self.keys_listed);
            }
            keys
        };
        TableReport {
            table,
            source_rows,
            target_rows,
            missing: keys(self.source_only),
            extra: keys(self.target_only),
            different: self.different,
        }
    }
}
