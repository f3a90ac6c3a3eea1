//! Decoding row images into [`Value`]s, straight from the event's bytes.
//!
//! A [`RowDecoder`] is built once per table map: it checks the binlog's column types
//! against the table's schema and settles, column by column, how to read a value, so
//! that decoding a row is a loop over precomputed steps that allocates only the
//! values themselves.

use std::sync::Arc;

use dbsync_core::{
    BitString, Column, DataType, Error, ErrorKind, Geometry, GeometryKind, IntWidth, Result, Row,
    TableSchema, Uuid, Value,
};

use super::decimal::{DecimalError, DecimalFormat};
use super::json;
use super::reader::{Reader, Truncated};
use super::table_map::{MapColumn, TableMap, column_type as ty};
use super::temporal;
use super::text::Charset;
use crate::protocol_value::reports_label;

/// Why one value could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ValueError {
    /// The image ends inside the value.
    Truncated,
    /// The bytes are not a value of the column's type (named in the message).
    Malformed(String),
    /// A value the column holds that dbsync has no [`Value`] for: a partly zero date.
    Unrepresentable(String),
}

impl From<Truncated> for ValueError {
    fn from(_: Truncated) -> Self {
        ValueError::Truncated
    }
}

/// How to read one column's values.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    /// Little-endian, `len` bytes; signed ones are sign-extended from their width.
    Int {
        len: u8,
        unsigned: bool,
    },
    Float,
    Double,
    Decimal(DecimalFormat),
    Date,
    Time2(u8),
    DateTime2(u8),
    Timestamp2(u8),
    TimeV1,
    DateTimeV1,
    TimestampV1,
    Year,
    /// A length prefix of `prefix` bytes, then the characters.
    Text {
        prefix: u8,
        charset: Charset,
        /// `CHAR` drops trailing spaces when read, as MySQL does.
        trim_spaces: bool,
        json: bool,
    },
    /// A length prefix, then the bytes; `BINARY(n)` is padded back to `pad_to` with
    /// the zero bytes the server stripped.
    Bytes {
        prefix: u8,
        pad_to: usize,
    },
    /// MariaDB's `UUID`: `BINARY(16)` in display order, trailing zero bytes stripped.
    Uuid {
        prefix: u8,
    },
    /// The 1-based index of the label, 0 for the empty error value.
    Enum {
        len: u8,
        labels: Box<[String]>,
    },
    /// A bitmask over the labels, lowest bit first.
    Set {
        len: u8,
        labels: Box<[String]>,
    },
    /// A big-endian integer of `len` bytes holding the `bits` bits.
    Bit {
        len: u8,
        bits: u32,
    },
    /// MySQL's binary JSON, after a length prefix.
    BinaryJson {
        prefix: u8,
    },
    /// A length prefix, then the SRID (4 bytes, little-endian) and the WKB.
    Geometry {
        prefix: u8,
    },
}

/// Decodes the row images of one table as one table map lays them out.
#[derive(Debug)]
pub(crate) struct RowDecoder {
    table: Arc<TableSchema>,
    steps: Box<[Step]>,
}

impl RowDecoder {
    /// Checks `map` against `table` and plans the decoding, failing on any column
    /// whose binlog type or optional metadata disagrees with the schema.
    pub(crate) fn new(table: Arc<TableSchema>, map: &TableMap) -> Result<Self> {
        if map.columns.len() != table.columns.len() {
            // Hidden columns, such as the ROW START and ROW END of a MariaDB
            // system-versioned table, are in the binlog but not in the schema.
            let extra: Vec<&str> = map
                .columns
                .iter()
                .skip(table.columns.len())
                .filter_map(|column| column.name.as_deref())
                .collect();
            let extra = match extra.is_empty() {
                true => String::new(),
                false => format!(" (also {})", extra.join(", ")),
            };
            return Err(schema_mismatch(
                &table,
                format!(
                    "the binlog's table map has {} columns{extra} but the table has {}",
                    map.columns.len(),
                    table.columns.len()
                ),
            ));
        }
        let steps = table
            .columns
            .iter()
            .zip(&map.columns)
            .map(|(column, binlog)| {
                check_optional_metadata(&table, column, binlog)?;
                step(column, binlog).map_err(|e| e.with_table(table.name.clone()))
            })
            .collect::<Result<Box<[Step]>>>()?;
        if let Some(key) = &map.primary_key {
            let binlog_key: Vec<&str> = key
                .iter()
                .filter_map(|&i| table.columns.get(i))
                .map(|column| column.name.as_str())
                .collect();
            if binlog_key != table.primary_key {
                return Err(schema_mismatch(
                    &table,
                    format!(
                        "the binlog's primary key is ({}) but the table's is ({})",
                        binlog_key.join(", "),
                        table.primary_key.join(", ")
                    ),
                ));
            }
        }
        Ok(RowDecoder { table, steps })
    }

    pub(crate) fn table(&self) -> &Arc<TableSchema> {
        &self.table
    }

