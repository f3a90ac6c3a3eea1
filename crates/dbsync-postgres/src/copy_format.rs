//! Rows in PostgreSQL's binary `COPY` format, the fastest way in.
//!
//! The format (PostgreSQL docs, "COPY ... Binary Format"): a signature and two 32-bit
//! header words, then per row a 16-bit field count and per field a 32-bit length (-1
//! for NULL) followed by the value in the type's binary send format, then a 16-bit -1.
//! Each type's send format is written here from its definition in PostgreSQL's source
//! (`numeric_send`, `interval_send`, `array_send` ...).

use chrono::{NaiveDate, NaiveDateTime};
use dbsync_core::{Decimal, Error, ErrorKind, Geometry, Result, Value};

use dbsync_config::ZeroDatePolicy;

use crate::target_type::{MappingOptions, PgType};

const SIGNATURE: &[u8] = b"PGCOPY\n\xff\r\n\0";
const TEXT_OID: u32 = 25;

/// PostgreSQL counts dates and timestamps from 2000-01-01.
fn pg_epoch() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2000, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .unwrap_or_default()
}

/// A binary `COPY` stream under construction.
#[derive(Debug)]
pub struct CopyEncoder {
    buf: Vec<u8>,
    options: MappingOptions,
}

impl CopyEncoder {
    pub fn new(options: MappingOptions) -> Self {
        let mut buf = Vec::with_capacity(1 << 16);
        buf.extend_from_slice(SIGNATURE);
        buf.extend_from_slice(&0u32.to_be_bytes()); // flags: no OIDs
        buf.extend_from_slice(&0u32.to_be_bytes()); // no header extension
        CopyEncoder { buf, options }
    }

    /// Appends one row; `types` are the target types of its columns, in order.
    /// On error nothing of the row is kept, and the error names the column.
    pub fn push_row(&mut self, row: &[Value], types: &[PgType], names: &[String]) -> Result<()> {
        let start = self.buf.len();
        self.buf
            .extend_from_slice(&(row.len() as i16).to_be_bytes());
        for ((value, pg_type), name) in row.iter().zip(types).zip(names) {
            if let Err(e) = self.push_field(value, pg_type) {
                self.buf.truncate(start);
                return Err(Error::new(e.kind(), format!("column `{name}`: {e}")));
            }
        }
        Ok(())
    }

    /// The bytes so far, leaving the encoder empty but for the header, which goes only
    /// at the start of a stream.
    pub fn take(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buf)
    }

    /// The bytes so far plus the trailer that ends the stream.
    pub fn finish(mut self) -> Vec<u8> {
        self.buf.extend_from_slice(&(-1i16).to_be_bytes());
        self.buf
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    fn push_field(&mut self, value: &Value, pg_type: &PgType) -> Result<()> {
        if let Value::ZeroDate = value {
            return match self.options.zero_date {
                ZeroDatePolicy::Null => {
                    self.null();
                    Ok(())
                }
                ZeroDatePolicy::Error | ZeroDatePolicy::Keep => Err(unsupported(
                    "holds the zero date 0000-00-00, which PostgreSQL has not, and the pair's zero_date policy is not `null`; set zero_date: null",
                )),
            };
        }
        if value.is_null() {
            self.null();
            return Ok(());
        }
        let length_at = self.buf.len();
        self.buf.extend_from_slice(&0i32.to_be_bytes());
        if let Err(error) = send(&mut self.buf, value, pg_type) {
            self.buf.truncate(length_at);
            return Err(error);
        }
        let length = (self.buf.len() - length_at - 4) as i32;
        self.buf[length_at..length_at + 4].copy_from_slice(&length.to_be_bytes());
        Ok(())
    }

    fn null(&mut self) {
        self.buf.extend_from_slice(&(-1i32).to_be_bytes());
    }
}

