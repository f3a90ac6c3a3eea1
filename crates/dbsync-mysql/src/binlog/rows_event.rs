//! WRITE_ROWS, UPDATE_ROWS and DELETE_ROWS events (versions 1 and 2): the frame
//! around the row images.
//!
//! After the table id and flags (and, in version 2, a block of extra data), an event
//! has the table's column count, a bitmap of the columns its images hold (two for an
//! update: before and after), then the images back to back. Each image is a null
//! bitmap over the columns it holds and the values of those that are not null.

use std::sync::Arc;

use dbsync_core::{Change, ChangeOp, Error, ErrorKind, Result, TableSchema};

use super::event::event_type as ev;
use super::reader::{Reader, Truncated};
use super::row_decoder::RowDecoder;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RowsKind {
    Write,
    Update,
    Delete,
}

impl RowsKind {
    /// The kind and version of a rows event type, `None` for other events.
    pub(crate) fn of(event_type: u8) -> Option<(RowsKind, u8)> {
        Some(match event_type {
            ev::WRITE_ROWS_V1 => (RowsKind::Write, 1),
            ev::UPDATE_ROWS_V1 => (RowsKind::Update, 1),
            ev::DELETE_ROWS_V1 => (RowsKind::Delete, 1),
            ev::WRITE_ROWS => (RowsKind::Write, 2),
            ev::UPDATE_ROWS => (RowsKind::Update, 2),
            ev::DELETE_ROWS => (RowsKind::Delete, 2),
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct RowsEvent<'a> {
    kind: RowsKind,
    column_count: usize,
    before_columns: Option<&'a [u8]>,
    after_columns: Option<&'a [u8]>,
    images: &'a [u8],
}

/// The table id of a rows event (of any version, compressed or not), which decides
/// whether the rest is read at all.
pub(crate) fn table_id(data: &[u8]) -> Result<u64, Truncated> {
    Reader::new(data).uint_le(6)
}

impl<'a> RowsEvent<'a> {
    pub(crate) fn parse(kind: RowsKind, version: u8, data: &'a [u8]) -> Result<Self, Truncated> {
        let mut input = Reader::new(data);
        input.skip(6 + 2)?; // table id, flags
        if version == 2 {
            // The length counts its own two bytes.
            let extra = input.u16_le()?;
            input.skip(usize::from(extra).checked_sub(2).ok_or(Truncated)?)?;
        }
        let column_count = usize::try_from(input.lenenc()?).map_err(|_| Truncated)?;
        let bitmap_len = column_count.div_ceil(8);
        let first = input.take(bitmap_len)?;
        let (before_columns, after_columns) = match kind {
            RowsKind::Write => (None, Some(first)),
            RowsKind::Delete => (Some(first), None),
            RowsKind::Update => (Some(first), Some(input.take(bitmap_len)?)),
        };
        Ok(RowsEvent {
            kind,
            column_count,
            before_columns,
            after_columns,
            images: input.rest(),
        })
    }

    /// Decodes every row of the event into changes of `decoder`'s table.
    pub(crate) fn changes(&self, decoder: &RowDecoder) -> Result<Vec<Change>> {
        let table = decoder.table();
        if self.column_count != table.columns.len() {
            return Err(Error::new(
                ErrorKind::SchemaMismatch,
                format!(
                    "a rows event has {} columns but the table has {}; the table changed since dbsync read its schema, re-sync it",
                    self.column_count,
                    table.columns.len()
                ),
            )
            .with_table(table.name.clone()));
        }
        for (image, bitmap) in [
            ("before", self.before_columns),
            ("after", self.after_columns),
        ] {
            if let Some(bitmap) = bitmap {
                self.require_every_column(table, image, bitmap)?;
            }
        }

        let mut input = Reader::new(self.images);
        let mut changes = Vec::new();
        while !input.is_empty() {
            let op = match self.kind {
                RowsKind::Write => ChangeOp::Insert {
                    after: decoder.decode_row(&mut input)?,
                },
                RowsKind::Delete => ChangeOp::Delete {
                    before: decoder.decode_row(&mut input)?,
                },
                RowsKind::Update => ChangeOp::Update {
                    before: decoder.decode_row(&mut input)?,
                    after: decoder.decode_row(&mut input)?,
                },
            };
            changes.push(Change {
                table: Arc::clone(table),
                op,
            });
        }
        Ok(changes)
    }

    /// With `binlog_row_image` other than FULL, images leave out columns; dbsync
    /// writes whole rows and cannot make up the missing values.
    fn require_every_column(&self, table: &TableSchema, image: &str, bitmap: &[u8]) -> Result<()> {
        let missing: Vec<&str> = table
            .columns
            .iter()
            .enumerate()
            .filter(|(i, _)| bitmap[i / 8] & (1 << (i % 8)) == 0)
            .map(|(_, column)| column.name.as_str())
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        Err(Error::new(
            ErrorKind::Unsupported,
            format!(
                "the {image} image of a rows event leaves out column(s) {}: the source logs partial row images; set binlog_row_image=FULL on the server and re-sync the table",
                missing.join(", ")
            ),
        )
        .with_table(table.name.clone()))
    }
}