    /// Decodes one full row image at the start of `input`.
    pub(crate) fn decode_row(&self, input: &mut Reader<'_>) -> Result<Row> {
        let nulls = input.take(self.steps.len().div_ceil(8)).map_err(|_| {
            Error::new(
                ErrorKind::InvalidData,
                "a rows event ends inside a row image's null bitmap: the binlog event is malformed",
            )
            .with_table(self.table.name.clone())
        })?;
        let mut row = Vec::with_capacity(self.steps.len());
        for (i, step) in self.steps.iter().enumerate() {
            if nulls[i / 8] & (1 << (i % 8)) != 0 {
                row.push(Value::Null);
            } else {
                row.push(step.decode(input).map_err(|e| self.value_error(i, e))?);
            }
        }
        Ok(row)
    }

    fn value_error(&self, index: usize, error: ValueError) -> Error {
        let named = match self.table.columns.get(index) {
            Some(column) => format!("column `{}` ({})", column.name, column.native_type),
            None => format!("column {}", index + 1),
        };
        let (kind, message) = match error {
            ValueError::Truncated => (
                ErrorKind::InvalidData,
                format!(
                    "a row image ends inside the value of {named}: the binlog event is malformed"
                ),
            ),
            ValueError::Malformed(what) => (
                ErrorKind::InvalidData,
                format!("{named} has {what} in the binlog, which is not a value of its type"),
            ),
            ValueError::Unrepresentable(what) => (
                ErrorKind::Unsupported,
                format!(
                    "{named} holds {what}, which dbsync cannot carry; update the row on the source to a valid value or NULL"
                ),
            ),
        };
        Error::new(kind, message).with_table(self.table.name.clone())
    }
}

impl Step {
    fn decode(&self, input: &mut Reader<'_>) -> Result<Value, ValueError> {
        Ok(match self {
            &Step::Int { len, unsigned } => {
                let raw = input.uint_le(usize::from(len))?;
                if unsigned {
                    Value::UInt(raw)
                } else {
                    let shift = 64 - 8 * u32::from(len);
                    Value::Int((raw << shift) as i64 >> shift)
                }
            }
            Step::Float => Value::Float(f32::from_le_bytes(input.take_array()?)),
            Step::Double => Value::Double(f64::from_le_bytes(input.take_array()?)),
            Step::Decimal(format) => Value::Decimal(format.decode(input).map_err(|e| match e {
                DecimalError::Truncated => ValueError::Truncated,
                DecimalError::Malformed => ValueError::Malformed("a malformed decimal".into()),
            })?),
            Step::Date => temporal::date(input)?,
            &Step::Time2(fsp) => temporal::time2(input, fsp)?,
            &Step::DateTime2(fsp) => temporal::datetime2(input, fsp)?,
            &Step::Timestamp2(fsp) => temporal::timestamp2(input, fsp)?,
            Step::TimeV1 => temporal::time_v1(input)?,
            Step::DateTimeV1 => temporal::datetime_v1(input)?,
            Step::TimestampV1 => temporal::timestamp_v1(input)?,
            Step::Year => temporal::year(input)?,
            &Step::Text {
                prefix,
                charset,
                trim_spaces,
                json,
            } => {
                let bytes = prefixed(input, prefix)?;
                let mut text = charset.decode(bytes).ok_or_else(|| {
                    ValueError::Malformed(format!("bytes that are not valid {charset:?} text"))
                })?;
                if trim_spaces {
                    text.truncate(text.trim_end_matches(' ').len());
                }
                if json {
                    Value::Json(text)
                } else {
                    Value::Text(text)
                }
            }
            &Step::Bytes { prefix, pad_to } => {
                let bytes = prefixed(input, prefix)?;
                let mut value = Vec::with_capacity(bytes.len().max(pad_to));
                value.extend_from_slice(bytes);
                if value.len() < pad_to {
                    value.resize(pad_to, 0);
                }
                Value::Bytes(value)
            }
            &Step::Uuid { prefix } => {
                let bytes = prefixed(input, prefix)?;
                let mut uuid = [0u8; 16];
                uuid.get_mut(..bytes.len())
                    .ok_or_else(|| {
                        ValueError::Malformed(format!("{} bytes for a UUID", bytes.len()))
                    })?
                    .copy_from_slice(bytes);
                Value::Uuid(Uuid(uuid))
            }
            Step::Enum { len, labels } => match input.uint_le(usize::from(*len))? {
                0 => Value::Enum(String::new()),
                index => Value::Enum(
                    usize::try_from(index - 1)
                        .ok()
                        .and_then(|i| labels.get(i))
                        .cloned()
                        .ok_or_else(|| {
                            ValueError::Malformed(format!(
                                "the index {index} of an ENUM with {} labels",
                                labels.len()
                            ))
                        })?,
                ),
            },
            Step::Set { len, labels } => {
                let bits = input.uint_le(usize::from(*len))?;
                if labels.len() < 64 && bits >> labels.len() != 0 {
                    return Err(ValueError::Malformed(format!(
                        "the bitmask {bits:#x} of a SET with {} labels",
                        labels.len()
                    )));
                }
                Value::Set(
                    labels
                        .iter()
                        .enumerate()
                        .filter(|&(i, _)| bits & (1 << i) != 0)
                        .map(|(_, label)| label.clone())
                        .collect(),
                )
            }
            &Step::Bit { len, bits } => {
                let value = input.uint_be(usize::from(len))?;
                Value::Bit(BitString::from_u64(value, bits as usize))
            }
            &Step::BinaryJson { prefix } => Value::Json(json::to_text(prefixed(input, prefix)?)?),
            &Step::Geometry { prefix } => {
                let bytes = prefixed(input, prefix)?;
                let (srid, wkb) = bytes.split_first_chunk::<4>().ok_or_else(|| {
                    ValueError::Malformed(format!("{} bytes for a geometry", bytes.len()))
                })?;
                Value::Geometry(Geometry {
                    srid: u32::from_le_bytes(*srid),
                    wkb: wkb.to_vec(),
                })
            }
        })
    }
}