/// Appends `value`, which is not NULL, in the binary send format of `pg_type`: what a
/// `COPY` field or a bound parameter holds.
pub(crate) fn send(buf: &mut Vec<u8>, value: &Value, pg_type: &PgType) -> Result<()> {
    match (pg_type, value) {
        (PgType::Bool, Value::Bool(b)) => buf.push(u8::from(*b)),
        (PgType::Bool, Value::Int(n)) => buf.push(u8::from(*n != 0)),
        (PgType::Int2, value) => buf.extend_from_slice(&(integer::<i16>(value)?).to_be_bytes()),
        (PgType::Int4, value) => buf.extend_from_slice(&(integer::<i32>(value)?).to_be_bytes()),
        (PgType::Int8, value) => buf.extend_from_slice(&(integer::<i64>(value)?).to_be_bytes()),
        (PgType::Numeric(_), Value::Decimal(d)) => numeric(buf, d),
        (PgType::Numeric(_), Value::UInt(n)) => numeric(buf, &Decimal::from(*n)),
        (PgType::Numeric(_), Value::Int(n)) => numeric(buf, &Decimal::from(*n)),
        (PgType::Float4, Value::Float(x)) => buf.extend_from_slice(&x.to_bits().to_be_bytes()),
        (PgType::Float8, Value::Double(x)) => buf.extend_from_slice(&x.to_bits().to_be_bytes()),
        (PgType::Float8, Value::Float(x)) => {
            buf.extend_from_slice(&f64::from(*x).to_bits().to_be_bytes())
        }
        (PgType::VarChar(_) | PgType::Text, Value::Text(s) | Value::Enum(s)) => text(buf, s)?,
        (PgType::Text, Value::Set(members)) => text(buf, &members.join(","))?,
        (PgType::TextArray, Value::Set(members)) => text_array(buf, members)?,
        (PgType::Bytea, Value::Bytes(bytes)) => buf.extend_from_slice(bytes),
        (PgType::Bytea, Value::Geometry(g)) => to_ewkb(buf, g)?,
        (PgType::Date, Value::Date(d)) => {
            let days = (*d - pg_epoch().date()).num_days();
            buf.extend_from_slice(&(days as i32).to_be_bytes());
        }
        (PgType::Timestamp { .. }, Value::DateTime(dt)) => timestamp(buf, dt)?,
        (PgType::Timestamptz { .. }, Value::Timestamp(ts)) => timestamp(buf, &ts.naive_utc())?,
        (PgType::Timestamptz { .. }, Value::DateTime(dt)) => timestamp(buf, dt)?,
        (PgType::Interval { .. }, Value::Time(t)) => {
            // interval_send: microseconds, then days, then months. All of a TIME goes
            // in the microseconds so that -838:59:59 reads back as it was written.
            buf.extend_from_slice(&t.micros().to_be_bytes());
            buf.extend_from_slice(&0i32.to_be_bytes());
            buf.extend_from_slice(&0i32.to_be_bytes());
        }
        (PgType::Jsonb, Value::Json(json)) => {
            if json_has_nul_escape(json) {
                return Err(unsupported(
                    "holds JSON with the character \\u0000, which PostgreSQL jsonb cannot hold",
                ));
            }
            buf.push(1); // jsonb's binary format version
            text(buf, json)?;
        }
        (PgType::Bit(_), Value::Bit(bits)) => {
            buf.extend_from_slice(&(bits.len() as i32).to_be_bytes());
            buf.extend_from_slice(bits.as_bytes());
        }
        (PgType::Uuid, Value::Uuid(uuid)) => buf.extend_from_slice(&uuid.0),
        (pg_type, value) => {
            return Err(Error::new(
                ErrorKind::SchemaMismatch,
                format!(
                    "a {} value cannot be written to a PostgreSQL {pg_type} column",
                    kind_of(value)
                ),
            ));
        }
    }
    Ok(())
}

/// PostGIS's extended WKB: WKB with the SRID after the type word, flagged in it, so
/// that the SRID travels with the value and `ST_GeomFromEWKB` reads it. An SRID of 0
/// (none) leaves plain WKB.
fn to_ewkb(buf: &mut Vec<u8>, geometry: &Geometry) -> Result<()> {
    let wkb = &geometry.wkb;
    if geometry.srid == 0 {
        buf.extend_from_slice(wkb);
        return Ok(());
    }
    let little_endian = match wkb.first() {
        Some(1) => true,
        Some(0) => false,
        _ => {
            return Err(unsupported(
                "holds a geometry that is not well-known binary",
            ));
        }
    };
    let Some(type_word) = wkb.get(1..5) else {
        return Err(unsupported(
            "holds a geometry that is not well-known binary",
        ));
    };
    let mut word = [0u8; 4];
    word.copy_from_slice(type_word);
    let (kind, srid) = if little_endian {
        (
            (u32::from_le_bytes(word) | EWKB_SRID_FLAG).to_le_bytes(),
            geometry.srid.to_le_bytes(),
        )
    } else {
        (
            (u32::from_be_bytes(word) | EWKB_SRID_FLAG).to_be_bytes(),
            geometry.srid.to_be_bytes(),
        )
    };
    buf.push(wkb[0]);
    buf.extend_from_slice(&kind);
    buf.extend_from_slice(&srid);
    buf.extend_from_slice(&wkb[5..]);
    Ok(())
}

