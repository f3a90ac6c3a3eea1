//! One encoding of a row's values, equal for a faithful copy on every engine and
//! different for any changed value.
//!
//! Both sides' values are encoded with the SOURCE column's type: each engine's reader
//! gives a target's values back as the source's, and what is left of the differences
//! between engines (an integer read into another width, a `FLOAT` read back as a
//! double, JSON respelled by `jsonb`, a decimal with its column's scale, a zero date
//! that became NULL) is folded here, by type. A value of a variant the column's type
//! does not expect is encoded as itself, so that it shows as a difference rather than
//! an error.

use chrono::Datelike;
use serde::{Deserialize, Serialize};

use crate::data_type::DataType;
use crate::table_schema::Column;
use crate::value::{BitString, Decimal, Value};
use crate::verify::json::canonical_json;

/// How MySQL's zero dates compare: as the pair's `zero_date` policy writes them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ZeroDates {
    /// Equal to NULL: targets without zero dates store NULL (the `null` policy).
    #[default]
    AsNull,
    /// Zero dates of their own (the `keep` policy of a MySQL/MariaDB target).
    Kept,
}

/// The canonical encoding, with the pair's choices that decide what a faithful copy
/// holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Canonical {
    pub zero_dates: ZeroDates,
}

/// One tag per canonical family; each encoding starts with its tag, and every
/// variable-length payload carries its length, so that no two rows share an encoding.
mod tag {
    pub(super) const NULL: u8 = 0;
    pub(super) const BOOL: u8 = 1;
    pub(super) const INT: u8 = 2;
    pub(super) const FLOAT: u8 = 3;
    pub(super) const DOUBLE: u8 = 4;
    pub(super) const DECIMAL: u8 = 5;
    pub(super) const TEXT: u8 = 6;
    pub(super) const BYTES: u8 = 7;
    pub(super) const DATE: u8 = 8;
    pub(super) const ZERO_DATE: u8 = 9;
    pub(super) const TIME: u8 = 10;
    pub(super) const DATE_TIME: u8 = 11;
    pub(super) const TIMESTAMP: u8 = 12;
    pub(super) const YEAR: u8 = 13;
    pub(super) const JSON: u8 = 14;
    pub(super) const LABEL: u8 = 15;
    pub(super) const SET: u8 = 16;
    pub(super) const BIT: u8 = 17;
    pub(super) const GEOMETRY: u8 = 18;
    pub(super) const UUID: u8 = 19;
    /// A value of a variant its column's type does not expect.
    pub(super) const UNEXPECTED: u8 = 0xff;
}

impl Canonical {
    /// Appends the encoding of `row`, a row of `columns`, to `out`.
    pub fn encode_row(&self, columns: &[Column], row: &[Value], out: &mut Vec<u8>) {
        for (column, value) in columns.iter().zip(row) {
            self.encode(&column.data_type, value, out);
        }
    }

    /// Appends the encoding of `value`, a value of a column of `data_type`, to `out`.
    pub fn encode(&self, data_type: &DataType, value: &Value, out: &mut Vec<u8>) {
        if !self.encode_as(data_type, value, out) {
            out.push(tag::UNEXPECTED);
            bytes(format!("{value:?}").as_bytes(), out);
        }
    }