/// The bytes after a little-endian length prefix of `prefix` bytes.
fn prefixed<'a>(input: &mut Reader<'a>, prefix: u8) -> Result<&'a [u8], ValueError> {
    let len = input.uint_le(usize::from(prefix))?;
    Ok(input.take(usize::try_from(len).map_err(|_| ValueError::Truncated)?)?)
}

/// How to decode `column`, whose binlog type is `binlog`.
fn step(column: &Column, binlog: &MapColumn) -> Result<Step> {
    let code = binlog.column_type;
    let meta = binlog.metadata;
    let int = |len, unsigned| Ok(Step::Int { len, unsigned });
    let fsp = || {
        u8::try_from(meta)
            .ok()
            .filter(|&fsp| fsp <= 6)
            .ok_or_else(|| malformed(column, binlog))
    };
    // `VARCHAR(n)` keeps one length byte up to 255 bytes; `CHAR(n)` beyond 255.
    let varchar_prefix = if meta < 256 { 1 } else { 2 };
    let char_prefix = if meta > 255 { 2 } else { 1 };
    let blob_prefix = || {
        u8::try_from(meta)
            .ok()
            .filter(|p| (1..=4).contains(p))
            .ok_or_else(|| malformed(column, binlog))
    };
    match (code, &column.data_type) {
        (_, DataType::Unsupported { native }) => Err(Error::new(
            ErrorKind::Unsupported,
            format!(
                "column `{}` has type {native}, which dbsync cannot carry; exclude the table",
                column.name
            ),
        )),
        (
            ty::TINY,
            &DataType::Int {
                width: IntWidth::I8,
                unsigned,
            },
        ) => int(1, unsigned),
        (
            ty::SHORT,
            &DataType::Int {
                width: IntWidth::I16,
                unsigned,
            },
        ) => int(2, unsigned),
        (
            ty::INT24,
            &DataType::Int {
                width: IntWidth::I24,
                unsigned,
            },
        ) => int(3, unsigned),
        (
            ty::LONG,
            &DataType::Int {
                width: IntWidth::I32,
                unsigned,
            },
        ) => int(4, unsigned),
        (
            ty::LONGLONG,
            &DataType::Int {
                width: IntWidth::I64,
                unsigned,
            },
        ) => int(8, unsigned),
        (ty::FLOAT, DataType::Float) => Ok(Step::Float),
        (ty::DOUBLE, DataType::Double) => Ok(Step::Double),
        (ty::NEWDECIMAL, DataType::Decimal { size: Some(size) }) => {
            let (precision, scale) = binlog.precision_and_scale();
            if (u32::from(precision), u32::from(scale)) != (size.precision, size.scale) {
                return Err(mismatch(column, binlog));
            }
            DecimalFormat::new(precision, scale)
                .map(Step::Decimal)
                .ok_or_else(|| malformed(column, binlog))
        }
        (ty::DECIMAL, _) => Err(old_format(column, "the DECIMAL format of MySQL 4")),
        (ty::DATE | ty::NEWDATE, DataType::Date) => Ok(Step::Date),
        (ty::TIME2, DataType::Time { .. }) => fsp().map(Step::Time2),
        (ty::DATETIME2, DataType::DateTime { .. }) => fsp().map(Step::DateTime2),
        (ty::TIMESTAMP2, DataType::Timestamp { .. }) => fsp().map(Step::Timestamp2),
        // MariaDB wrote fractional seconds in these types before 10.1.2, in a layout
        // that the table map does not describe.
        (
            ty::TIME | ty::DATETIME | ty::TIMESTAMP,
            DataType::Time { precision }
            | DataType::DateTime { precision }
            | DataType::Timestamp { precision },
        ) if *precision > 0 => Err(old_format(
            column,
            "the pre-5.6 temporal format with fractional seconds",
        )),
        (ty::TIME, DataType::Time { .. }) => Ok(Step::TimeV1),
        (ty::DATETIME, DataType::DateTime { .. }) => Ok(Step::DateTimeV1),
        (ty::TIMESTAMP, DataType::Timestamp { .. }) => Ok(Step::TimestampV1),
        (ty::YEAR, DataType::Year) => Ok(Step::Year),
        (ty::VARCHAR | ty::VAR_STRING, DataType::VarChar { .. }) => {
            text(column, varchar_prefix, false, false)
        }
        (ty::VARCHAR | ty::VAR_STRING, DataType::VarBinary { .. }) => Ok(Step::Bytes {
            prefix: varchar_prefix,
            pad_to: 0,
        }),
        (ty::STRING, DataType::Char { .. }) => text(column, char_prefix, true, false),
        (ty::STRING, &DataType::Binary { length }) => Ok(Step::Bytes {
            prefix: char_prefix,
            pad_to: length as usize,
        }),
        (ty::STRING, DataType::Uuid) if meta == 16 => Ok(Step::Uuid { prefix: 1 }),
        (ty::ENUM, DataType::Enum { labels }) if (1..=2).contains(&meta) => Ok(Step::Enum {
            len: meta as u8,
            labels: exact_labels(column, binlog, labels)?,
        }),
        (ty::SET, DataType::Set { labels }) if (1..=8).contains(&meta) => Ok(Step::Set {
            len: meta as u8,
            labels: exact_labels(column, binlog, labels)?,
        }),
        (ty::BLOB | ty::TINY_BLOB | ty::MEDIUM_BLOB | ty::LONG_BLOB, DataType::Text { .. }) => {
            text(column, blob_prefix()?, false, false)
        }
        // MariaDB's JSON is LONGTEXT.
        (ty::BLOB | ty::TINY_BLOB | ty::MEDIUM_BLOB | ty::LONG_BLOB, DataType::Json) => {
            text(column, blob_prefix()?, false, true)
        }
        (ty::BLOB | ty::TINY_BLOB | ty::MEDIUM_BLOB | ty::LONG_BLOB, DataType::Blob { .. }) => {
            Ok(Step::Bytes {
                prefix: blob_prefix()?,
                pad_to: 0,
            })
        }
        (ty::JSON, DataType::Json) => Ok(Step::BinaryJson {
            prefix: blob_prefix()?,
        }),
        (ty::GEOMETRY, DataType::Geometry { .. }) => Ok(Step::Geometry {
            prefix: blob_prefix()?,
        }),
        (ty::BIT, &DataType::Bit { length }) => {
            if binlog.bit_length() != length || !(1..=64).contains(&length) {
                return Err(mismatch(column, binlog));
            }
            Ok(Step::Bit {
                len: length.div_ceil(8) as u8,
                bits: length,
            })
        }
        (ty::VARCHAR_COMPRESSED | ty::BLOB_COMPRESSED, _) => Err(Error::new(
            ErrorKind::Unsupported,
            format!(
                "column `{}` is COMPRESSED, which MariaDB logs compressed; remove the attribute (ALTER TABLE ... MODIFY without COMPRESSED) and re-sync the table",
                column.name
            ),
        )),
        _ => Err(mismatch(column, binlog)),
    }
}

