//! What a range of rows is summarized as: its row count and a hash of its rows.

use std::collections::HashMap;
use std::sync::Arc;

use crate::change::Row;
use crate::data_type::{DataType, IntWidth};
use crate::error::{Error, ErrorKind, Result};
use crate::table_schema::{TableName, TableSchema};
use crate::value::Value;
use crate::verify::canonical::Canonical;
use crate::verify::key_range::Key;

/// A range's row count and the sum, modulo 2^128, of its rows' 128-bit hashes.
///
/// A sum rather than a hash of the rows in sequence, so that the summary does not
/// depend on the order in which an engine returns them: engines sort text keys by
/// their own collations (MySQL's `_ci`, PostgreSQL's locale, SQLite's bytes), and a
/// faithful copy must summarize equal all the same. A sum rather than a xor, so that
/// two equal row hashes do not cancel. An engine that computes the same sum in SQL may
/// summarize without sending a row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct RangeSummary {
    pub rows: u64,
    pub hash: u128,
}

impl RangeSummary {
    pub fn add(&mut self, row_hash: u128) {
        self.rows += 1;
        self.hash = self.hash.wrapping_add(row_hash);
    }
}

/// A row hash that a database computes in SQL, named by everything its value depends
/// on: the engine's dialect, the stored column types, the session settings that shape
/// their text. Two sides that name the same hash compute equal summaries of equal rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseHash(String);

impl DatabaseHash {
    pub fn new(name: impl Into<String>) -> DatabaseHash {
        DatabaseHash(name.into())
    }
}

/// How a table's ranges are summarized, chosen for both sides before its first pass:
/// a summary is only ever compared with the other side's summary of the same kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum SummaryKind {
    /// Rows read into dbsync and hashed in their canonical encoding: any two engines.
    #[default]
    Canonical,
    /// Rows hashed in SQL by both databases, which both named this same hash.
    InDatabase(DatabaseHash),
}

impl SummaryKind {
    /// The in-database hash when both sides offer the same one, else the canonical.
    pub fn agreed(source: Option<DatabaseHash>, target: Option<DatabaseHash>) -> SummaryKind {
        match (source, target) {
            (Some(source), Some(target)) if source == target => SummaryKind::InDatabase(source),
            _ => SummaryKind::Canonical,
        }
    }
}

/// A table as verify reads it: its source schema, where its key is in a row, the
/// canonical encoding of its values and how its ranges are summarized.
#[derive(Debug, Clone)]
pub struct VerifyTable {
    pub schema: Arc<TableSchema>,
    key: Vec<usize>,
    canonical: Canonical,
    summary: SummaryKind,
    /// How many rows a side reads at a time.
    pub chunk_rows: usize,
}

/// A row reduced to what verify compares: its key, the key's canonical encoding
/// (which matches rows between engines) and the hash of the whole row.
#[derive(Debug, Clone, PartialEq)]
pub struct RowDigest {
    pub key: Key,
    pub key_encoding: Vec<u8>,
    pub hash: u128,
}

impl VerifyTable {
    /// `schema`, keyed by its primary key, or the error that it has none.
    pub fn new(
        schema: Arc<TableSchema>,
        canonical: Canonical,
        chunk_rows: usize,
    ) -> Result<VerifyTable> {
        if schema.primary_key.is_empty() {
            return Err(Error::new(
                ErrorKind::Config,
                "has no primary key, so its rows cannot be matched between source and target; add one or exclude the table from verify",
            )
            .with_table(schema.name.clone()));
        }
        let key = schema
            .primary_key
            .iter()
            .map(|name| {
                schema
                    .columns
                    .iter()
                    .position(|c| &c.name == name)
                    .ok_or_else(|| {
                        Error::new(
                            ErrorKind::SchemaMismatch,
                            format!("has no column `{name}` for its primary key"),
                        )
                        .with_table(schema.name.clone())
                    })
            })
            .collect::<Result<_>>()?;
        Ok(VerifyTable {
            schema,
            key,
            canonical,
            summary: SummaryKind::Canonical,
            chunk_rows: chunk_rows.max(1),
        })
    }

    /// This table summarized as `summary`.
    pub fn summarized_as(self, summary: SummaryKind) -> VerifyTable {
        VerifyTable { summary, ..self }
    }

    pub fn summary_kind(&self) -> &SummaryKind {
        &self.summary
    }

    /// Whether two engines may order this table's keys differently: text by their own
    /// collations (MySQL's `_ci`, PostgreSQL's locale, SQLite's bytes), labels by their
    /// declared order or as text, and SQLite's 64-bit unsigned integers beyond its
    /// INTEGER as BLOBs, after every integer. A key range then holds other rows on each
    /// side, and ranges cannot be compared.
    pub fn key_order_may_differ(&self) -> bool {
        self.key.iter().any(|&i| {
            matches!(
                self.schema.columns[i].data_type,
                DataType::Char { .. }
                    | DataType::VarChar { .. }
                    | DataType::Text { .. }
                    | DataType::Enum { .. }
                    | DataType::Set { .. }
                    | DataType::Int {
                        width: IntWidth::I64,
                        unsigned: true
                    }
            )
        })
    }

    /// The positions in a row of the key's columns.
    pub fn key_columns(&self) -> &[usize] {
        &self.key
    }

    /// The target planned for this table among `targets`, by source table name, or
    /// the error that there is none.
    pub fn target_in<'t, T>(&self, targets: &'t HashMap<TableName, T>) -> Result<&'t T> {
        targets.get(&self.schema.name).ok_or_else(|| {
            Error::new(
                ErrorKind::Config,
                "has no target table planned to verify it against",
            )
            .with_table(self.schema.name.clone())
        })
    }

    pub fn key_of(&self, row: &Row) -> Key {
        self.key.iter().map(|&i| row[i].clone()).collect()
    }

    /// The hash of `row`'s canonical encoding.
    pub fn row_hash(&self, row: &Row) -> u128 {
        let mut encoding = Vec::with_capacity(64);
        self.canonical
            .encode_row(&self.schema.columns, row, &mut encoding);
        twox_hash::XxHash3_128::oneshot(&encoding)
    }

    pub fn digest(&self, row: &Row) -> RowDigest {
        let key = self.key_of(row);
        RowDigest {
            key_encoding: self.key_encoding(&key),
            key,
            hash: self.row_hash(row),
        }
    }

    /// The canonical encoding of `key`, which matches keys between engines.
    pub fn key_encoding(&self, key: &Key) -> Vec<u8> {
        let mut encoding = Vec::with_capacity(16);
        for (&i, value) in self.key.iter().zip(key) {
            self.canonical
                .encode(&self.schema.columns[i].data_type, value, &mut encoding);
        }
        encoding
    }

    /// A row that holds `key`'s values and nulls elsewhere: all that a delete by key
    /// reads of its row.
    pub fn row_with_key(&self, key: &Key) -> Row {
        let mut row = vec![Value::Null; self.schema.columns.len()];
        for (&i, value) in self.key.iter().zip(key) {
            row[i] = value.clone();
        }
        row
    }

    /// The summary of `rows`.
    pub fn summarize<'r>(&self, rows: impl IntoIterator<Item = &'r Row>) -> RangeSummary {
        let mut summary = RangeSummary::default();
        for row in rows {
            summary.add(self.row_hash(row));
        }
        summary
    }
}