    /// Encodes `value` as its column's family; `false` when the variant does not
    /// belong to it.
    fn encode_as(&self, data_type: &DataType, value: &Value, out: &mut Vec<u8>) -> bool {
        match (data_type, value) {
            (_, Value::Null) => out.push(tag::NULL),
            (_, Value::ZeroDate) => out.push(match self.zero_dates {
                ZeroDates::AsNull => tag::NULL,
                ZeroDates::Kept => tag::ZERO_DATE,
            }),
            (DataType::Bool, Value::Bool(b)) => tagged(tag::BOOL, &[u8::from(*b)], out),
            // A boolean stored as a MySQL `tinyint(1)`.
            (DataType::Bool, Value::Int(n @ (0 | 1))) => tagged(tag::BOOL, &[*n as u8], out),
            // Integers by value, whatever their width or signedness.
            (DataType::Int { .. }, value) => match integer(value) {
                Some(n) => tagged(tag::INT, &n.to_be_bytes(), out),
                None => return false,
            },
            (DataType::Float, Value::Float(x)) => float(*x, out),
            // A `FLOAT` read back as a double holds the same number.
            (DataType::Float, Value::Double(x)) if f64::from(*x as f32) == *x => {
                float(*x as f32, out)
            }
            (DataType::Double, Value::Double(x)) => double(*x, out),
            (DataType::Double, Value::Float(x)) => double(f64::from(*x), out),
            (DataType::Decimal { size }, value) => {
                let Some(decimal) = decimal(value) else {
                    return false;
                };
                let scale = size.map(|size| size.scale as usize);
                tagged(tag::DECIMAL, normalized(&decimal, scale).as_bytes(), out);
            }
            (
                DataType::Char { .. } | DataType::VarChar { .. } | DataType::Text { .. },
                Value::Text(text),
            ) => tagged(tag::TEXT, text.as_bytes(), out),
            (
                DataType::Binary { .. } | DataType::VarBinary { .. } | DataType::Blob { .. },
                Value::Bytes(b),
            ) => tagged(tag::BYTES, b, out),
            (DataType::Date, Value::Date(date)) => {
                tagged(tag::DATE, &date.num_days_from_ce().to_be_bytes(), out);
            }
            (DataType::Time { .. }, Value::Time(time)) => {
                tagged(tag::TIME, &time.micros().to_be_bytes(), out);
            }
            (DataType::DateTime { .. }, Value::DateTime(at)) => {
                let micros = at.and_utc().timestamp_micros();
                tagged(tag::DATE_TIME, &micros.to_be_bytes(), out);
            }
            // Instants in UTC, however a reader typed them.
            (DataType::Timestamp { .. }, Value::Timestamp(at)) => {
                tagged(tag::TIMESTAMP, &at.timestamp_micros().to_be_bytes(), out);
            }
            (DataType::Timestamp { .. }, Value::DateTime(at)) => {
                let micros = at.and_utc().timestamp_micros();
                tagged(tag::TIMESTAMP, &micros.to_be_bytes(), out);
            }
            (DataType::Year, value) => match year(value) {
                Some(year) => tagged(tag::YEAR, &year.to_be_bytes(), out),
                None => return false,
            },
            (DataType::Json, Value::Json(text) | Value::Text(text)) => match canonical_json(text) {
                Some(json) => tagged(tag::JSON, json.as_bytes(), out),
                None => return false,
            },
            (DataType::Enum { .. }, Value::Enum(label) | Value::Text(label)) => {
                tagged(tag::LABEL, label.as_bytes(), out);
            }
            (DataType::Set { labels }, Value::Set(members)) => set(labels, members, out),
            (DataType::Bit { .. }, Value::Bit(bits)) => bit(bits, out),
            (DataType::Bit { length }, Value::UInt(n)) if *length <= 64 => {
                bit(&BitString::from_u64(*n, *length as usize), out);
            }
            (DataType::Geometry { .. }, Value::Geometry(geometry)) => {
                out.push(tag::GEOMETRY);
                out.extend_from_slice(&geometry.srid.to_be_bytes());
                bytes(&geometry.wkb, out);
            }
            (DataType::Uuid, Value::Uuid(uuid)) => tagged(tag::UUID, &uuid.0, out),
            _ => return false,
        }
        true
    }
}

fn tagged(tag: u8, payload: &[u8], out: &mut Vec<u8>) {
    out.push(tag);
    bytes(payload, out);
}

/// `payload` preceded by its length.
fn bytes(payload: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(&(payload.len() as u64).to_be_bytes());
    out.extend_from_slice(payload);
}

fn integer(value: &Value) -> Option<i128> {
    match value {
        Value::Int(n) => Some(i128::from(*n)),
        Value::UInt(n) => Some(i128::from(*n)),
        // MySQL's `BIGINT UNSIGNED` as PostgreSQL's `numeric(20)`.
        Value::Decimal(d) if d.scale() == 0 => d.as_str().parse().ok(),
        _ => None,
    }
}

fn decimal(value: &Value) -> Option<Decimal> {
    match value {
        Value::Decimal(d) => Some(d.clone()),
        Value::Int(n) => Some(Decimal::from(*n)),
        Value::UInt(n) => Some(Decimal::from(*n)),
        _ => None,
    }
}

fn year(value: &Value) -> Option<u16> {
    match value {
        Value::Year(year) => Some(*year),
        Value::Int(n) => u16::try_from(*n).ok(),
        Value::UInt(n) => u16::try_from(*n).ok(),
        _ => None,
    }
}

/// The digits of `decimal` with `scale` fraction digits (padded with zeros, never
/// cut: excess digits are a different value), or, for a column without a declared
/// scale, without trailing fraction zeros: an unconstrained PostgreSQL `numeric`
/// arrives in a MySQL `DECIMAL(65,30)` with 30 of them.
fn normalized(decimal: &Decimal, scale: Option<usize>) -> String {
    let fraction = decimal.fraction_digits();
    let fraction = match scale {
        Some(scale) if fraction.len() < scale => format!("{fraction:0<scale$}"),
        Some(_) => fraction.to_owned(),
        None => fraction.trim_end_matches('0').to_owned(),
    };
    let sign = if decimal.is_negative() { "-" } else { "" };
    format!("{sign}{}.{fraction}", decimal.integer_digits())
}