/// The labels that ENUM indexes and SET bits stand for.
///
/// The schema's labels may have lost characters: MariaDB reports each character
/// outside the Basic Multilingual Plane as `?` ([`reports_label`]). The table map's
/// own labels, where the server writes them (`binlog_row_metadata=FULL`), are exact
/// and [`check_optional_metadata`] has matched them with the schema's. Without them, a
/// `?` in a label of a character set that has such characters may be one that was
/// lost, and guessing would write another value than the source holds.
fn exact_labels(column: &Column, binlog: &MapColumn, schema: &[String]) -> Result<Box<[String]>> {
    let charset = column
        .collation
        .as_ref()
        .and_then(|collation| collation.charset.as_deref());
    if let (Some(labels), Some(decoder)) = (&binlog.labels, charset.and_then(Charset::from_name))
        && let Some(decoded) = labels.iter().map(|label| decoder.decode(label)).collect()
    {
        return Ok(decoded);
    }
    let has_4_byte_characters = charset.is_some_and(|name| {
        ["utf8mb4", "utf16", "utf16le", "utf32", "gb18030"]
            .iter()
            .any(|wide| name.eq_ignore_ascii_case(wide))
    });
    if has_4_byte_characters && schema.iter().any(|label| label.contains('?')) {
        return Err(Error::new(
            ErrorKind::Unsupported,
            format!(
                "column `{}` has a label with `?`, which is how the server reports a character such as an emoji in a label, and the binlog does not carry the labels; set binlog_row_metadata=FULL on the source",
                column.name
            ),
        ));
    }
    Ok(schema.into())
}

fn text(column: &Column, prefix: u8, trim_spaces: bool, json: bool) -> Result<Step> {
    let name = column
        .collation
        .as_ref()
        .and_then(|collation| collation.charset.as_deref());
    let charset = name.and_then(Charset::from_name).ok_or_else(|| {
        Error::new(
            ErrorKind::Unsupported,
            format!(
                "column `{}` has character set {}, which dbsync cannot decode from the binlog; convert the column to utf8mb4",
                column.name,
                name.unwrap_or("(none)")
            ),
        )
    })?;
    Ok(Step::Text {
        prefix,
        charset,
        trim_spaces,
        json,
    })
}