/// The inverse of [`to_ewkb`].
pub(crate) fn from_ewkb(mut ewkb: Vec<u8>) -> Option<Geometry> {
    let little_endian = *ewkb.first()? == 1;
    let word: [u8; 4] = ewkb.get(1..5)?.try_into().ok()?;
    let kind = if little_endian {
        u32::from_le_bytes(word)
    } else {
        u32::from_be_bytes(word)
    };
    if kind & EWKB_SRID_FLAG == 0 {
        return Some(Geometry { srid: 0, wkb: ewkb });
    }
    let srid_bytes: [u8; 4] = ewkb.get(5..9)?.try_into().ok()?;
    let srid = if little_endian {
        u32::from_le_bytes(srid_bytes)
    } else {
        u32::from_be_bytes(srid_bytes)
    };
    let plain = kind & !EWKB_SRID_FLAG;
    let plain = if little_endian {
        plain.to_le_bytes()
    } else {
        plain.to_be_bytes()
    };
    ewkb.drain(5..9);
    ewkb[1..5].copy_from_slice(&plain);
    Some(Geometry { srid, wkb: ewkb })
}

const EWKB_SRID_FLAG: u32 = 0x2000_0000;

fn unsupported(message: &str) -> Error {
    Error::new(ErrorKind::Unsupported, message)
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "NULL",
        Value::Bool(_) => "boolean",
        Value::Int(_) => "integer",
        Value::UInt(_) => "unsigned integer",
        Value::Float(_) => "float",
        Value::Double(_) => "double",
        Value::Decimal(_) => "decimal",
        Value::Text(_) => "text",
        Value::Bytes(_) => "binary",
        Value::Date(_) => "date",
        Value::ZeroDate => "zero date",
        Value::Time(_) => "time",
        Value::DateTime(_) => "datetime",
        Value::Timestamp(_) => "timestamp",
        Value::Year(_) => "year",
        Value::Json(_) => "JSON",
        Value::Enum(_) => "enum",
        Value::Set(_) => "set",
        Value::Bit(_) => "bit",
        Value::Geometry(_) => "geometry",
        Value::Uuid(_) => "uuid",
    }
}

fn integer<T: TryFrom<i64> + TryFrom<u64>>(value: &Value) -> Result<T> {
    let fits = match value {
        Value::Int(n) => T::try_from(*n).ok(),
        Value::UInt(n) => T::try_from(*n).ok(),
        Value::Bool(b) => T::try_from(i64::from(*b)).ok(),
        Value::Year(y) => T::try_from(i64::from(*y)).ok(),
        other => {
            return Err(Error::new(
                ErrorKind::SchemaMismatch,
                format!(
                    "a {} value cannot be written to an integer column",
                    kind_of(other)
                ),
            ));
        }
    };
    fits.ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidData,
            format!("the integer {value:?} does not fit the target column"),
        )
    })
}

/// Text must not contain NUL, which MySQL allows and PostgreSQL cannot store.
fn text(buf: &mut Vec<u8>, s: &str) -> Result<()> {
    if s.as_bytes().contains(&0) {
        return Err(unsupported(
            "contains a NUL character, which PostgreSQL text cannot hold; map the column to bytea with a type override",
        ));
    }
    buf.extend_from_slice(s.as_bytes());
    Ok(())
}

/// Whether JSON text has the escape `\u0000`, which jsonb refuses ("unsupported
/// Unicode escape sequence") after the row has gone into the COPY stream, in an error
/// that names neither the row nor the column. Outside strings, valid JSON has no
/// backslash, so every backslash starts an escape; `\\u0000` is a backslash and text.
fn json_has_nul_escape(json: &str) -> bool {
    let mut bytes = json.as_bytes().iter();
    while let Some(&byte) = bytes.next() {
        if byte == b'\\' && bytes.next() == Some(&b'u') && bytes.as_slice().starts_with(b"0000") {
            return true;
        }
    }
    false
}

/// `array_send` of a one-dimensional `text[]` without NULLs.
fn text_array(buf: &mut Vec<u8>, members: &[String]) -> Result<()> {
    let dimensions: i32 = if members.is_empty() { 0 } else { 1 };
    buf.extend_from_slice(&dimensions.to_be_bytes());
    buf.extend_from_slice(&0i32.to_be_bytes()); // no NULL elements
    buf.extend_from_slice(&TEXT_OID.to_be_bytes());
    if dimensions == 1 {
        buf.extend_from_slice(&(members.len() as i32).to_be_bytes());
        buf.extend_from_slice(&1i32.to_be_bytes()); // lower bound
    }
    for member in members {
        buf.extend_from_slice(&(member.len() as i32).to_be_bytes());
        text(buf, member)?;
    }
    Ok(())
}

fn timestamp(buf: &mut Vec<u8>, dt: &NaiveDateTime) -> Result<()> {
    let micros = (*dt - pg_epoch())
        .num_microseconds()
        .ok_or_else(|| unsupported(&format!("holds {dt}, outside PostgreSQL's timestamp range")))?;
    buf.extend_from_slice(&micros.to_be_bytes());
    Ok(())
}

