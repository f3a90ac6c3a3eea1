//! MySQL's binary `DECIMAL` format (since 5.0), as rows events carry it.
//!
//! Digits are grouped in nines, each group a big-endian integer of 4 bytes; the groups
//! at the two ends of the number hold fewer digits in fewer bytes. The first bit is
//! flipped so that the bytes sort like the numbers, and a negative number has every
//! byte inverted.

use dbsync_core::Decimal;

use super::reader::{Reader, Truncated};

const DIGITS_PER_GROUP: usize = 9;
/// Bytes that hold a group of 0..=9 digits.
const GROUP_BYTES: [usize; 10] = [0, 1, 1, 2, 2, 3, 3, 4, 4, 4];
/// MySQL's widest DECIMAL has 65 digits; with sign and point, 67 characters.
const MAX_TEXT: usize = 68;

/// The layout of one `DECIMAL(precision, scale)` column, computed once per table map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DecimalFormat {
    /// Digits in the partial group before the full integer groups.
    leading_digits: usize,
    integer_groups: usize,
    fraction_groups: usize,
    /// Digits in the partial group after the full fraction groups.
    trailing_digits: usize,
}

/// Why a value is not a decimal of its column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DecimalError {
    Truncated,
    /// A group holds more digits than it may, so the bytes are not a decimal.
    Malformed,
}

impl From<Truncated> for DecimalError {
    fn from(_: Truncated) -> Self {
        DecimalError::Truncated
    }
}

impl DecimalFormat {
    /// `None` when the precision or scale is beyond MySQL's limits (65 and 30), which
    /// a table map from a real server never holds.
    pub(crate) fn new(precision: u8, scale: u8) -> Option<Self> {
        let (precision, scale) = (usize::from(precision), usize::from(scale));
        if precision == 0 || precision > 65 || scale > 30 || scale > precision {
            return None;
        }
        let integer = precision - scale;
        Some(DecimalFormat {
            leading_digits: integer % DIGITS_PER_GROUP,
            integer_groups: integer / DIGITS_PER_GROUP,
            fraction_groups: scale / DIGITS_PER_GROUP,
            trailing_digits: scale % DIGITS_PER_GROUP,
        })
    }

    /// The number of bytes a value occupies.
    pub(crate) fn len(&self) -> usize {
        GROUP_BYTES[self.leading_digits]
            + self.integer_groups * 4
            + self.fraction_groups * 4
            + GROUP_BYTES[self.trailing_digits]
    }

    pub(crate) fn decode(&self, input: &mut Reader<'_>) -> Result<Decimal, DecimalError> {
        let bytes = input.take(self.len())?;
        let Some(&first) = bytes.first() else {
            return Err(DecimalError::Malformed);
        };
        let negative = first & 0x80 == 0;
        let mask = if negative { 0xff } else { 0x00 };

        let mut text = [0u8; MAX_TEXT];
        let mut len = 0;
        if negative {
            text[0] = b'-';
            len = 1;
        }
        let mut groups = Groups {
            bytes,
            first: true,
            mask,
        };
        let mut push_group = |digits: usize, text: &mut [u8; MAX_TEXT], len: &mut usize| {
            let value = groups.next(GROUP_BYTES[digits])?;
            write_digits(value, &mut text[*len..*len + digits])?;
            *len += digits;
            Ok::<_, DecimalError>(())
        };
        push_group(self.leading_digits, &mut text, &mut len)?;
        for _ in 0..self.integer_groups {
            push_group(DIGITS_PER_GROUP, &mut text, &mut len)?;
        }
        if self.leading_digits + self.integer_groups == 0 {
            text[len] = b'0';
            len += 1;
        }
        if self.fraction_groups + self.trailing_digits > 0 {
            text[len] = b'.';
            len += 1;
            for _ in 0..self.fraction_groups {
                push_group(DIGITS_PER_GROUP, &mut text, &mut len)?;
            }
            push_group(self.trailing_digits, &mut text, &mut len)?;
        }
        // Only ASCII digits, sign and point were written, and the integer part is not
        // empty, so this parses; `Malformed` keeps that assumption from ever panicking.
        std::str::from_utf8(&text[..len])
            .ok()
            .and_then(|text| text.parse().ok())
            .ok_or(DecimalError::Malformed)
    }
}

