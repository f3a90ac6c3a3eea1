//! MySQL's binary JSON (the `JSON` type of MySQL 5.7 and later; MariaDB's JSON is
//! text) rendered as the text MySQL itself prints for it, so that a value read from
//! the binlog equals the same value read by a query.
//!
//! A document is a type byte and a value. Objects and arrays start with their
//! element count and byte size (2 bytes each in the small form, 4 in the large),
//! then a table of key entries (offset, length) for objects and of value entries
//! (type, offset) for both; small scalars are inlined in the offset field. Offsets
//! count from the start of the container. MySQL keeps object keys sorted (by length,
//! then bytes) and prints them in that order.

use std::fmt::Write;

use super::decimal::DecimalFormat;
use super::reader::Reader;
use super::row_decoder::ValueError;

const SMALL_OBJECT: u8 = 0x00;
const LARGE_OBJECT: u8 = 0x01;
const SMALL_ARRAY: u8 = 0x02;
const LARGE_ARRAY: u8 = 0x03;
const LITERAL: u8 = 0x04;
const INT16: u8 = 0x05;
const UINT16: u8 = 0x06;
const INT32: u8 = 0x07;
const UINT32: u8 = 0x08;
const INT64: u8 = 0x09;
const UINT64: u8 = 0x0a;
const DOUBLE: u8 = 0x0b;
const STRING: u8 = 0x0c;
const OPAQUE: u8 = 0x0f;

const NULL_LITERAL: u8 = 0x00;
const TRUE_LITERAL: u8 = 0x01;
const FALSE_LITERAL: u8 = 0x02;

/// MySQL refuses documents nested deeper; so does the decoder, rather than recurse
/// without bound on a malformed value.
const MAX_DEPTH: usize = 100;

/// The text of a binary JSON document.
pub(super) fn to_text(document: &[u8]) -> Result<String, ValueError> {
    // MySQL reads an empty value, which lax SQL modes can store, as JSON null.
    let Some((&value_type, value)) = document.split_first() else {
        return Ok("null".into());
    };
    let mut out = String::with_capacity(document.len() * 2);
    write_value(&mut out, value_type, value, 0)?;
    Ok(out)
}

fn malformed(what: &str) -> ValueError {
    ValueError::Malformed(format!("a binary JSON document with {what}"))
}

/// Writes the value of type `value_type` that starts `data` (for a container, `data`
/// starts with the container and may run past its end).
fn write_value(
    out: &mut String,
    value_type: u8,
    data: &[u8],
    depth: usize,
) -> Result<(), ValueError> {
    let mut input = Reader::new(data);
    match value_type {
        SMALL_OBJECT | LARGE_OBJECT | SMALL_ARRAY | LARGE_ARRAY => {
            if depth >= MAX_DEPTH {
                return Err(malformed("more than 100 levels of nesting"));
            }
            let large = matches!(value_type, LARGE_OBJECT | LARGE_ARRAY);
            let object = matches!(value_type, SMALL_OBJECT | LARGE_OBJECT);
            write_container(out, data, large, object, depth + 1)?;
        }
        LITERAL => write_literal(out, input.u8()?)?,
        INT16 => write_number(out, input.u16_le()? as i16),
        UINT16 => write_number(out, input.u16_le()?),
        INT32 => write_number(out, input.u32_le()? as i32),
        UINT32 => write_number(out, input.u32_le()?),
        INT64 => write_number(out, input.u64_le()? as i64),
        UINT64 => write_number(out, input.u64_le()?),
        DOUBLE => write_double(out, f64::from_le_bytes(input.take_array()?)),
        STRING => {
            let len = variable_length(&mut input)?;
            write_string(out, input.take(len)?)?;
        }
        OPAQUE => {
            let field_type = input.u8()?;
            let len = variable_length(&mut input)?;
            write_opaque(out, field_type, input.take(len)?)?;
        }
        other => return Err(malformed(&format!("the value type {other:#04x}"))),
    }
    Ok(())
}

