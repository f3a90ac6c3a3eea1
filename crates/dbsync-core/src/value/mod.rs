//! One value type for every column type of every engine.

mod bit_string;
mod decimal;
mod time;

use std::fmt;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

pub use bit_string::BitString;
pub use decimal::{Decimal, ParseDecimalError};
pub use time::{Time, TimeOutOfRange};

/// A single column value, independent of the engine it came from.
///
/// Each variant carries its value exactly: integers keep their signedness and full 64-bit
/// range, decimals keep every digit and their scale, temporal values keep microseconds,
/// and binary values keep every byte. Engines convert to and from this type; a value that
/// an engine cannot represent is an error there, never a silent approximation here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f32),
    Double(f64),
    Decimal(Decimal),
    Text(String),
    Bytes(Vec<u8>),
    Date(NaiveDate),
    /// MySQL's zero date, `0000-00-00` (or `0000-00-00 00:00:00` in a `DATETIME` or
    /// `TIMESTAMP` column), which no other engine can store: the writer of a target
    /// that lacks it applies the pair's zero-date policy. Partly zero dates such as
    /// `2024-00-15` have no value here; a reader fails on them, naming the column.
    ZeroDate,
    /// A signed duration that may exceed 24 hours (MySQL `TIME`), or a time of day.
    Time(Time),
    /// A wall-clock date and time without a zone (MySQL `DATETIME`, PostgreSQL `timestamp`).
    DateTime(NaiveDateTime),
    /// An instant (MySQL `TIMESTAMP`, PostgreSQL `timestamptz`).
    Timestamp(DateTime<Utc>),
    Year(u16),
    /// JSON as text, exactly as the source produced it.
    Json(String),
    /// The label of an enumeration, not its index.
    Enum(String),
    /// The labels of a set, in the order the column declares them.
    Set(Vec<String>),
    Bit(BitString),
    Geometry(Geometry),
    Uuid(Uuid),
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The order of two values of a poll cursor (integers, temporal values, text and
    /// binary by their bytes), as the databases sort those column types under a binary
    /// collation; `None` for values that do not compare so.
    pub fn partial_cmp_cursor(&self, other: &Value) -> Option<std::cmp::Ordering> {
        use Value::*;
        match (self, other) {
            (Int(a), Int(b)) => Some(a.cmp(b)),
            (UInt(a), UInt(b)) => Some(a.cmp(b)),
            (Int(a), UInt(b)) => Some(i128::from(*a).cmp(&i128::from(*b))),
            (UInt(a), Int(b)) => Some(i128::from(*a).cmp(&i128::from(*b))),
            (Date(a), Date(b)) => Some(a.cmp(b)),
            (DateTime(a), DateTime(b)) => Some(a.cmp(b)),
            (Timestamp(a), Timestamp(b)) => Some(a.cmp(b)),
            (Time(a), Time(b)) => Some(a.cmp(b)),
            (Year(a), Year(b)) => Some(a.cmp(b)),
            (Text(a), Text(b)) => Some(a.as_bytes().cmp(b.as_bytes())),
            (Bytes(a), Bytes(b)) => Some(a.cmp(b)),
            (Uuid(a), Uuid(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }
}

/// A spatial value as OGC well-known binary plus its spatial reference id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Geometry {
    pub srid: u32,
    pub wkb: Vec<u8>,
}

/// A 128-bit UUID in network byte order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Uuid(pub [u8; 16]);

impl fmt::Display for Uuid {
    /// The canonical hyphenated lower-case form, `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, byte) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_displays_hyphenated() {
        let uuid = Uuid([
            0x12, 0x3e, 0x45, 0x67, 0xe8, 0x9b, 0x12, 0xd3, 0xa4, 0x56, 0x42, 0x66, 0x14, 0x17,
            0x40, 0x00,
        ]);
        assert_eq!(uuid.to_string(), "123e4567-e89b-12d3-a456-426614174000");
    }
}