/// SQL compares `-0` equal to `0` (and MariaDB stores `-0` as `0`); every NaN is one.
fn float(x: f32, out: &mut Vec<u8>) {
    let bits = match x {
        x if x.is_nan() => f32::NAN.to_bits(),
        0.0 => 0,
        x => x.to_bits(),
    };
    tagged(tag::FLOAT, &bits.to_be_bytes(), out);
}

fn double(x: f64, out: &mut Vec<u8>) {
    let bits = match x {
        x if x.is_nan() => f64::NAN.to_bits(),
        0.0 => 0,
        x => x.to_bits(),
    };
    tagged(tag::DOUBLE, &bits.to_be_bytes(), out);
}

/// Members in the order the column declares its labels, whatever order a reader gave.
fn set(labels: &[String], members: &[String], out: &mut Vec<u8>) {
    let mut ordered: Vec<&String> = members.iter().collect();
    ordered.sort_by_key(|member| {
        (
            labels.iter().position(|label| label == *member),
            member.as_str(),
        )
    });
    out.push(tag::SET);
    out.extend_from_slice(&(ordered.len() as u64).to_be_bytes());
    for member in ordered {
        bytes(member.as_bytes(), out);
    }
}

fn bit(bits: &BitString, out: &mut Vec<u8>) {
    out.push(tag::BIT);
    out.extend_from_slice(&(bits.len() as u64).to_be_bytes());
    bytes(bits.as_bytes(), out);
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone, Utc};

    use super::*;
    use crate::data_type::{DecimalSize, IntWidth};
    use crate::value::{Geometry, Time, Uuid};

    fn encoding(canonical: Canonical, data_type: &DataType, value: &Value) -> Vec<u8> {
        let mut out = Vec::new();
        canonical.encode(data_type, value, &mut out);
        out
    }

    fn equal(data_type: &DataType, a: &Value, b: &Value) -> bool {
        let canonical = Canonical::default();
        encoding(canonical, data_type, a) == encoding(canonical, data_type, b)
    }

    fn int(width: IntWidth, unsigned: bool) -> DataType {
        DataType::Int { width, unsigned }
    }

    fn decimal(precision: u32, scale: u32) -> DataType {
        DataType::Decimal {
            size: Some(DecimalSize { precision, scale }),
        }
    }

    fn dec(text: &str) -> Value {
        Value::Decimal(text.parse().unwrap())
    }

    #[test]
    fn integers_compare_by_value() {
        let bigint_unsigned = int(IntWidth::I64, true);
        assert!(equal(
            &bigint_unsigned,
            &Value::UInt(u64::MAX),
            &dec("18446744073709551615")
        ));
        assert!(equal(
            &int(IntWidth::I8, true),
            &Value::UInt(255),
            &Value::Int(255)
        ));
        assert!(!equal(
            &int(IntWidth::I64, false),
            &Value::Int(-1),
            &Value::UInt(1)
        ));
        assert!(!equal(
            &bigint_unsigned,
            &Value::UInt(u64::MAX),
            &Value::UInt(u64::MAX - 1)
        ));
        assert!(!equal(
            &int(IntWidth::I32, false),
            &Value::Int(0),
            &Value::Null
        ));
    }

    #[test]
    fn a_float_read_back_as_a_double_is_equal() {
        let x = 3.4028235e38_f32;
        assert!(equal(
            &DataType::Float,
            &Value::Float(x),
            &Value::Double(f64::from(x))
        ));
        assert!(equal(
            &DataType::Float,
            &Value::Float(-0.0),
            &Value::Float(0.0)
        ));
        assert!(!equal(
            &DataType::Float,
            &Value::Float(1.5),
            &Value::Double(1.5000001)
        ));
        assert!(equal(
            &DataType::Double,
            &Value::Double(0.1),
            &Value::Double(0.1)
        ));
        assert!(!equal(
            &DataType::Double,
            &Value::Double(0.1),
            &Value::Double(0.1 + f64::EPSILON)
        ));
        assert!(equal(
            &DataType::Double,
            &Value::Double(f64::NAN),
            &Value::Double(-f64::NAN)
        ));
    }

    #[test]
    fn decimals_compare_at_the_declared_scale() {
        assert!(equal(&decimal(5, 2), &dec("4.90"), &dec("4.9")));
        assert!(equal(&decimal(20, 0), &dec("12"), &Value::Int(12)));
        assert!(!equal(&decimal(5, 2), &dec("4.90"), &dec("4.91")));
        assert!(!equal(&decimal(5, 2), &dec("4.90"), &dec("-4.90")));
        let unconstrained = DataType::Decimal { size: None };
        assert!(equal(
            &unconstrained,
            &dec("1.5"),
            &dec("1.500000000000000000000000000000")
        ));
        let max = format!("{}.{}", "9".repeat(35), "9".repeat(30));
        let almost = format!("{}.{}8", "9".repeat(35), "9".repeat(29));
        assert!(!equal(&decimal(65, 30), &dec(&max), &dec(&almost)));
    }

    #[test]
    fn text_and_bytes_compare_exactly() {
        let varchar = DataType::VarChar { length: Some(10) };
        assert!(!equal(
            &varchar,
            &Value::Text("a".into()),
            &Value::Text("A".into())
        ));
        assert!(!equal(
            &varchar,
            &Value::Text("a".into()),
            &Value::Text("a ".into())
        ));
        let binary = DataType::Binary { length: 4 };
        assert!(!equal(
            &binary,
            &Value::Bytes(vec![1, 0, 0, 0]),
            &Value::Bytes(vec![1])
        ));
        assert!(equal(
            &binary,
            &Value::Bytes(vec![1, 0, 0, 0]),
            &Value::Bytes(vec![1, 0, 0, 0])
        ));
    }

    #[test]
    fn json_compares_as_json() {
        let a = Value::Json(r#"{"b": [1, 2.50], "a": null}"#.into());
        let b = Value::Json(r#"{"a":null,"b":[1,2.5]}"#.into());
        assert!(equal(&DataType::Json, &a, &b));
        assert!(!equal(
            &DataType::Json,
            &a,
            &Value::Json(r#"{"a":null,"b":[1,2.6]}"#.into())
        ));
    }

    #[test]
    fn zero_dates_follow_the_policy() {
        let date = DataType::Date;
        assert!(equal(&date, &Value::ZeroDate, &Value::Null));
        let kept = Canonical {
            zero_dates: ZeroDates::Kept,
        };
        assert_ne!(
            encoding(kept, &date, &Value::ZeroDate),
            encoding(kept, &date, &Value::Null)
        );
    }

    #[test]
    fn instants_compare_in_utc_and_temporal_values_to_the_microsecond() {
        let at = NaiveDate::from_ymd_opt(2038, 1, 19)
            .unwrap()
            .and_hms_micro_opt(3, 14, 7, 999_999)
            .unwrap();
        let timestamp = DataType::Timestamp { precision: 6 };
        assert!(equal(
            &timestamp,
            &Value::Timestamp(Utc.from_utc_datetime(&at)),
            &Value::DateTime(at)
        ));
        let later = at + chrono::Duration::microseconds(1);
        let datetime = DataType::DateTime { precision: 6 };
        assert!(!equal(
            &datetime,
            &Value::DateTime(at),
            &Value::DateTime(later)
        ));
        let time = DataType::Time { precision: 6 };
        assert!(!equal(
            &time,
            &Value::Time(Time::from_micros(-1)),
            &Value::Time(Time::from_micros(1))
        ));
    }

    #[test]
    fn other_families() {
        let set = DataType::Set {
            labels: vec!["a".into(), "b".into(), "c".into()],
        };
        let members = |m: &[&str]| Value::Set(m.iter().map(|s| (*s).to_owned()).collect());
        assert!(equal(&set, &members(&["c", "a"]), &members(&["a", "c"])));
        assert!(!equal(&set, &members(&["a"]), &members(&["a", "c"])));
        let bit = DataType::Bit { length: 64 };
        assert!(equal(
            &bit,
            &Value::Bit(BitString::from_u64(u64::MAX, 64)),
            &Value::UInt(u64::MAX)
        ));
        let uuid = Value::Uuid(Uuid([7; 16]));
        assert!(!equal(&DataType::Uuid, &uuid, &Value::Uuid(Uuid([8; 16]))));
        let geometry = DataType::Geometry {
            kind: crate::data_type::GeometryKind::Point,
            srid: None,
        };
        let point = |srid| {
            Value::Geometry(Geometry {
                srid,
                wkb: vec![1, 1, 0, 0, 0],
            })
        };
        assert!(!equal(&geometry, &point(0), &point(4326)));
        assert!(equal(&DataType::Bool, &Value::Bool(true), &Value::Int(1)));
        assert!(equal(
            &DataType::Year,
            &Value::Year(1901),
            &Value::Int(1901)
        ));
    }

    #[test]
    fn a_value_of_another_type_is_a_difference() {
        let text = DataType::Text { max_bytes: None };
        assert!(!equal(&text, &Value::Text("1".into()), &Value::Int(1)));
        assert!(!equal(&DataType::Bool, &Value::Bool(true), &Value::Int(2)));
    }
}
