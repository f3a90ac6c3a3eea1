//! Values as the MySQL client protocol carries them, in terms of [`Value`].
//!
//! Reads use the binary protocol (prepared statements), which sends integers, floats
//! and temporal values typed and everything else as bytes. The session runs with
//! `time_zone = '+00:00'` (see [`crate::session`]), so `TIMESTAMP` values arrive in UTC.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use dbsync_core::{
    BitString, Column, DataType, Decimal, Error, ErrorKind, Geometry, Result, Time, Uuid, Value,
};
use mysql_async::Value as Wire;

/// Converts one value of `column` as the server sent it.
pub(crate) fn from_wire(column: &Column, wire: Wire) -> Result<Value> {
    let invalid = |what: &dyn std::fmt::Debug| {
        Error::new(
            ErrorKind::InvalidData,
            format!(
                "column `{}` ({}) received {what:?}, which is not a value of its type",
                column.name, column.native_type
            ),
        )
    };
    let utf8 = |bytes: Vec<u8>| {
        String::from_utf8(bytes).map_err(|e| invalid(&String::from_utf8_lossy(e.as_bytes())))
    };
    let value = match (&column.data_type, wire) {
        (_, Wire::NULL) => Value::Null,
        (
            DataType::Int {
                unsigned: false, ..
            },
            Wire::Int(n),
        ) => Value::Int(n),
        (
            DataType::Int {
                unsigned: false, ..
            },
            Wire::UInt(n),
        ) => Value::Int(i64::try_from(n).map_err(|_| invalid(&n))?),
        (DataType::Int { unsigned: true, .. }, Wire::UInt(n)) => Value::UInt(n),
        (DataType::Int { unsigned: true, .. }, Wire::Int(n)) => {
            Value::UInt(u64::try_from(n).map_err(|_| invalid(&n))?)
        }
        // A PostgreSQL `boolean` in a `tinyint(1)`, read back as the source's.
        (DataType::Bool, Wire::Int(n @ (0 | 1))) => Value::Bool(n == 1),
        (DataType::Float, Wire::Float(x)) => Value::Float(x),
        (DataType::Double, Wire::Double(x)) => Value::Double(x),
        (DataType::Decimal { .. }, Wire::Bytes(text)) => Value::Decimal(
            std::str::from_utf8(&text)
                .ok()
                .and_then(|text| text.parse::<Decimal>().ok())
                .ok_or_else(|| invalid(&String::from_utf8_lossy(&text)))?,
        ),
        (
            DataType::Char { .. } | DataType::VarChar { .. } | DataType::Text { .. },
            Wire::Bytes(bytes),
        ) => Value::Text(utf8(bytes)?),
        (DataType::Json, Wire::Bytes(bytes)) => Value::Json(utf8(bytes)?),
        (DataType::Enum { .. }, Wire::Bytes(bytes)) => Value::Enum(utf8(bytes)?),
        (DataType::Set { labels }, Wire::Bytes(bytes)) => {
            let text = utf8(bytes)?;
            Value::Set(set_members(labels, &text).ok_or_else(|| invalid(&text))?)
        }
        (
            DataType::Binary { .. } | DataType::VarBinary { .. } | DataType::Blob { .. },
            Wire::Bytes(bytes),
        ) => Value::Bytes(bytes),
        (DataType::Date | DataType::DateTime { .. }, Wire::Date(0, 0, 0, 0, 0, 0, 0))
        | (DataType::Timestamp { .. }, Wire::Date(0, 0, 0, 0, 0, 0, 0)) => Value::ZeroDate,
        (DataType::Date, Wire::Date(year, month, day, ..)) => {
            Value::Date(date(year, month, day).ok_or_else(|| invalid(&(year, month, day)))?)
        }
        (DataType::DateTime { .. }, wire @ Wire::Date(..)) => {
            Value::DateTime(date_time(&wire).ok_or_else(|| invalid(&wire))?)
        }
        (DataType::Timestamp { .. }, wire @ Wire::Date(..)) => Value::Timestamp(
            Utc.from_utc_datetime(&date_time(&wire).ok_or_else(|| invalid(&wire))?),
        ),
        (DataType::Time { .. }, Wire::Time(negative, days, hours, minutes, seconds, micros)) => {
            let hours = days * 24 + u32::from(hours);
            Value::Time(
                Time::from_parts(negative, hours, minutes.into(), seconds.into(), micros)
                    .map_err(|e| invalid(&e))?,
            )
        }
        (DataType::Year, Wire::Int(year)) => {
            Value::Year(u16::try_from(year).map_err(|_| invalid(&year))?)
        }
        (DataType::Year, Wire::UInt(year)) => {
            Value::Year(u16::try_from(year).map_err(|_| invalid(&year))?)
        }
        (DataType::Bit { length }, Wire::Bytes(bytes)) if bytes.len() <= 8 => {
            // The server sends BIT(n) as a big-endian integer in ceil(n/8) bytes.
            let number = bytes.iter().fold(0u64, |n, &b| n << 8 | u64::from(b));
            Value::Bit(BitString::from_u64(number, *length as usize))
        }
        (DataType::Geometry { .. }, Wire::Bytes(bytes)) => {
            // MySQL's internal format: the SRID, 4 bytes little-endian, then WKB.
            let (srid, wkb) = bytes
                .split_first_chunk::<4>()
                .ok_or_else(|| invalid(&bytes))?;
            Value::Geometry(Geometry {
                srid: u32::from_le_bytes(*srid),
                wkb: wkb.to_vec(),
            })
        }
        (DataType::Uuid, Wire::Bytes(text)) => {
            Value::Uuid(parse_uuid(&text).ok_or_else(|| invalid(&String::from_utf8_lossy(&text)))?)
        }
        (DataType::Unsupported { native }, _) => {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!(
                    "column `{}` has type {native}, which dbsync cannot carry exactly; exclude the table or the column",
                    column.name
                ),
            ));
        }
        (_, wire) => return Err(invalid(&wire)),
    };
    Ok(value)
}

