//! One side of a verify, source or target, as the algorithm asks it.

use std::future::Future;
use std::ops::Bound;

use crate::change::Row;
use crate::error::Result;
use crate::verify::key_range::KeyRange;
use crate::verify::summary::{RangeSummary, VerifyTable};

/// A database whose rows verify compares, read as the source table's values.
///
/// An engine implements [`VerifySide::read_range`]; the summaries are then computed
/// in dbsync from the rows read. An engine that can compute the canonical hashes in
/// SQL overrides [`VerifySide::summarize`] (and [`VerifySide::partition`]) to send
/// summaries instead of rows.
pub trait VerifySide: Send {
    /// At most `limit` rows of `range` of `table`, in this side's key order, as values
    /// of the source table's columns. Fewer than `limit` means the range ends.
    fn read_range(
        &mut self,
        table: &VerifyTable,
        range: &KeyRange,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Row>>> + Send;

    /// Every row of `range`, in key order.
    fn rows(
        &mut self,
        table: &VerifyTable,
        range: &KeyRange,
    ) -> impl Future<Output = Result<Vec<Row>>> + Send {
        async move {
            let mut rows = Vec::new();
            let mut rest = range.clone();
            loop {
                let chunk = self.read_range(table, &rest, table.chunk_rows).await?;
                let done = chunk.len() < table.chunk_rows;
                if let Some(last) = chunk.last() {
                    rest = range.after(table.key_of(last));
                }
                rows.extend(chunk);
                if done {
                    return Ok(rows);
                }
            }
        }
    }

    /// The summary of `range`.
    fn summarize(
        &mut self,
        table: &VerifyTable,
        range: &KeyRange,
    ) -> impl Future<Output = Result<RangeSummary>> + Send {
        async move {
            let mut summary = RangeSummary::default();
            let mut rest = range.clone();
            loop {
                let chunk = self.read_range(table, &rest, table.chunk_rows).await?;
                for row in &chunk {
                    summary.add(table.row_hash(row));
                }
                match chunk.last() {
                    Some(last) if chunk.len() == table.chunk_rows => {
                        rest = range.after(table.key_of(last));
                    }
                    _ => return Ok(summary),
                }
            }
        }
    }

    /// `range` cut into consecutive ranges of about `rows_per_part` of this side's
    /// rows each, with their summaries. The parts cover `range` whole, bounded by this
    /// side's keys, so that a row the other side has anywhere in `range` falls into
    /// one of them.
    fn partition(
        &mut self,
        table: &VerifyTable,
        range: &KeyRange,
        rows_per_part: usize,
    ) -> impl Future<Output = Result<Vec<(KeyRange, RangeSummary)>>> + Send {
        async move {
            let rows_per_part = rows_per_part.max(1);
            let mut parts = Vec::new();
            let mut start = range.start.clone();
            let mut chunk = self.read_range(table, range, rows_per_part).await?;
            loop {
                let summary = table.summarize(&chunk);
                // The next part starts at the first key after this one's rows.
                let next = match chunk.last() {
                    Some(last) if chunk.len() == rows_per_part => {
                        self.read_range(table, &range.after(table.key_of(last)), rows_per_part)
                            .await?
                    }
                    _ => Vec::new(),
                };
                let Some(first) = next.first() else {
                    let end = range.end.clone();
                    parts.push((KeyRange { start, end }, summary));
                    return Ok(parts);
                };
                let boundary = table.key_of(first);
                let end = Some(boundary.clone());
                let part_start = std::mem::replace(&mut start, Bound::Included(boundary));
                parts.push((
                    KeyRange {
                        start: part_start,
                        end,
                    },
                    summary,
                ));
                chunk = next;
            }
        }
    }
}
