use std::fmt;

/// A signed span of time with microsecond precision.
///
/// MySQL's `TIME` is a duration, not only a time of day: it ranges from
/// `-838:59:59.999999` to `838:59:59.999999`. A time of day (PostgreSQL `time`) is the
/// special case between zero and 24 hours.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct Time {
    micros: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "minutes and seconds must be below 60 and microseconds below 1000000, not {minutes}:{seconds}.{micros}"
)]
pub struct TimeOutOfRange {
    minutes: u32,
    seconds: u32,
    micros: u32,
}

const MICROS_PER_SECOND: i64 = 1_000_000;

impl Time {
    pub const fn from_micros(micros: i64) -> Self {
        Time { micros }
    }

    /// Builds a time from its sign and clock parts; minutes and seconds must be below 60
    /// and microseconds below one million.
    pub fn from_parts(
        negative: bool,
        hours: u32,
        minutes: u32,
        seconds: u32,
        micros: u32,
    ) -> Result<Self, TimeOutOfRange> {
        if minutes >= 60 || seconds >= 60 || micros >= 1_000_000 {
            return Err(TimeOutOfRange {
                minutes,
                seconds,
                micros,
            });
        }
        let magnitude = ((i64::from(hours) * 60 + i64::from(minutes)) * 60 + i64::from(seconds))
            * MICROS_PER_SECOND
            + i64::from(micros);
        Ok(Time::from_micros(if negative {
            -magnitude
        } else {
            magnitude
        }))
    }

    pub const fn micros(self) -> i64 {
        self.micros
    }

    pub const fn is_negative(self) -> bool {
        self.micros < 0
    }

    /// Hours (unbounded), minutes, seconds and microseconds of the magnitude.
    pub fn parts(self) -> (u64, u32, u32, u32) {
        let magnitude = self.micros.unsigned_abs();
        let micros = (magnitude % 1_000_000) as u32;
        let total_seconds = magnitude / 1_000_000;
        let seconds = (total_seconds % 60) as u32;
        let minutes = (total_seconds / 60 % 60) as u32;
        (total_seconds / 3600, minutes, seconds, micros)
    }
}

impl fmt::Display for Time {
    /// `[-]HH:MM:SS[.ffffff]`, with as many hour digits as needed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (hours, minutes, seconds, micros) = self.parts();
        let sign = if self.is_negative() { "-" } else { "" };
        write!(f, "{sign}{hours:02}:{minutes:02}:{seconds:02}")?;
        if micros != 0 {
            write!(f, ".{micros:06}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_mysql_time_extremes() {
        let max = Time::from_parts(false, 838, 59, 59, 999_999).unwrap();
        assert_eq!(max.to_string(), "838:59:59.999999");
        let min = Time::from_parts(true, 838, 59, 59, 999_999).unwrap();
        assert_eq!(min.to_string(), "-838:59:59.999999");
        assert_eq!(min.micros(), -max.micros());
    }

    #[test]
    fn small_negative_times_keep_their_sign() {
        let t = Time::from_parts(true, 0, 0, 0, 1).unwrap();
        assert!(t.is_negative());
        assert_eq!(t.to_string(), "-00:00:00.000001");
    }

    #[test]
    fn rejects_clock_parts_out_of_range() {
        assert!(Time::from_parts(false, 1, 60, 0, 0).is_err());
        assert!(Time::from_parts(false, 1, 0, 60, 0).is_err());
        assert!(Time::from_parts(false, 1, 0, 0, 1_000_000).is_err());
    }
}