/// The optional metadata, where the server wrote it, must say what the schema says.
fn check_optional_metadata(table: &TableSchema, column: &Column, binlog: &MapColumn) -> Result<()> {
    let disagree = |what: String| Err(schema_mismatch(table, what));
    if let Some(name) = &binlog.name
        && name != &column.name
    {
        return disagree(format!(
            "the binlog names column `{name}` where the table has `{}`",
            column.name
        ));
    }
    if let (
        Some(unsigned),
        DataType::Int {
            unsigned: schema, ..
        },
    ) = (binlog.unsigned, &column.data_type)
        && unsigned != *schema
    {
        return disagree(format!(
            "column `{}` is {} in the binlog and {} in the table",
            column.name,
            signedness(unsigned),
            signedness(*schema)
        ));
    }
    if let (Some(binlog_labels), DataType::Enum { labels } | DataType::Set { labels }) =
        (&binlog.labels, &column.data_type)
        && let Some(charset) = column
            .collation
            .as_ref()
            .and_then(|c| c.charset.as_deref())
            .and_then(Charset::from_name)
    {
        let decoded: Vec<Option<String>> =
            binlog_labels.iter().map(|l| charset.decode(l)).collect();
        let same = decoded.len() == labels.len()
            && decoded.iter().zip(labels).all(|(binlog, schema)| {
                binlog
                    .as_deref()
                    .is_some_and(|binlog| reports_label(schema, binlog))
            });
        if !same {
            return disagree(format!(
                "column `{}` has other labels in the binlog than in the table",
                column.name
            ));
        }
    }
    if let (Some(code), DataType::Geometry { kind, .. }) = (binlog.geometry_kind, &column.data_type)
        && geometry_code(*kind) != code
    {
        return disagree(format!(
            "column `{}` is another geometry type in the binlog ({code}) than in the table ({})",
            column.name,
            kind.name()
        ));
    }
    Ok(())
}

fn signedness(unsigned: bool) -> &'static str {
    if unsigned { "unsigned" } else { "signed" }
}

/// The code of a geometry kind in the table map's optional metadata.
fn geometry_code(kind: GeometryKind) -> u64 {
    match kind {
        GeometryKind::Geometry => 0,
        GeometryKind::Point => 1,
        GeometryKind::LineString => 2,
        GeometryKind::Polygon => 3,
        GeometryKind::MultiPoint => 4,
        GeometryKind::MultiLineString => 5,
        GeometryKind::MultiPolygon => 6,
        GeometryKind::GeometryCollection => 7,
    }
}

fn schema_mismatch(table: &TableSchema, what: String) -> Error {
    Error::new(
        ErrorKind::SchemaMismatch,
        format!("{what}; the table changed since dbsync read its schema, re-sync it"),
    )
    .with_table(table.name.clone())
}

fn mismatch(column: &Column, binlog: &MapColumn) -> Error {
    Error::new(
        ErrorKind::SchemaMismatch,
        format!(
            "column `{}` is {} in the table but has binlog type {} (metadata {:#x}); the table changed since dbsync read its schema, re-sync it",
            column.name, column.native_type, binlog.column_type, binlog.metadata
        ),
    )
}

fn malformed(column: &Column, binlog: &MapColumn) -> Error {
    Error::new(
        ErrorKind::InvalidData,
        format!(
            "column `{}` has binlog type {} with metadata {:#x}, which no server writes",
            column.name, binlog.column_type, binlog.metadata
        ),
    )
}

