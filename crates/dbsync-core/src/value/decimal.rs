use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An exact decimal number of any size, such as MySQL's `DECIMAL(65,30)`.
///
/// Kept as canonical text rather than a fixed-width binary type because no fixed width
/// holds 65 digits, and because the scale is part of the value a user sees (`4.90` is
/// not printed as `4.9`). Canonical means: an optional `-`, no superfluous leading
/// zeros, the fractional digits exactly as given, and never a negative zero.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Decimal(Box<str>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an exact decimal number (expected digits with an optional sign and point)")]
pub struct ParseDecimalError(String);

impl Decimal {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_negative(&self) -> bool {
        self.0.starts_with('-')
    }

    /// The digits before the point, without sign.
    pub fn integer_digits(&self) -> &str {
        let unsigned = self.0.trim_start_matches('-');
        unsigned.split_once('.').map_or(unsigned, |(int, _)| int)
    }

    /// The digits after the point; empty when there are none.
    pub fn fraction_digits(&self) -> &str {
        self.0.split_once('.').map_or("", |(_, frac)| frac)
    }

    /// The number of digits after the point.
    pub fn scale(&self) -> usize {
        self.fraction_digits().len()
    }
}

/// Integers are decimals with scale 0; their text is already canonical.
macro_rules! decimal_from_integer {
    ($($t:ty),*) => {$(
        impl From<$t> for Decimal {
            fn from(n: $t) -> Self {
                Decimal(n.to_string().into_boxed_str())
            }
        }
    )*};
}
decimal_from_integer!(i64, u64);

impl FromStr for Decimal {
    type Err = ParseDecimalError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = || ParseDecimalError(text.to_owned());
        let (negative, unsigned) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        let (int, frac) = unsigned.split_once('.').unwrap_or((unsigned, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if (int.is_empty() && frac.is_empty()) || !all_digits(int) || !all_digits(frac) {
            return Err(error());
        }
        if unsigned.ends_with('.') {
            return Err(error());
        }
        let int = int.trim_start_matches('0');
        let int = if int.is_empty() { "0" } else { int };
        let is_zero = int == "0" && frac.bytes().all(|b| b == b'0');

        let mut canonical = String::with_capacity(text.len() + 1);
        if negative && !is_zero {
            canonical.push('-');
        }
        canonical.push_str(int);
        if !frac.is_empty() {
            canonical.push('.');
            canonical.push_str(frac);
        }
        Ok(Decimal(canonical.into_boxed_str()))
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Decimal {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Decimal {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical(text: &str) -> String {
        text.parse::<Decimal>().unwrap().to_string()
    }

    #[test]
    fn keeps_every_digit_and_the_scale() {
        let max = format!("{}.{}", "9".repeat(35), "9".repeat(30));
        assert_eq!(canonical(&max), max);
        assert_eq!(canonical(&format!("-{max}")), format!("-{max}"));
        assert_eq!(canonical("4.90"), "4.90");
        assert_eq!(
            canonical("0.000000000000000000000000000001"),
            "0.000000000000000000000000000001"
        );
    }

    #[test]
    fn canonicalizes_sign_and_leading_zeros() {
        assert_eq!(canonical("+007.50"), "7.50");
        assert_eq!(canonical(".5"), "0.5");
        assert_eq!(canonical("-0.00"), "0.00");
        assert_eq!(canonical("-0"), "0");
        assert_eq!(canonical("000"), "0");
    }

    #[test]
    fn rejects_what_is_not_a_plain_decimal() {
        for bad in [
            "", "-", ".", "1.", "1e5", "NaN", "1.2.3", " 1", "1,5", "--1", "0x10",
        ] {
            assert!(bad.parse::<Decimal>().is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn exposes_its_parts() {
        let d: Decimal = "-123.4500".parse().unwrap();
        assert!(d.is_negative());
        assert_eq!(d.integer_digits(), "123");
        assert_eq!(d.fraction_digits(), "4500");
        assert_eq!(d.scale(), 4);
    }

    #[test]
    fn serializes_as_a_string() {
        let d: Decimal = "18446744073709551616.000001".parse().unwrap();
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(json, "\"18446744073709551616.000001\"");
        assert_eq!(serde_json::from_str::<Decimal>(&json).unwrap(), d);
    }
}