fn write_container(
    out: &mut String,
    data: &[u8],
    large: bool,
    object: bool,
    depth: usize,
) -> Result<(), ValueError> {
    let width = if large { 4 } else { 2 };
    let mut header = Reader::new(data);
    let count = header.uint_le(width)? as usize;
    let size = header.uint_le(width)? as usize;
    let data = data
        .get(..size)
        .ok_or_else(|| malformed("a container larger than the document"))?;
    let key_entries = 2 * width;
    let value_entries = key_entries + if object { count * (width + 2) } else { 0 };
    let entry = |start: usize, len: usize| {
        data.get(start..start + len)
            .ok_or_else(|| malformed("an entry beyond its container"))
    };
    let offset = |bytes: &[u8]| Reader::new(bytes).uint_le(width).map(|o| o as usize);

    out.push(if object { '{' } else { '[' });
    for i in 0..count {
        if i > 0 {
            out.push_str(", ");
        }
        if object {
            let key = entry(key_entries + i * (width + 2), width + 2)?;
            let key_offset = offset(key)?;
            let key_len = Reader::new(&key[width..]).u16_le()? as usize;
            write_string(out, entry(key_offset, key_len)?)?;
            out.push_str(": ");
        }
        let value = entry(value_entries + i * (1 + width), 1 + width)?;
        let (value_type, inlined) = (value[0], &value[1..]);
        match value_type {
            LITERAL => write_literal(out, inlined[0])?,
            INT16 => write_value(out, INT16, inlined, depth)?,
            UINT16 => write_value(out, UINT16, inlined, depth)?,
            INT32 | UINT32 if large => write_value(out, value_type, inlined, depth)?,
            _ => {
                let start = offset(inlined)?;
                let rest = data
                    .get(start..)
                    .ok_or_else(|| malformed("a value beyond its container"))?;
                write_value(out, value_type, rest, depth)?;
            }
        }
    }
    out.push(if object { '}' } else { ']' });
    Ok(())
}

// Writing to a `String` cannot fail: the `fmt::Result`s below are discarded.
fn write_number(out: &mut String, number: impl std::fmt::Display) {
    let _ = write!(out, "{number}");
}

fn write_literal(out: &mut String, literal: u8) -> Result<(), ValueError> {
    out.push_str(match literal {
        NULL_LITERAL => "null",
        TRUE_LITERAL => "true",
        FALSE_LITERAL => "false",
        _ => return Err(malformed(&format!("the literal {literal:#04x}"))),
    });
    Ok(())
}

/// A length in 7-bit groups, least significant first, the high bit set on all but
/// the last byte (at most five bytes).
fn variable_length(input: &mut Reader<'_>) -> Result<usize, ValueError> {
    let mut len = 0usize;
    for i in 0..5 {
        let byte = input.u8()?;
        len |= usize::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Ok(len);
        }
    }
    Err(malformed("a string length of more than five bytes"))
}

/// A string in double quotes, escaped as MySQL escapes it: quote, backslash and the
/// control characters, the common ones by letter and the others as `\u00XX`.
fn write_string(out: &mut String, bytes: &[u8]) -> Result<(), ValueError> {
    let text = std::str::from_utf8(bytes).map_err(|_| malformed("a string that is not UTF-8"))?;
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    Ok(())
}

/// A double as MySQL's `my_gcvt` prints it in JSON: the shortest digits that read
/// back as the same number, in positional notation from 1e-15 up to 1e15 (and for
/// any number with a fractional part below that), in exponent notation otherwise,
/// with `.0` added to a whole number so that it reads as a double.
fn write_double(out: &mut String, value: f64) {
    // `{:e}` gives the shortest round-trip digits, as `d.ddde±x`.
    let scientific = format!("{:e}", value.abs());
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let (len, point) = (digits.len() as i32, exponent + 1); // point: dtoa's `decpt`
    if value.is_sign_negative() {
        out.push('-');
    }
    if point >= -14 && (point <= 15 || len > point) {
        if point <= 0 {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-point) as usize));
            out.push_str(&digits);
        } else if point < len {
            out.push_str(&digits[..point as usize]);
            out.push('.');
            out.push_str(&digits[point as usize..]);
        } else {
            out.push_str(&digits);
            out.extend(std::iter::repeat_n('0', (point - len) as usize));
            out.push_str(".0");
        }
    } else {
        out.push_str(&digits[..1]);
        if len > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let _ = write!(out, "e{exponent}");
    }
}