/// `numeric_send`: base-10000 digits around the decimal point, with the weight of the
/// first digit group, the sign and the display scale.
fn numeric(buf: &mut Vec<u8>, decimal: &Decimal) {
    let integer = decimal.integer_digits().trim_start_matches('0');
    let fraction = decimal.fraction_digits();
    // Pad the integer part on the left and the fraction on the right to whole groups.
    let int_pad = (4 - integer.len() % 4) % 4;
    let frac_pad = (4 - fraction.len() % 4) % 4;
    let digits: Vec<u8> = std::iter::repeat_n(b'0', int_pad)
        .chain(integer.bytes())
        .chain(fraction.bytes())
        .chain(std::iter::repeat_n(b'0', frac_pad))
        .collect();
    let mut groups: Vec<i16> = digits
        .chunks(4)
        .map(|chunk| chunk.iter().fold(0i16, |n, d| n * 10 + i16::from(d - b'0')))
        .collect();
    let mut weight = ((int_pad + integer.len()) / 4) as i16 - 1;
    // PostgreSQL strips zero groups at both ends; leading ones move the weight.
    let leading = groups.iter().take_while(|&&g| g == 0).count();
    groups.drain(..leading);
    weight -= leading as i16;
    while groups.last() == Some(&0) {
        groups.pop();
    }
    if groups.is_empty() {
        weight = 0;
    }
    let sign: u16 = if decimal.is_negative() { 0x4000 } else { 0 };
    buf.extend_from_slice(&(groups.len() as i16).to_be_bytes());
    buf.extend_from_slice(&weight.to_be_bytes());
    buf.extend_from_slice(&sign.to_be_bytes());
    buf.extend_from_slice(&(fraction.len() as i16).to_be_bytes());
    for group in groups {
        buf.extend_from_slice(&group.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numeric_bytes(text: &str) -> Vec<u8> {
        let mut buf = Vec::new();
        numeric(&mut buf, &text.parse().unwrap());
        buf
    }

    fn words(values: &[i16]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_be_bytes()).collect()
    }

    #[test]
    fn numeric_matches_postgres_numeric_send() {
        // Expected words: ndigits, weight, sign, dscale, digits; as numeric_send gives.
        assert_eq!(
            numeric_bytes("12345.678"),
            words(&[3, 1, 0, 3, 1, 2345, 6780])
        );
        assert_eq!(numeric_bytes("-0.0001"), words(&[1, -1, 0x4000, 4, 1]));
        assert_eq!(numeric_bytes("0.00"), words(&[0, 0, 0, 2]));
        assert_eq!(numeric_bytes("10000"), words(&[1, 1, 0, 0, 1]));
        assert_eq!(
            numeric_bytes("18446744073709551615"),
            words(&[5, 4, 0, 0, 1844, 6744, 737, 955, 1615])
        );
    }

    #[test]
    fn ewkb_carries_the_srid_and_reads_back() {
        let mut wkb = vec![1, 1, 0, 0, 0];
        wkb.extend_from_slice(&1.0f64.to_le_bytes());
        wkb.extend_from_slice(&2.0f64.to_le_bytes());
        let geometry = Geometry { srid: 4326, wkb };
        let mut buf = Vec::new();
        to_ewkb(&mut buf, &geometry).unwrap();
        assert_eq!(&buf[..9], [1, 1, 0, 0, 0x20, 0xe6, 0x10, 0, 0]);
        assert_eq!(from_ewkb(buf), Some(geometry));
    }

    #[test]
    fn json_with_a_nul_escape_is_refused() {
        assert!(json_has_nul_escape(r#"["a\u0000b"]"#));
        assert!(json_has_nul_escape(r#"{"k": "\\\u0000"}"#));
        assert!(!json_has_nul_escape(
            r#"["a\\u0000b", "\u00e9", "\"u0000"]"#
        ));
        assert!(!json_has_nul_escape(r#"{"u0000": 0}"#));
        let mut encoder = CopyEncoder::new(MappingOptions::default());
        let error = encoder
            .push_row(
                &[Value::Json(r#"{"k": "\u0000"}"#.into())],
                &[PgType::Jsonb],
                &["doc".into()],
            )
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Unsupported);
        assert!(error.to_string().starts_with("column `doc`: "), "{error}");
    }

    #[test]
    fn timestamps_count_from_2000() {
        let ts = NaiveDate::from_ymd_opt(2000, 1, 2)
            .unwrap()
            .and_hms_micro_opt(0, 0, 0, 1)
            .unwrap();
        let mut buf = Vec::new();
        timestamp(&mut buf, &ts).unwrap();
        assert_eq!(buf, 86_400_000_001i64.to_be_bytes());
    }
}
