//! How each source column is declared in SQLite and how its values are stored, so that
//! they read back exactly (docs/type-mapping.md, "SQLite targets").
//!
//! SQLite converts a value on the way in according to its column's affinity, which
//! the declared type decides: under INTEGER or NUMERIC affinity the text
//! `18446744073709551615` becomes an approximate REAL, and `1.10` becomes `1.1`. Every
//! declared type here is one of the four whose affinity leaves the stored value as it
//! is: `INTEGER` (and `UNSIGNED BIG INT`, also INTEGER affinity) receives only
//! integers and blobs, `REAL` only floats, `TEXT` only text, `BLOB` only bytes.

use std::fmt;

use chrono::{NaiveDateTime, Timelike};
use dbsync_config::{EnumMapping, SetMapping, ZeroDatePolicy};
use dbsync_core::{Column, DataType, DecimalSize, Error, ErrorKind, Geometry, IntWidth, Result};
use dbsync_core::{Time, Value};
use rusqlite::types::Value as SqlValue;

/// How a column's values are stored in SQLite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqliteType {
    /// `INTEGER`: booleans as 0 and 1, integers that fit 64 signed bits, `YEAR`, and
    /// decimals without a fraction that fit (`DECIMAL(p,0)` with p at most 18).
    Integer,
    /// `UNSIGNED BIG INT`: unsigned 64-bit integers and `BIT(n)` up to 64 bits, as an
    /// INTEGER up to `i64::MAX` and beyond it as the 8 bytes of the number, big-endian,
    /// in a BLOB: SQLite sorts every BLOB after every INTEGER, and BLOBs bytewise, so
    /// the column keeps the numbers' order. Not declared `INTEGER`, which would make a
    /// sole key column the rowid, and the rowid refuses a BLOB.
    UnsignedBigInt,
    /// `REAL`: floats and doubles, both exact in SQLite's 8-byte float.
    Real,
    /// `TEXT`: strings, enum labels, JSON, decimals with a fraction (their canonical
    /// text with every digit and the scale), UUIDs (hyphenated), bit strings longer
    /// than 64 bits (as `0` and `1`), and sets under `set_mapping: text` (`a,c`).
    Text,
    /// `TEXT`: a set as a JSON array of its members, `["a","c"]`.
    JsonArray,
    /// `TEXT`: `YYYY-MM-DD`, the form of SQLite's date functions.
    Date,
    /// `TEXT`: `[-]HH:MM:SS` with as many hour digits as needed and `precision`
    /// fraction digits: a signed duration that may pass 24 hours.
    Time { precision: u8 },
    /// `TEXT`: `YYYY-MM-DD HH:MM:SS` and `precision` fraction digits, so that every
    /// value of a column has one width and text order is time order.
    DateTime { precision: u8 },
    /// `TEXT`: an instant, as a [`SqliteType::DateTime`] in UTC, which is how SQLite's
    /// own `datetime('now')` writes one.
    Timestamp { precision: u8 },
    /// `BLOB`: every byte, `BINARY(n)` with its zero padding.
    Blob,
    /// `BLOB`: a geometry as a GeoPackage geometry blob (`GP`, the SRID, then WKB),
    /// the standard for geometries in SQLite files.
    Geometry,
}

/// The pair's choices that shape the mapping, checked to be ones SQLite can honour;
/// the defaults are lossless.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MappingOptions {
    /// Never [`ZeroDatePolicy::Keep`].
    zero_date: ZeroDatePolicy,
    set_mapping: SetMapping,
}

impl MappingOptions {
    /// The options for a pair, or one sentence saying which SQLite cannot honour.
    pub fn new(
        zero_date: ZeroDatePolicy,
        enum_mapping: EnumMapping,
        set_mapping: SetMapping,
    ) -> Result<MappingOptions> {
        if zero_date == ZeroDatePolicy::Keep {
            return Err(Error::new(
                ErrorKind::Config,
                "zero_date: keep is for MySQL/MariaDB targets, and SQLite's date functions know no zero date; use zero_date: null or zero_date: error",
            ));
        }
        if enum_mapping == EnumMapping::Native {
            return Err(Error::new(
                ErrorKind::Config,
                "enum_mapping: native asks for the target's own enum type, and SQLite has none; use enum_mapping: text",
            ));
        }
        Ok(MappingOptions {
            zero_date,
            set_mapping,
        })
    }

    pub fn zero_date(self) -> ZeroDatePolicy {
        self.zero_date
    }

    pub fn set_mapping(self) -> SetMapping {
        self.set_mapping
    }
}

/// The largest precision of a decimal without a fraction whose every value fits in
/// SQLite's 64-bit integer.
const MAX_INTEGER_DIGITS: u32 = 18;

