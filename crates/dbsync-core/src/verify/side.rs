//! One side of a verify, source or target, as the algorithm asks it.

use std::future::Future;
use std::ops::Bound;

use crate::change::Row;
use crate::error::{Error, ErrorKind, Result};
use crate::verify::key_range::{Key, KeyRange};
use crate::verify::summary::{DatabaseHash, RangeSummary, SummaryKind, VerifyTable};

/// A database whose rows verify compares, read as the source table's values.
///
/// An engine implements [`VerifySide::read_range`]; the summaries are then computed
/// in dbsync from the rows read. An engine that can hash rows in SQL offers its hash
/// ([`VerifySide::database_hash`]) and computes summaries with it
/// ([`VerifySide::summarize_in_database`], [`VerifySide::key_at`]); where the other
/// side offers the same hash, summaries then come without a row sent.
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

    /// The hash this side can compute of `table`'s rows in SQL, if any: offered only
    /// where the database computes it cheaply, and used only when the other side
    /// offers the same one.
    fn database_hash(
        &mut self,
        _table: &VerifyTable,
    ) -> impl Future<Output = Result<Option<DatabaseHash>>> + Send {
        async { Ok(None) }
    }

    /// The summary of `range` computed by the database with the hash it offered for
    /// `table` ([`VerifySide::database_hash`]).
    fn summarize_in_database(
        &mut self,
        table: &VerifyTable,
        _range: &KeyRange,
    ) -> impl Future<Output = Result<RangeSummary>> + Send {
        let name = table.schema.name.clone();
        async move {
            Err(Error::new(
                ErrorKind::Unsupported,
                "was to be summarized by a database that offers no hash of its rows",
            )
            .with_table(name))
        }
    }

    /// The key of the row `offset` rows into `range` (0 for the first), if `range`
    /// has that many rows. An engine whose database can skip rows without sending
    /// them overrides this reading of every row.
    fn key_at(
        &mut self,
        table: &VerifyTable,
        range: &KeyRange,
        offset: usize,
    ) -> impl Future<Output = Result<Option<Key>>> + Send {
        async move {
            let rows = self.read_range(table, range, offset + 1).await?;
            Ok(rows.get(offset).map(|row| table.key_of(row)))
        }
    }

    /// The summary of `range`, of the kind chosen for `table`.
    fn summarize(
        &mut self,
        table: &VerifyTable,
        range: &KeyRange,
    ) -> impl Future<Output = Result<RangeSummary>> + Send {
        async move {
            if let SummaryKind::InDatabase(_) = table.summary_kind() {
                return self.summarize_in_database(table, range).await;
            }
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

    /// The first part of `range`: about `rows` of this side's rows from its start,
    /// bounded by this side's keys, with its summary, and what is left of `range`
    /// after it (`None` when the part reaches the end of `range`). Parts cut one
    /// after another cover `range` whole, so that a row the other side has anywhere
    /// in `range` falls into one of them.
    fn next_part(
        &mut self,
        table: &VerifyTable,
        range: &KeyRange,
        rows: usize,
    ) -> impl Future<Output = Result<Part>> + Send {
        async move {
            let rows = rows.max(1);
            // The part ends before the first key of the next one.
            let (end, summary) = match table.summary_kind() {
                SummaryKind::InDatabase(_) => {
                    let end = self.key_at(table, range, rows).await?;
                    let part = range.until(end.clone());
                    (end, self.summarize_in_database(table, &part).await?)
                }
                SummaryKind::Canonical => {
                    let mut read = self.read_range(table, range, rows + 1).await?;
                    let end = (read.len() > rows)
                        .then(|| read.pop().map(|next| table.key_of(&next)))
                        .flatten();
                    (end, table.summarize(&read))
                }
            };
            Ok(Part {
                range: range.until(end.clone()),
                summary,
                rest: end.map(|end| KeyRange {
                    start: Bound::Included(end),
                    end: range.end.clone(),
                }),
            })
        }
    }
}

/// A part of a range as [`VerifySide::next_part`] cuts it.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    pub range: KeyRange,
    pub summary: RangeSummary,
    /// What is left of the range after this part.
    pub rest: Option<KeyRange>,
}

/// Implements [`VerifySide`] for `$side`, an engine's reader, by handing each call to
/// what its method `$table_on(&self_or_mut_self, &VerifyTable) -> Result<_>` gives for
/// the table: a value with the methods `read_range(&TableSchema, &KeyRange, usize)`,
/// `database_hash(&TableSchema)`, `summarize(&TableSchema, &KeyRange)` and
/// `key_at(&VerifyTable, &KeyRange, usize)`, each async with the trait's result.
#[macro_export]
macro_rules! verify_side_by {
    ($side:ty, $table_on:ident) => {
        impl $crate::verify::VerifySide for $side {
            async fn read_range(
                &mut self,
                table: &$crate::verify::VerifyTable,
                range: &$crate::verify::KeyRange,
                limit: usize,
            ) -> $crate::Result<Vec<$crate::Row>> {
                self.$table_on(table)?
                    .read_range(&table.schema, range, limit)
                    .await
            }

            async fn database_hash(
                &mut self,
                table: &$crate::verify::VerifyTable,
            ) -> $crate::Result<Option<$crate::verify::DatabaseHash>> {
                self.$table_on(table)?.database_hash(&table.schema).await
            }

            async fn summarize_in_database(
                &mut self,
                table: &$crate::verify::VerifyTable,
                range: &$crate::verify::KeyRange,
            ) -> $crate::Result<$crate::verify::RangeSummary> {
                self.$table_on(table)?.summarize(&table.schema, range).await
            }

            async fn key_at(
                &mut self,
                table: &$crate::verify::VerifyTable,
                range: &$crate::verify::KeyRange,
                offset: usize,
            ) -> $crate::Result<Option<$crate::verify::Key>> {
                self.$table_on(table)?.key_at(table, range, offset).await
            }
        }
    };
}