/// Values of other MySQL types kept in a document: decimals print as numbers,
/// temporal values as quoted strings with six fractional digits.
fn write_opaque(out: &mut String, field_type: u8, data: &[u8]) -> Result<(), ValueError> {
    use super::table_map::column_type as ty;
    let packed = || -> Result<i64, ValueError> { Ok(Reader::new(data).u64_le()? as i64) };
    match field_type {
        ty::NEWDECIMAL => {
            let mut input = Reader::new(data);
            let (precision, scale) = (input.u8()?, input.u8()?);
            let decimal = DecimalFormat::new(precision, scale)
                .ok_or_else(|| malformed("a decimal of impossible precision"))?
                .decode(&mut input)
                .map_err(|_| malformed("a malformed decimal"))?;
            out.push_str(decimal.as_str());
        }
        ty::TIME => {
            let packed = packed()?;
            let magnitude = packed.unsigned_abs();
            let (hms, micros) = (magnitude >> 24, magnitude & 0xff_ffff);
            let sign = if packed < 0 { "-" } else { "" };
            let _ = write!(
                out,
                "\"{sign}{:02}:{:02}:{:02}.{micros:06}\"",
                hms >> 12 & 0x3ff,
                hms >> 6 & 0x3f,
                hms & 0x3f
            );
        }
        ty::DATE | ty::DATETIME | ty::TIMESTAMP => {
            let magnitude = packed()?.unsigned_abs();
            let (ymdhms, micros) = (magnitude >> 24, magnitude & 0xff_ffff);
            let (ymd, hms) = (ymdhms >> 17, ymdhms & 0x1_ffff);
            let (year_month, day) = (ymd >> 5, ymd & 0x1f);
            let _ = write!(
                out,
                "\"{:04}-{:02}-{day:02}",
                year_month / 13,
                year_month % 13
            );
            if field_type != ty::DATE {
                let _ = write!(
                    out,
                    " {:02}:{:02}:{:02}.{micros:06}",
                    hms >> 12,
                    hms >> 6 & 0x3f,
                    hms & 0x3f
                );
            }
            out.push('"');
        }
        // MySQL prints strings kept as opaque values as strings.
        ty::VAR_STRING => write_string(out, data)?,
        other => {
            return Err(ValueError::Unrepresentable(format!(
                "a JSON document holding binary data of MySQL type {other}, which MySQL prints in base64"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn double(value: f64) -> String {
        let mut out = String::new();
        write_double(&mut out, value);
        out
    }

    #[test]
    fn doubles_print_as_mysql_prints_them() {
        let cases = [
            (1.0, "1.0"),
            (1.5, "1.5"),
            (-2.25, "-2.25"),
            (0.1, "0.1"),
            (100.0, "100.0"),
            (1e14, "100000000000000.0"),
            (1e15, "1e15"),
            (1e16, "1e16"),
            (1234567890123456.7, "1234567890123456.8"),
            (1.2345678901234568e20, "1.2345678901234568e20"),
            (1e100, "1e100"),
            (1e-7, "0.0000001"),
            (1e-15, "0.000000000000001"),
            (1.5e-16, "1.5e-16"),
            (-2.5e-300, "-2.5e-300"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (f64::MAX, "1.7976931348623157e308"),
        ];
        for (value, text) in cases {
            assert_eq!(double(value), text, "{value:e}");
        }
    }

    /// `{"a": 1, "bc": [true, null, "x\n"], "d": 1.5}` as MySQL serializes it: keys
    /// sorted by length, small scalars inlined.
    fn sample() -> Vec<u8> {
        // The array [true, null, "x\n"]: count 3, size, 3 value entries, the string.
        let array = {
            let mut a = vec![3, 0, 0, 0];
            a.extend_from_slice(&[LITERAL, TRUE_LITERAL, 0]);
            a.extend_from_slice(&[LITERAL, NULL_LITERAL, 0]);
            a.extend_from_slice(&[STRING, 13, 0]); // the string at offset 13
            a.extend_from_slice(&[2, b'x', b'\n']);
            let size = a.len() as u16;
            a[2..4].copy_from_slice(&size.to_le_bytes());
            a
        };
        // The object: count 3, size, 3 key entries (4 bytes), 3 value entries (3).
        let mut o = vec![3, 0, 0, 0];
        let keys_at = 4 + 3 * 4 + 3 * 3;
        for (offset, len) in [(keys_at, 1), (keys_at + 1, 1), (keys_at + 2, 2)] {
            o.extend_from_slice(&(offset as u16).to_le_bytes());
            o.extend_from_slice(&(len as u16).to_le_bytes());
        }
        let values_at = keys_at + 4;
        o.extend_from_slice(&[INT16, 1, 0]);
        o.extend_from_slice(&[DOUBLE]);
        o.extend_from_slice(&(values_at as u16).to_le_bytes());
        o.extend_from_slice(&[SMALL_ARRAY]);
        o.extend_from_slice(&((values_at + 8) as u16).to_le_bytes());
        o.extend_from_slice(b"adbc");
        o.extend_from_slice(&1.5f64.to_le_bytes());
        o.extend_from_slice(&array);
        let size = o.len() as u16;
        o[2..4].copy_from_slice(&size.to_le_bytes());
        let mut document = vec![SMALL_OBJECT];
        document.extend_from_slice(&o);
        document
    }

    #[test]
    fn renders_objects_arrays_and_scalars() {
        assert_eq!(
            to_text(&sample()).unwrap(),
            r#"{"a": 1, "d": 1.5, "bc": [true, null, "x\n"]}"#
        );
        assert_eq!(to_text(&[]).unwrap(), "null");
        assert_eq!(
            to_text(&[INT64, 0, 0, 0, 0, 0, 0, 0, 0x80]).unwrap(),
            i64::MIN.to_string()
        );
        assert_eq!(
            to_text(&[STRING, 5, b'q', b'"', b'\\', 0x01, b'/']).unwrap(),
            r#""q\"\\\u0001/""#
        );
    }

    #[test]
    fn renders_opaque_decimals_and_dates() {
        let mut decimal = vec![OPAQUE, 246, 5, 5, 2];
        decimal.extend_from_slice(&crate::binlog::test_support::encode_decimal("-12.5", 5, 2));
        assert_eq!(to_text(&decimal).unwrap(), "-12.50");

        // 2024-02-29 23:59:59.5 packed: ((2024 * 13 + 2) << 5 | 29) << 17 | hms, << 24.
        let ymd = (2024u64 * 13 + 2) << 5 | 29;
        let packed = (ymd << 17 | 23 << 12 | 59 << 6 | 59) << 24 | 500_000;
        let mut datetime = vec![OPAQUE, 12, 8];
        datetime.extend_from_slice(&packed.to_le_bytes());
        assert_eq!(
            to_text(&datetime).unwrap(),
            "\"2024-02-29 23:59:59.500000\""
        );
        datetime[1] = 10;
        assert_eq!(to_text(&datetime).unwrap(), "\"2024-02-29\"");

        let time = -(((838i64 << 12 | 59 << 6 | 59) << 24) + 1);
        let mut time_doc = vec![OPAQUE, 11, 8];
        time_doc.extend_from_slice(&time.to_le_bytes());
        assert_eq!(to_text(&time_doc).unwrap(), "\"-838:59:59.000001\"");
    }

    #[test]
    fn malformed_documents_are_errors() {
        let mut truncated = sample();
        truncated.truncate(20);
        assert!(to_text(&truncated).is_err());
        assert!(to_text(&[0x0d]).is_err());
        assert!(to_text(&[LITERAL, 7]).is_err());
        let nested = |depth: usize| {
            let mut inner = vec![1, 0, 7, 0, LITERAL, NULL_LITERAL, 0];
            for _ in 1..depth {
                let mut outer = vec![1, 0];
                outer.extend_from_slice(&(7 + inner.len() as u16).to_le_bytes());
                outer.extend_from_slice(&[SMALL_ARRAY, 7, 0]);
                outer.extend_from_slice(&inner);
                inner = outer;
            }
            let mut document = vec![SMALL_ARRAY];
            document.extend_from_slice(&inner);
            document
        };
        assert_eq!(to_text(&nested(3)).unwrap(), "[[[null]]]");
        assert_eq!(to_text(&nested(100)).unwrap().len(), 204);
        assert!(to_text(&nested(101)).is_err());
    }
}