impl SqliteType {
    /// The type for `column`, or an error naming it when SQLite cannot store its
    /// values exactly.
    pub fn for_column(column: &Column, options: MappingOptions) -> Result<SqliteType> {
        Ok(match &column.data_type {
            DataType::Bool | DataType::Year => SqliteType::Integer,
            DataType::Int {
                width: IntWidth::I64,
                unsigned: true,
            } => SqliteType::UnsignedBigInt,
            DataType::Int { .. } => SqliteType::Integer,
            DataType::Float | DataType::Double => SqliteType::Real,
            DataType::Decimal {
                size:
                    Some(DecimalSize {
                        precision,
                        scale: 0,
                    }),
            } if *precision <= MAX_INTEGER_DIGITS => SqliteType::Integer,
            DataType::Decimal { .. }
            | DataType::Char { .. }
            | DataType::VarChar { .. }
            | DataType::Text { .. }
            | DataType::Enum { .. }
            | DataType::Json
            | DataType::Uuid => SqliteType::Text,
            DataType::Set { .. } => match options.set_mapping {
                SetMapping::TextArray => SqliteType::JsonArray,
                SetMapping::Text => SqliteType::Text,
            },
            DataType::Bit { length } if *length <= 64 => SqliteType::UnsignedBigInt,
            DataType::Bit { .. } => SqliteType::Text,
            DataType::Binary { .. } | DataType::VarBinary { .. } | DataType::Blob { .. } => {
                SqliteType::Blob
            }
            DataType::Geometry { .. } => SqliteType::Geometry,
            DataType::Date => SqliteType::Date,
            DataType::Time { precision } => SqliteType::Time {
                precision: (*precision).min(MAX_PRECISION),
            },
            DataType::DateTime { precision } => SqliteType::DateTime {
                precision: (*precision).min(MAX_PRECISION),
            },
            DataType::Timestamp { precision } => SqliteType::Timestamp {
                precision: (*precision).min(MAX_PRECISION),
            },
            DataType::Unsupported { native } => {
                return Err(Error::new(
                    ErrorKind::Unsupported,
                    format!(
                        "column `{}` has type {native}, which dbsync cannot carry exactly; exclude the table",
                        column.name
                    ),
                ));
            }
        })
    }

    /// Whether a zero date can arrive in a column of this type.
    pub fn holds_dates(self) -> bool {
        matches!(
            self,
            SqliteType::Date | SqliteType::DateTime { .. } | SqliteType::Timestamp { .. }
        )
    }

    /// `value` as SQLite is to store it in a column of this type.
    pub fn store(self, value: &Value, options: MappingOptions) -> Result<SqlValue> {
        let text = SqlValue::Text;
        Ok(match (self, value) {
            (_, Value::Null) => SqlValue::Null,
            (_, Value::ZeroDate) => match options.zero_date {
                ZeroDatePolicy::Error => {
                    return Err(Error::new(
                        ErrorKind::Unsupported,
                        "holds the zero date 0000-00-00 and the pair's zero_date policy is `error`; set zero_date: null to store NULL",
                    ));
                }
                ZeroDatePolicy::Null | ZeroDatePolicy::Keep => SqlValue::Null,
            },
            (SqliteType::Integer, Value::Bool(b)) => SqlValue::Integer(i64::from(*b)),
            (SqliteType::Integer, Value::Int(n)) => SqlValue::Integer(*n),
            (SqliteType::Integer, Value::UInt(n)) => {
                SqlValue::Integer(i64::try_from(*n).map_err(|_| mismatch(self, value))?)
            }
            (SqliteType::Integer, Value::Year(year)) => SqlValue::Integer(i64::from(*year)),
            (SqliteType::Integer, Value::Decimal(d)) => {
                SqlValue::Integer(d.as_str().parse().map_err(|_| mismatch(self, value))?)
            }
            (SqliteType::UnsignedBigInt, Value::UInt(n)) => unsigned(*n),
            (SqliteType::UnsignedBigInt, Value::Bit(bits)) => {
                unsigned(bits.to_u64().ok_or_else(|| mismatch(self, value))?)
            }
            (SqliteType::Real, Value::Float(x)) if !x.is_nan() => SqlValue::Real(f64::from(*x)),
            (SqliteType::Real, Value::Double(x)) if !x.is_nan() => SqlValue::Real(*x),
            (SqliteType::Real, Value::Float(_) | Value::Double(_)) => {
                return Err(Error::new(
                    ErrorKind::Unsupported,
                    "holds NaN, which SQLite stores as NULL; replace it on the source or exclude the column's table",
                ));
            }
            (SqliteType::Text, Value::Text(s) | Value::Enum(s) | Value::Json(s)) => text(s.clone()),
            (SqliteType::Text, Value::Decimal(d)) => text(d.to_string()),
            (SqliteType::Text, Value::Uuid(uuid)) => text(uuid.to_string()),
            (SqliteType::Text, Value::Set(members)) => text(members.join(",")),
            (SqliteType::Text, Value::Bit(bits)) => text(bits.to_string()),
            (SqliteType::JsonArray, Value::Set(members)) => {
                text(serde_json::Value::from(members.clone()).to_string())
            }
            (SqliteType::Date, Value::Date(date)) => text(date.format(DATE).to_string()),
            (SqliteType::Time { precision }, Value::Time(time)) => {
                text(time_text(*time, precision)?)
            }
            (SqliteType::DateTime { precision }, Value::DateTime(at)) => {
                text(date_time_text(at, precision)?)
            }
            (SqliteType::Timestamp { precision }, Value::Timestamp(at)) => {
                text(date_time_text(&at.naive_utc(), precision)?)
            }
            (SqliteType::Blob, Value::Bytes(bytes)) => SqlValue::Blob(bytes.clone()),
            (SqliteType::Geometry, Value::Geometry(geometry)) => {
                SqlValue::Blob(geopackage_blob(geometry))
            }
            _ => return Err(mismatch(self, value)),
        })
    }
}

