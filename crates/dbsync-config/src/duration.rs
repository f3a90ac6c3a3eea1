//! Durations as the file writes them: `500ms`, `30s`, `5m`, `1h`, `30d`, or `1h30m`.
//!
//! A bare whole number is seconds, as in seed 004's `sync_interval: 300`. Used through
//! `#[serde(with = "crate::duration")]`, so that the model holds `std::time::Duration`.

use std::fmt;
use std::time::Duration;

use serde::de::{self, Visitor};
use serde::{Deserializer, Serializer};

const UNITS: [(&str, u64); 5] = [
    ("d", 86_400_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1_000),
    ("ms", 1),
];

/// Reads `text` as a duration; `None` when it is not one.
pub(crate) fn parse(text: &str) -> Option<Duration> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let mut millis: u64 = 0;
    let mut rest = text;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let number: u64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let (_, unit_millis) = UNITS.iter().find(|(unit, _)| *unit == &rest[..unit_len])?;
        millis = millis.checked_add(number.checked_mul(*unit_millis)?)?;
        rest = &rest[unit_len..];
    }
    Some(Duration::from_millis(millis))
}

/// Writes `duration` in its largest exact unit (`90s`, `5m`, `30d`); parses back equal
/// for every duration [`parse`] returns.
pub(crate) fn format(duration: Duration) -> String {
    let millis = duration.as_millis();
    if millis == 0 {
        return "0s".to_owned();
    }
    for (unit, unit_millis) in UNITS {
        if millis.is_multiple_of(u128::from(unit_millis)) {
            return format!("{}{unit}", millis / u128::from(unit_millis));
        }
    }
    format!("{millis}ms")
}

const EXPECTED: &str = "a duration such as `500ms`, `30s`, `5m`, `1h` or `30d`";

pub(crate) fn serialize<S: Serializer>(
    duration: &Duration,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&format(*duration))
}

pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Duration, D::Error> {
    deserializer.deserialize_any(DurationVisitor)
}

struct DurationVisitor;

impl Visitor<'_> for DurationVisitor {
    type Value = Duration;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(EXPECTED)
    }

    fn visit_u64<E: de::Error>(self, seconds: u64) -> Result<Duration, E> {
        Ok(Duration::from_secs(seconds))
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Duration, E> {
        parse(text).ok_or_else(|| E::invalid_value(de::Unexpected::Str(text), &self))
    }
}

/// The same, for an optional duration such as `job_timeout`.
pub(crate) mod option {
    use std::time::Duration;

    use serde::{Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(
        duration: &Option<Duration>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match duration {
            Some(duration) => super::serialize(duration, serializer),
            None => serializer.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Duration>, D::Error> {
        struct Wrapper(Duration);
        impl<'de> serde::Deserialize<'de> for Wrapper {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                super::deserialize(deserializer).map(Wrapper)
            }
        }
        let wrapped: Option<Wrapper> = serde::Deserialize::deserialize(deserializer)?;
        Ok(wrapped.map(|Wrapper(duration)| duration))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_units_of_the_seeds() {
        assert_eq!(parse("30s"), Some(Duration::from_secs(30)));
        assert_eq!(parse("1h"), Some(Duration::from_secs(3600)));
        assert_eq!(parse("30d"), Some(Duration::from_secs(30 * 86_400)));
        assert_eq!(parse("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse("300"), Some(Duration::from_secs(300)));
        for bad in ["", "s", "5x", "5 s", "-5s", "1.5h", "99999999999999999999d"] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn writes_the_largest_exact_unit() {
        for (millis, text) in [
            (0, "0s"),
            (500, "500ms"),
            (90_000, "90s"),
            (300_000, "5m"),
            (5_400_000, "90m"),
            (2_592_000_000, "30d"),
        ] {
            let duration = Duration::from_millis(millis);
            assert_eq!(format(duration), text);
            assert_eq!(parse(text), Some(duration));
        }
    }
}