fn date(year: u16, month: u8, day: u8) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year.into(), month.into(), day.into())
}

pub(crate) fn date_time(wire: &Wire) -> Option<NaiveDateTime> {
    let &Wire::Date(year, month, day, hour, minute, second, micros) = wire else {
        return None;
    };
    let time = NaiveTime::from_hms_micro_opt(hour.into(), minute.into(), second.into(), micros)?;
    Some(date(year, month, day)?.and_time(time))
}

/// The labels of a `SET` value, which the server sends comma-separated in declaration
/// order. Labels cannot contain commas, so splitting is exact.
fn set_members(labels: &[String], text: &str) -> Option<Vec<String>> {
    if text.is_empty() {
        return Some(Vec::new());
    }
    text.split(',')
        .map(|member| {
            labels.iter().find_map(|label| {
                if label.eq_ignore_ascii_case(member) {
                    Some(label.clone())
                } else if reports_label(label, member) {
                    // The schema's label lost a character that the value has.
                    Some(member.to_owned())
                } else {
                    None
                }
            })
        })
        .collect()
}

/// Whether `reported`, an ENUM or SET label as `information_schema` (or `SHOW CREATE
/// TABLE`) reports it, is the label `label`.
///
/// MariaDB reports column types in utf8mb3, replacing each character outside the Basic
/// Multilingual Plane (an emoji) with `?`, so a label read from the schema may have
/// lost characters that the values and the binlog's table map carry exactly. No query
/// gives the true labels back.
pub(crate) fn reports_label(reported: &str, label: &str) -> bool {
    let as_utf8mb3 = label
        .chars()
        .map(|c| if c.len_utf8() == 4 { '?' } else { c });
    reported.chars().eq(as_utf8mb3)
}

/// MariaDB's `UUID` type reads as its hyphenated text.
fn parse_uuid(text: &[u8]) -> Option<Uuid> {
    let hex: Vec<u8> = text.iter().copied().filter(|&b| b != b'-').collect();
    if hex.len() != 32 {
        return None;
    }
    let mut bytes = [0u8; 16];
    for (byte, pair) in bytes.iter_mut().zip(hex.chunks_exact(2)) {
        *byte = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
    }
    Some(Uuid(bytes))
}