impl fmt::Display for SqliteType {
    /// The type as declared in `CREATE TABLE`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SqliteType::Integer => "INTEGER",
            SqliteType::UnsignedBigInt => "UNSIGNED BIG INT",
            SqliteType::Real => "REAL",
            SqliteType::Text
            | SqliteType::JsonArray
            | SqliteType::Date
            | SqliteType::Time { .. }
            | SqliteType::DateTime { .. }
            | SqliteType::Timestamp { .. } => "TEXT",
            SqliteType::Blob | SqliteType::Geometry => "BLOB",
        })
    }
}

/// Fraction digits beyond microseconds, which no source engine keeps.
const MAX_PRECISION: u8 = 6;

/// The text form of dates, and of the date part of date-times.
pub(crate) const DATE: &str = "%Y-%m-%d";
/// The text form of date-times, fraction digits aside.
const DATE_TIME: &str = "%Y-%m-%d %H:%M:%S";

/// The GeoPackage geometry blob header: magic `GP`, version 0, flags saying the SRID
/// is little-endian and no envelope follows.
pub(crate) const GEOPACKAGE_HEADER: [u8; 4] = *b"GP\x00\x01";

fn unsigned(n: u64) -> SqlValue {
    match i64::try_from(n) {
        Ok(n) => SqlValue::Integer(n),
        Err(_) => SqlValue::Blob(n.to_be_bytes().to_vec()),
    }
}

fn mismatch(sqlite_type: SqliteType, value: &Value) -> Error {
    let mut shown = format!("{value:?}");
    if shown.len() > 60 {
        let end = (0..=60)
            .rev()
            .find(|&i| shown.is_char_boundary(i))
            .unwrap_or(0);
        shown.truncate(end);
        shown.push_str("...");
    }
    Error::new(
        ErrorKind::SchemaMismatch,
        format!("holds {shown}, which a column planned as SQLite {sqlite_type:?} cannot store"),
    )
}

fn time_text(time: Time, precision: u8) -> Result<String> {
    let (hours, minutes, seconds, micros) = time.parts();
    let sign = if time.is_negative() { "-" } else { "" };
    Ok(format!(
        "{sign}{hours:02}:{minutes:02}:{seconds:02}{}",
        fraction(micros, precision)?
    ))
}

fn date_time_text(at: &NaiveDateTime, precision: u8) -> Result<String> {
    if !at.nanosecond().is_multiple_of(1000) {
        return Err(too_precise(precision));
    }
    let micros = at.time().nanosecond() / 1000;
    Ok(format!(
        "{}{}",
        at.format(DATE_TIME),
        fraction(micros, precision)?
    ))
}

/// `.` and the first `precision` digits of `micros`, or nothing for precision 0; an
/// error when the digits left out are not all zero.
fn fraction(micros: u32, precision: u8) -> Result<String> {
    let dropped = 10u32.pow(u32::from(MAX_PRECISION - precision));
    if !micros.is_multiple_of(dropped) {
        return Err(too_precise(precision));
    }
    Ok(match precision {
        0 => String::new(),
        width => format!(".{:0width$}", micros / dropped, width = usize::from(width)),
    })
}

fn too_precise(precision: u8) -> Error {
    Error::new(
        ErrorKind::InvalidData,
        format!("holds more fraction digits than the column's {precision}"),
    )
}