/// The big-endian groups of one value, un-flipped and un-inverted as they are read.
struct Groups<'a> {
    bytes: &'a [u8],
    first: bool,
    mask: u8,
}

impl Groups<'_> {
    fn next(&mut self, len: usize) -> Result<u32, DecimalError> {
        let (group, rest) = self
            .bytes
            .split_at_checked(len)
            .ok_or(DecimalError::Truncated)?;
        self.bytes = rest;
        let mut value = 0u32;
        for &byte in group {
            let mut byte = byte ^ self.mask;
            if self.first {
                byte ^= 0x80;
                self.first = false;
            }
            value = value << 8 | u32::from(byte);
        }
        Ok(value)
    }
}

/// Writes `value` as exactly `out.len()` decimal digits, zero-padded on the left.
fn write_digits(mut value: u32, out: &mut [u8]) -> Result<(), DecimalError> {
    for slot in out.iter_mut().rev() {
        *slot = b'0' + (value % 10) as u8;
        value /= 10;
    }
    match value {
        0 => Ok(()),
        _ => Err(DecimalError::Malformed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binlog::test_support::encode_decimal;

    fn decode(bytes: &[u8], precision: u8, scale: u8) -> Result<String, DecimalError> {
        let format = DecimalFormat::new(precision, scale).unwrap();
        let mut reader = Reader::new(bytes);
        let value = format.decode(&mut reader)?;
        assert!(reader.is_empty(), "the value takes exactly its length");
        Ok(value.to_string())
    }

    #[test]
    fn decodes_the_reference_example() {
        // The example of MySQL's decimal2bin comment: 1234567890.1234 as DECIMAL(14,4)
        // is 81 0D FB 38 D2 04 D2.
        let bytes = [0x81, 0x0d, 0xfb, 0x38, 0xd2, 0x04, 0xd2];
        assert_eq!(decode(&bytes, 14, 4).unwrap(), "1234567890.1234");
        let negative: Vec<u8> = bytes.iter().map(|b| !b).collect();
        assert_eq!(decode(&negative, 14, 4).unwrap(), "-1234567890.1234");
    }

    #[test]
    fn round_trips_extremes_and_keeps_the_scale() {
        let max = format!("{}.{}", "9".repeat(35), "9".repeat(30));
        let cases: [(&str, u8, u8, &str); 9] = [
            (&max, 65, 30, &max),
            (&format!("-{max}"), 65, 30, &format!("-{max}")),
            ("-12.5", 5, 2, "-12.50"),
            ("0", 5, 2, "0.00"),
            ("-0.01", 5, 2, "-0.01"),
            ("7", 1, 0, "7"),
            ("-999999999", 9, 0, "-999999999"),
            (
                "0.000000000000000000000000000001",
                30,
                30,
                "0.000000000000000000000000000001",
            ),
            ("123456789012.5", 20, 1, "123456789012.5"),
        ];
        for (text, precision, scale, expected) in cases {
            let bytes = encode_decimal(text, usize::from(precision), usize::from(scale));
            assert_eq!(
                bytes.len(),
                DecimalFormat::new(precision, scale).unwrap().len()
            );
            assert_eq!(
                decode(&bytes, precision, scale).unwrap(),
                expected,
                "{text} as decimal({precision},{scale})"
            );
        }
    }

    #[test]
    fn rejects_malformed_and_short_values() {
        // A 4-byte group above 999999999 is not a decimal.
        let bytes = [0xff, 0xff, 0xff, 0xff];
        assert_eq!(decode(&bytes, 9, 0), Err(DecimalError::Malformed));
        assert_eq!(decode(&[0x80], 9, 0), Err(DecimalError::Truncated));
        assert_eq!(DecimalFormat::new(66, 0), None);
        assert_eq!(DecimalFormat::new(10, 11), None);
    }
}