/// A value as a statement parameter, such as a chunk's key bound in the next query.
pub(crate) fn to_wire(value: &Value) -> Result<Wire> {
    Ok(match value {
        Value::Null => Wire::NULL,
        Value::Bool(b) => Wire::Int(i64::from(*b)),
        Value::Int(n) => Wire::Int(*n),
        Value::UInt(n) => Wire::UInt(*n),
        Value::Float(x) => Wire::Float(*x),
        Value::Double(x) => Wire::Double(*x),
        Value::Decimal(d) => Wire::Bytes(d.as_str().as_bytes().to_vec()),
        Value::Text(s) | Value::Json(s) | Value::Enum(s) => Wire::Bytes(s.as_bytes().to_vec()),
        Value::Bytes(b) => Wire::Bytes(b.clone()),
        Value::Date(d) => date_time_wire(&d.and_time(NaiveTime::MIN)),
        Value::ZeroDate => Wire::Date(0, 0, 0, 0, 0, 0, 0),
        Value::DateTime(dt) => date_time_wire(dt),
        Value::Timestamp(ts) => date_time_wire(&ts.naive_utc()),
        Value::Time(t) => {
            let (hours, minutes, seconds, micros) = t.parts();
            // The protocol splits hours into days; MySQL's range (838 h) fits easily.
            let days = (hours / 24) as u32;
            Wire::Time(
                t.is_negative(),
                days,
                (hours % 24) as u8,
                minutes as u8,
                seconds as u8,
                micros,
            )
        }
        Value::Year(y) => Wire::UInt((*y).into()),
        Value::Set(labels) => Wire::Bytes(labels.join(",").into_bytes()),
        Value::Bit(bits) => {
            // MySQL's BIT is at most 64 bits; its bytes are the big-endian integer.
            let number = bits.to_u64().ok_or_else(|| {
                Error::new(
                    ErrorKind::Unsupported,
                    format!(
                        "a BIT value of {} bits does not fit MySQL's BIT(64)",
                        bits.len()
                    ),
                )
            })?;
            Wire::Bytes(number.to_be_bytes()[8 - bits.len().div_ceil(8)..].to_vec())
        }
        Value::Geometry(g) => {
            let mut bytes = g.srid.to_le_bytes().to_vec();
            bytes.extend_from_slice(&g.wkb);
            Wire::Bytes(bytes)
        }
        Value::Uuid(u) => Wire::Bytes(u.to_string().into_bytes()),
    })
}

fn date_time_wire(dt: &NaiveDateTime) -> Wire {
    use chrono::{Datelike, Timelike};
    Wire::Date(
        dt.year() as u16,
        dt.month() as u8,
        dt.day() as u8,
        dt.hour() as u8,
        dt.minute() as u8,
        dt.second() as u8,
        dt.nanosecond() / 1000,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(labels: &[&str]) -> Vec<String> {
        labels.iter().map(|&label| label.to_owned()).collect()
    }

    #[test]
    fn set_members_take_the_declared_spelling() {
        let declared = labels(&["Trailers", "Deleted Scenes"]);
        assert_eq!(
            set_members(&declared, "trailers,Deleted Scenes"),
            Some(labels(&["Trailers", "Deleted Scenes"]))
        );
        assert_eq!(set_members(&declared, ""), Some(Vec::new()));
        assert_eq!(set_members(&declared, "Trailers,Bloopers"), None);
    }

    #[test]
    fn set_members_keep_the_characters_the_schema_lost() {
        // What MariaDB reports for SET('a', 'é😀'), and what a value holds.
        let reported = labels(&["a", "é?"]);
        assert_eq!(set_members(&reported, "a,é😀"), Some(labels(&["a", "é😀"])));
        assert_eq!(set_members(&reported, "a,é?"), Some(labels(&["a", "é?"])));
        assert_eq!(set_members(&reported, "a,e😀"), None);
    }

    #[test]
    fn only_4_byte_characters_are_reported_as_question_marks() {
        assert!(reports_label("é?", "é😀"));
        assert!(reports_label("??", "🇫🇷"));
        assert!(reports_label("é€", "é€"));
        assert!(!reports_label("é?", "é€"));
        assert!(!reports_label("é?", "é😀😀"));
    }
}