fn old_format(column: &Column, format: &str) -> Error {
    Error::new(
        ErrorKind::Unsupported,
        format!(
            "column `{}` is stored in {format}, which dbsync does not decode; rebuild the table on the source (ALTER TABLE ... FORCE) and re-sync it",
            column.name
        ),
    )
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, NaiveDate};
    use dbsync_core::{ChangeOp, DecimalSize, Time};

    use super::*;
    use crate::binlog::rows_event::{RowsEvent, RowsKind};
    use crate::binlog::test_support::{
        column, encode_datetime2, encode_decimal, encode_time2, image, rows_event_bytes, table,
        table_map_bytes,
    };

    fn int(width: IntWidth, unsigned: bool) -> DataType {
        DataType::Int { width, unsigned }
    }

    fn labels(labels: &[&str]) -> Vec<String> {
        labels.iter().map(|&label| label.to_owned()).collect()
    }

    /// One column of each layout the decoder has a step for, as MySQL 8 maps them.
    fn orders() -> (Arc<TableSchema>, Vec<u8>) {
        let table = table(
            "shop",
            "orders",
            vec![
                column("id", int(IntWidth::I32, false)),
                column("m", int(IntWidth::I24, false)),
                column("um", int(IntWidth::I24, true)),
                column(
                    "price",
                    DataType::Decimal {
                        size: Some(DecimalSize {
                            precision: 10,
                            scale: 2,
                        }),
                    },
                ),
                column("span", DataType::Time { precision: 6 }),
                column("at", DataType::DateTime { precision: 3 }),
                column("ts", DataType::Timestamp { precision: 6 }),
                column("name", DataType::VarChar { length: Some(300) }),
                column("tag", DataType::Char { length: 4 }),
                column(
                    "mood",
                    DataType::Enum {
                        labels: labels(&["a", "b"]),
                    },
                ),
                column(
                    "flags",
                    DataType::Set {
                        labels: labels(&["x", "y", "z"]),
                    },
                ),
                column("bits", DataType::Bit { length: 3 }),
                column("raw", DataType::Binary { length: 4 }),
                column(
                    "note",
                    DataType::Text {
                        max_bytes: Some(65535),
                    },
                ),
                column("nothing", int(IntWidth::I32, false)),
            ],
        );
        let names: Vec<u8> = table
            .columns
            .iter()
            .flat_map(|c| std::iter::once(c.name.len() as u8).chain(c.name.bytes()))
            .collect();
        let map = table_map_bytes(
            42,
            "shop",
            "orders",
            &[
                (ty::LONG, &[]),
                (ty::INT24, &[]),
                (ty::INT24, &[]),
                (ty::NEWDECIMAL, &[10, 2]),
                (ty::TIME2, &[6]),
                (ty::DATETIME2, &[3]),
                (ty::TIMESTAMP2, &[6]),
                (ty::VARCHAR, &[0xb0, 0x04]), // 1200 bytes: a 2-byte length
                (ty::STRING, &[ty::STRING, 16]),
                (ty::STRING, &[ty::ENUM, 1]),
                (ty::STRING, &[ty::SET, 1]),
                (ty::BIT, &[3, 0]),
                (ty::STRING, &[ty::STRING, 4]),
                (ty::BLOB, &[2]),
                (ty::LONG, &[]),
            ],
            // Numeric columns id, m, um, price, nothing: only um is unsigned.
            &[(1, vec![0b0010_0000]), (4, names), (8, vec![0])],
        );
        (table, map)
    }

    fn decoder() -> RowDecoder {
        let (table, map) = orders();
        RowDecoder::new(table, &TableMap::parse(&map).unwrap()).unwrap()
    }

    fn full_image() -> Vec<u8> {
        let mut name = 6u16.to_le_bytes().to_vec();
        name.extend_from_slice("héllo".as_bytes());
        let mut ts = 1_700_000_000u32.to_be_bytes().to_vec();
        ts.extend_from_slice(&[0, 0, 1]);
        image(&[
            Some(7i32.to_le_bytes().to_vec()),
            Some((-8_388_608i32).to_le_bytes()[..3].to_vec()),
            Some(vec![0xff, 0xff, 0xff]),
            Some(encode_decimal("-12.5", 10, 2)),
            Some(encode_time2(true, (838, 59, 59), 0, 6)),
            Some(encode_datetime2((2024, 2, 29), (23, 59, 59), 123_000, 3)),
            Some(ts),
            Some(name),
            Some(b"\x04ab  ".to_vec()),
            Some(vec![2]),
            Some(vec![0b101]),
            Some(vec![0b101]),
            Some(vec![1, 1]),
            Some(b"\x01\x00t".to_vec()),
            None,
        ])
    }

    fn full_row() -> Row {
        vec![
            Value::Int(7),
            Value::Int(-8_388_608),
            Value::UInt(16_777_215),
            Value::Decimal("-12.50".parse().unwrap()),
            Value::Time(Time::from_parts(true, 838, 59, 59, 0).unwrap()),
            Value::DateTime(
                NaiveDate::from_ymd_opt(2024, 2, 29)
                    .unwrap()
                    .and_hms_milli_opt(23, 59, 59, 123)
                    .unwrap(),
            ),
            Value::Timestamp(DateTime::from_timestamp(1_700_000_000, 1000).unwrap()),
            Value::Text("héllo".into()),
            Value::Text("ab".into()),
            Value::Enum("b".into()),
            Value::Set(labels(&["x", "z"])),
            Value::Bit(BitString::from_u64(0b101, 3)),
            Value::Bytes(vec![1, 0, 0, 0]),
            Value::Text("t".into()),
            Value::Null,
        ]
    }

    fn sparse_image(id: i32, m: i32) -> Vec<u8> {
        let mut values = vec![None; 15];
        values[0] = Some(id.to_le_bytes().to_vec());
        values[1] = Some(m.to_le_bytes()[..3].to_vec());
        image(&values)
    }

    fn sparse_row(id: i64, m: i64) -> Row {
        let mut row = vec![Value::Null; 15];
        row[0] = Value::Int(id);
        row[1] = Value::Int(m);
        row
    }

    #[test]
    fn decodes_a_version_2_write_event() {
        let decoder = decoder();
        let bytes = rows_event_bytes(
            42,
            2,
            false,
            15,
            &[],
            &[full_image(), sparse_image(8, 8_388_607)],
        );
        let event = RowsEvent::parse(RowsKind::Write, 2, &bytes).unwrap();
        let ops: Vec<ChangeOp> = event
            .changes(&decoder)
            .unwrap()
            .into_iter()
            .map(|change| change.op)
            .collect();
        assert_eq!(
            ops,
            [
                ChangeOp::Insert { after: full_row() },
                ChangeOp::Insert {
                    after: sparse_row(8, 8_388_607)
                }
            ]
        );
    }

    #[test]
    fn decodes_both_images_of_an_update() {
        let decoder = decoder();
        let bytes = rows_event_bytes(42, 2, true, 15, &[], &[sparse_image(1, -1), full_image()]);
        let event = RowsEvent::parse(RowsKind::Update, 2, &bytes).unwrap();
        let changes = event.changes(&decoder).unwrap();
        assert_eq!(
            changes[0].op,
            ChangeOp::Update {
                before: sparse_row(1, -1),
                after: full_row()
            }
        );
        assert!(Arc::ptr_eq(&changes[0].table, decoder.table()));
    }

    #[test]
    fn a_partial_row_image_is_refused() {
        let decoder = decoder();
        let bytes = rows_event_bytes(42, 1, true, 15, &[7, 8], &[]);
        let event = RowsEvent::parse(RowsKind::Update, 1, &bytes).unwrap();
        let error = event.changes(&decoder).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Unsupported);
        assert!(
            error
                .to_string()
                .starts_with("table shop.orders: the before image of a rows event leaves out column(s) name, tag: "),
            "{error}"
        );
        assert!(
            error.to_string().contains("binlog_row_image=FULL"),
            "{error}"
        );
    }

    #[test]
    fn a_truncated_image_names_the_column() {
        let decoder = decoder();
        let mut bytes = rows_event_bytes(42, 2, false, 15, &[], &[full_image()]);
        bytes.truncate(bytes.len() - 3);
        let event = RowsEvent::parse(RowsKind::Write, 2, &bytes).unwrap();
        let error = event.changes(&decoder).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidData);
        assert!(
            error.to_string().contains("value of column `note`"),
            "{error}"
        );
    }

    #[test]
    fn a_table_map_that_disagrees_with_the_schema_is_refused() {
        let (table, _) = orders();
        let refuse = |columns: &[(u8, &[u8])], optional: &[(u8, Vec<u8>)]| {
            let mut all: Vec<(u8, &[u8])> = vec![(ty::LONG, &[])];
            all.extend_from_slice(columns);
            let schema =
                super::super::test_support::table("shop", "t", table.columns[..all.len()].to_vec());
            let map = TableMap::parse(&table_map_bytes(1, "shop", "t", &all, optional)).unwrap();
            RowDecoder::new(schema, &map).unwrap_err()
        };
        // A MEDIUMINT that became a VARCHAR.
        let error = refuse(&[(ty::VARCHAR, &[10, 0])], &[]);
        assert_eq!(error.kind(), ErrorKind::SchemaMismatch);
        assert!(error.to_string().contains("column `m`"), "{error}");
        // A DECIMAL(10,2) that became DECIMAL(12,2) would misread every value.
        let error = refuse(
            &[
                (ty::INT24, &[]),
                (ty::INT24, &[]),
                (ty::NEWDECIMAL, &[12, 2]),
            ],
            &[],
        );
        assert!(error.to_string().contains("column `price`"), "{error}");
        // The optional metadata says m is unsigned.
        let error = refuse(&[(ty::INT24, &[])], &[(1, vec![0b0100_0000])]);
        assert!(
            error
                .to_string()
                .contains("column `m` is unsigned in the binlog and signed in the table"),
            "{error}"
        );
        // ... or that the second column is not called m.
        let error = refuse(&[(ty::INT24, &[])], &[(4, b"\x02id\x01n".to_vec())]);
        assert!(error.to_string().contains("names column `n`"), "{error}");
    }

    #[test]
    fn mysql_binary_json_reads_as_text() {
        let table = table(
            "shop",
            "docs",
            vec![
                column("id", int(IntWidth::I32, false)),
                column("doc", DataType::Json),
            ],
        );
        let map = table_map_bytes(3, "shop", "docs", &[(ty::LONG, &[]), (ty::JSON, &[4])], &[]);
        let decoder = RowDecoder::new(table, &TableMap::parse(&map).unwrap()).unwrap();
        // The document "hi": a string of two bytes.
        let mut doc = 4u32.to_le_bytes().to_vec();
        doc.extend_from_slice(&[0x0c, 2, b'h', b'i']);
        let bytes = rows_event_bytes(
            3,
            2,
            false,
            2,
            &[],
            &[image(&[Some(1i32.to_le_bytes().to_vec()), Some(doc)])],
        );
        let event = RowsEvent::parse(RowsKind::Write, 2, &bytes).unwrap();
        assert_eq!(
            event.changes(&decoder).unwrap()[0].op,
            ChangeOp::Insert {
                after: vec![Value::Int(1), Value::Json("\"hi\"".into())]
            }
        );
    }

    #[test]
    fn labels_come_from_the_binlog_where_the_schema_lost_characters() {
        // MariaDB reports ENUM('é😀','b') and SET('x','😀') with `?` for the emoji.
        let table = table(
            "shop",
            "moods",
            vec![
                column("id", int(IntWidth::I32, false)),
                column(
                    "mood",
                    DataType::Enum {
                        labels: labels(&["é?", "b"]),
                    },
                ),
                column(
                    "tags",
                    DataType::Set {
                        labels: labels(&["x", "?"]),
                    },
                ),
            ],
        );
        let label_field = |labels: &[&str]| -> Vec<u8> {
            let mut field = vec![labels.len() as u8];
            for label in labels {
                field.push(label.len() as u8);
                field.extend_from_slice(label.as_bytes());
            }
            field
        };
        let map = |optional: &[(u8, Vec<u8>)]| {
            let bytes = table_map_bytes(
                5,
                "shop",
                "moods",
                &[
                    (ty::LONG, &[]),
                    (ty::STRING, &[ty::ENUM, 1]),
                    (ty::STRING, &[ty::SET, 1]),
                ],
                optional,
            );
            TableMap::parse(&bytes).unwrap()
        };
        let full = map(&[
            (5, label_field(&["x", "😀"])),
            (6, label_field(&["é😀", "b"])),
        ]);
        let decoder = RowDecoder::new(Arc::clone(&table), &full).unwrap();
        let row = image(&[
            Some(1i32.to_le_bytes().to_vec()),
            Some(vec![1]),
            Some(vec![0b11]),
        ]);
        let bytes = rows_event_bytes(5, 2, false, 3, &[], &[row]);
        let event = RowsEvent::parse(RowsKind::Write, 2, &bytes).unwrap();
        assert_eq!(
            event.changes(&decoder).unwrap()[0].op,
            ChangeOp::Insert {
                after: vec![
                    Value::Int(1),
                    Value::Enum("é😀".into()),
                    Value::Set(labels(&["x", "😀"]))
                ]
            }
        );
        // Without the binlog's labels, `é?` may stand for any of many labels.
        let error = RowDecoder::new(table, &map(&[])).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Unsupported);
        assert!(
            error.to_string().contains("column `mood`")
                && error.to_string().contains("binlog_row_metadata=FULL"),
            "{error}"
        );
    }

    #[test]
    fn mediumint_is_sign_extended() {
        for (bytes, unsigned, expected) in [
            ([0x00, 0x00, 0x80], false, Value::Int(-8_388_608)),
            ([0xff, 0xff, 0xff], false, Value::Int(-1)),
            ([0xff, 0xff, 0x7f], false, Value::Int(8_388_607)),
            ([0xff, 0xff, 0xff], true, Value::UInt(16_777_215)),
        ] {
            let step = Step::Int { len: 3, unsigned };
            assert_eq!(step.decode(&mut Reader::new(&bytes)), Ok(expected));
        }
    }

    /// The decode rate for sysbench's row (`id INT, k INT, c CHAR(120), pad
    /// CHAR(60)`, utf8mb4): `cargo test -p dbsync-mysql --release --lib decode_rate
    /// -- --ignored --nocapture`.
    #[test]
    #[ignore = "a measurement, not a test: run it in release"]
    fn decode_rate() {
        let table = table(
            "sbtest",
            "sbtest1",
            vec![
                column("id", int(IntWidth::I32, false)),
                column("k", int(IntWidth::I32, false)),
                column("c", DataType::Char { length: 120 }),
                column("pad", DataType::Char { length: 60 }),
            ],
        );
        let map = table_map_bytes(
            1,
            "sbtest",
            "sbtest1",
            &[
                (ty::LONG, &[]),
                (ty::LONG, &[]),
                (ty::STRING, &[0xee, 0xe0]), // 480 bytes
                (ty::STRING, &[ty::STRING, 240]),
            ],
            &[],
        );
        let decoder = RowDecoder::new(table, &TableMap::parse(&map).unwrap()).unwrap();
        const ROWS: usize = 1000;
        let images: Vec<Vec<u8>> = (0..ROWS as i32)
            .map(|id| {
                let c = format!("{:011}-", id).repeat(10);
                let mut c_value = (c.len() as u16).to_le_bytes().to_vec();
                c_value.extend_from_slice(c.as_bytes());
                let pad = format!("{:011}-", id * 7).repeat(5);
                let mut pad_value = vec![pad.len() as u8];
                pad_value.extend_from_slice(pad.as_bytes());
                image(&[
                    Some(id.to_le_bytes().to_vec()),
                    Some((id % 5000).to_le_bytes().to_vec()),
                    Some(c_value),
                    Some(pad_value),
                ])
            })
            .collect();
        let bytes = rows_event_bytes(1, 1, false, 4, &[], &images);

        let started = std::time::Instant::now();
        let mut rows = 0;
        while started.elapsed() < std::time::Duration::from_secs(2) {
            let event = RowsEvent::parse(RowsKind::Write, 1, &bytes).unwrap();
            rows += event.changes(&decoder).unwrap().len();
        }
        let rate = rows as f64 / started.elapsed().as_secs_f64();
        println!("decoded {rows} sysbench rows at {:.2} M rows/s", rate / 1e6);
    }
}