/// `text` as the hours, minutes, seconds and fraction [`time_text`] writes.
pub(crate) fn parse_time(text: &str) -> Option<Time> {
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let mut parts = unsigned.splitn(3, ':');
    let hours = parts.next()?.parse().ok()?;
    let minutes = parts.next()?.parse().ok()?;
    let seconds = parts.next()?;
    let (seconds, digits) = seconds.split_once('.').unwrap_or((seconds, ""));
    let seconds = seconds.parse().ok()?;
    let micros = match digits.len() {
        0 => 0,
        1..=6 => digits.parse::<u32>().ok()? * 10u32.pow(6 - digits.len() as u32),
        _ => return None,
    };
    Time::from_parts(negative, hours, minutes, seconds, micros).ok()
}

/// `text` as a date-time [`date_time_text`] writes.
pub(crate) fn parse_date_time(text: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f").ok()
}

fn geopackage_blob(geometry: &Geometry) -> Vec<u8> {
    let mut blob = Vec::with_capacity(8 + geometry.wkb.len());
    blob.extend_from_slice(&GEOPACKAGE_HEADER);
    blob.extend_from_slice(&geometry.srid.to_le_bytes());
    blob.extend_from_slice(&geometry.wkb);
    blob
}

/// The geometry in a blob [`geopackage_blob`] wrote.
pub(crate) fn parse_geopackage_blob(blob: &[u8]) -> Option<Geometry> {
    let rest = blob.strip_prefix(&GEOPACKAGE_HEADER)?;
    let (srid, wkb) = rest.split_first_chunk::<4>()?;
    Some(Geometry {
        srid: u32::from_le_bytes(*srid),
        wkb: wkb.to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;

    fn options() -> MappingOptions {
        MappingOptions::default()
    }

    #[test]
    fn unsigned_64_bit_integers_beyond_i64_are_big_endian_blobs() {
        let store = |n| SqliteType::UnsignedBigInt.store(&Value::UInt(n), options());
        assert_eq!(store(42).unwrap(), SqlValue::Integer(42));
        assert_eq!(store(i64::MAX as u64).unwrap(), SqlValue::Integer(i64::MAX));
        assert_eq!(store(u64::MAX).unwrap(), SqlValue::Blob(vec![0xff; 8]));
    }

    #[test]
    fn temporal_text_has_the_column_precision() {
        let at = NaiveDate::from_ymd_opt(2024, 2, 29)
            .unwrap()
            .and_hms_micro_opt(23, 59, 1, 120_000)
            .unwrap();
        let store =
            |precision| SqliteType::DateTime { precision }.store(&Value::DateTime(at), options());
        assert_eq!(
            store(2).unwrap(),
            SqlValue::Text("2024-02-29 23:59:01.12".into())
        );
        assert_eq!(
            store(6).unwrap(),
            SqlValue::Text("2024-02-29 23:59:01.120000".into())
        );
        assert!(store(1).is_err(), "a digit would be lost");
        let date = SqliteType::Date.store(&Value::Date(at.date()), options());
        assert_eq!(date.unwrap(), SqlValue::Text("2024-02-29".into()));
    }

    #[test]
    fn times_beyond_a_day_and_negative_round_trip() {
        for (text, precision) in [
            ("838:59:59", 0),
            ("-838:59:59.000000", 6),
            ("-00:00:00.000001", 6),
            ("12:30:00.5", 1),
        ] {
            let time = parse_time(text).unwrap();
            assert_eq!(time_text(time, precision).unwrap(), text);
        }
        assert_eq!(parse_time("1:2"), None);
        assert_eq!(parse_time("01:60:00"), None);
    }

    #[test]
    fn options_refuse_what_sqlite_cannot_honour() {
        let keep = MappingOptions::new(
            ZeroDatePolicy::Keep,
            EnumMapping::Text,
            SetMapping::TextArray,
        );
        assert_eq!(keep.unwrap_err().kind(), ErrorKind::Config);
        let native = MappingOptions::new(
            ZeroDatePolicy::Null,
            EnumMapping::Native,
            SetMapping::TextArray,
        );
        assert_eq!(native.unwrap_err().kind(), ErrorKind::Config);
    }

    #[test]
    fn geometries_keep_their_srid() {
        let point = Geometry {
            srid: 4326,
            wkb: vec![1, 1, 0, 0, 0, 1, 2, 3],
        };
        let SqlValue::Blob(blob) = SqliteType::Geometry
            .store(&Value::Geometry(point.clone()), options())
            .unwrap()
        else {
            panic!("a geometry is a blob");
        };
        assert_eq!(&blob[..4], b"GP\x00\x01");
        assert_eq!(parse_geopackage_blob(&blob), Some(point));
    }
}
