//! MySQL's binary date and time formats, as rows events carry them.
//!
//! Two generations exist. The current one (MySQL 5.6.4, MariaDB 10.1.2 and later:
//! `TIME2`, `DATETIME2`, `TIMESTAMP2`) packs fields into big-endian bit fields plus
//! 0 to 3 bytes of fractional seconds; the older one (`TIME`, `DATETIME`,
//! `TIMESTAMP`) stores decimal digits or epoch seconds, little-endian, without
//! fractions. `DATE` and `YEAR` have a single format.

use chrono::{DateTime, NaiveDate, NaiveTime};
use dbsync_core::{Time, Value};

use super::reader::Reader;
use super::row_decoder::ValueError;

/// `DATE`: 3 bytes, little-endian, `year << 9 | month << 5 | day`.
pub(super) fn date(input: &mut Reader<'_>) -> Result<Value, ValueError> {
    let packed = input.uint_le(3)?;
    let (year, month, day) = (packed >> 9, packed >> 5 & 0xf, packed & 0x1f);
    calendar_date(year, month, day).map(|date| date.map_or(Value::ZeroDate, Value::Date))
}

/// `YEAR`: one byte, the years since 1900, with 0 for the year 0000.
pub(super) fn year(input: &mut Reader<'_>) -> Result<Value, ValueError> {
    Ok(match input.u8()? {
        0 => Value::Year(0),
        byte => Value::Year(1900 + u16::from(byte)),
    })
}

/// `TIME2`: a signed bit field (hours, minutes, seconds) offset by 2^23, then the
/// fraction, as a whole offset by 2^47 for six digits.
pub(super) fn time2(input: &mut Reader<'_>, fsp: u8) -> Result<Value, ValueError> {
    const INT_OFFSET: i64 = 0x80_0000;
    const PACKED_OFFSET: i64 = 0x8000_0000_0000;
    let packed = match fsp {
        0 => (input.uint_be(3)? as i64 - INT_OFFSET) << 24,
        1..=4 => {
            let int_part = input.uint_be(3)? as i64 - INT_OFFSET;
            let (frac_len, unit) = if fsp <= 2 { (1, 10_000) } else { (2, 100) };
            let frac = input.uint_be(frac_len)? as i64;
            // A negative time stores its fraction counted down from the next whole
            // second, so that the bytes sort like the values.
            let (int_part, frac) = if int_part < 0 && frac != 0 {
                (int_part + 1, frac - (1 << (8 * frac_len)))
            } else {
                (int_part, frac)
            };
            (int_part << 24) + frac * unit
        }
        5 | 6 => input.uint_be(6)? as i64 - PACKED_OFFSET,
        _ => return Err(bad_precision(fsp)),
    };
    let magnitude = packed.unsigned_abs();
    let hms = magnitude >> 24;
    let (hours, minutes, seconds) = (hms >> 12 & 0x3ff, hms >> 6 & 0x3f, hms & 0x3f);
    let micros = magnitude & 0xff_ffff;
    Time::from_parts(
        packed < 0,
        hours as u32,
        minutes as u32,
        seconds as u32,
        micros as u32,
    )
    .map(Value::Time)
    .map_err(|e| ValueError::Malformed(e.to_string()))
}

/// `DATETIME2`: 40 bits offset by 2^39 (`(year * 13 + month) << 22 | day << 17 |
/// hour << 12 | minute << 6 | second`), then the fraction.
pub(super) fn datetime2(input: &mut Reader<'_>, fsp: u8) -> Result<Value, ValueError> {
    const INT_OFFSET: u64 = 0x80_0000_0000;
    let packed = input
        .uint_be(5)?
        .checked_sub(INT_OFFSET)
        .ok_or_else(|| ValueError::Malformed("a negative DATETIME".into()))?;
    let micros = fraction(input, fsp)?;
    let (ymd, hms) = (packed >> 17, packed & 0x1_ffff);
    let (year_month, day) = (ymd >> 5, ymd & 0x1f);
    date_time(
        (year_month / 13, year_month % 13, day),
        (hms >> 12, hms >> 6 & 0x3f, hms & 0x3f),
        micros,
    )
}

/// `TIMESTAMP2`: big-endian seconds since the epoch in UTC, then the fraction.
pub(super) fn timestamp2(input: &mut Reader<'_>, fsp: u8) -> Result<Value, ValueError> {
    let seconds = input.uint_be(4)?;
    let micros = fraction(input, fsp)?;
    timestamp(seconds, micros)
}

/// The old `TIME`: 3 bytes, little-endian, signed, `±HHMMSS` in decimal digits.
pub(super) fn time_v1(input: &mut Reader<'_>) -> Result<Value, ValueError> {
    let raw = input.uint_le(3)? as i64;
    let value = if raw & 0x80_0000 != 0 {
        raw - 0x100_0000
    } else {
        raw
    };
    let digits = value.unsigned_abs();
    Time::from_parts(
        value < 0,
        (digits / 10_000) as u32,
        (digits / 100 % 100) as u32,
        (digits % 100) as u32,
        0,
    )
    .map(Value::Time)
    .map_err(|e| ValueError::Malformed(e.to_string()))
}

/// The old `DATETIME`: 8 bytes, little-endian, `YYYYMMDDhhmmss` in decimal digits.
pub(super) fn datetime_v1(input: &mut Reader<'_>) -> Result<Value, ValueError> {
    let digits = input.u64_le()?;
    let (date, time) = (digits / 1_000_000, digits % 1_000_000);
    date_time(
        (date / 10_000, date / 100 % 100, date % 100),
        (time / 10_000, time / 100 % 100, time % 100),
        0,
    )
}

/// The old `TIMESTAMP`: 4 bytes, little-endian seconds since the epoch in UTC.
pub(super) fn timestamp_v1(input: &mut Reader<'_>) -> Result<Value, ValueError> {
    let seconds = input.u32_le()?;
    timestamp(u64::from(seconds), 0)
}

/// The fractional seconds of `DATETIME2` and `TIMESTAMP2`, in microseconds: the
/// digits two by two, big-endian, in as many bytes as the precision needs.
fn fraction(input: &mut Reader<'_>, fsp: u8) -> Result<u32, ValueError> {
    let micros = match fsp {
        0 => 0,
        1 | 2 => input.uint_be(1)? * 10_000,
        3 | 4 => input.uint_be(2)? * 100,
        5 | 6 => input.uint_be(3)?,
        _ => return Err(bad_precision(fsp)),
    };
    if micros >= 1_000_000 {
        return Err(ValueError::Malformed(format!(
            "{micros} microseconds in a fraction of a second"
        )));
    }
    Ok(micros as u32)
}

fn bad_precision(fsp: u8) -> ValueError {
    ValueError::Malformed(format!(
        "a fractional-second precision of {fsp} (at most 6)"
    ))
}

fn timestamp(seconds: u64, micros: u32) -> Result<Value, ValueError> {
    // MySQL's TIMESTAMP starts one second after the epoch: zero is the zero date.
    if seconds == 0 && micros == 0 {
        return Ok(Value::ZeroDate);
    }
    DateTime::from_timestamp(seconds as i64, micros * 1000)
        .map(Value::Timestamp)
        .ok_or_else(|| ValueError::Malformed(format!("the epoch second {seconds}")))
}

fn date_time(
    (year, month, day): (u64, u64, u64),
    (hour, minute, second): (u64, u64, u64),
    micros: u32,
) -> Result<Value, ValueError> {
    let time = NaiveTime::from_hms_micro_opt(hour as u32, minute as u32, second as u32, micros)
        .ok_or_else(|| {
            ValueError::Malformed(format!(
                "the time of day {hour:02}:{minute:02}:{second:02}.{micros:06}"
            ))
        })?;
    match calendar_date(year, month, day)? {
        Some(date) => Ok(Value::DateTime(date.and_time(time))),
        None if time == NaiveTime::MIN => Ok(Value::ZeroDate),
        None => Err(ValueError::Unrepresentable(format!(
            "the zero date with a time, 0000-00-00 {time}"
        ))),
    }
}

/// The date, or `None` for the zero date `0000-00-00`. Partly zero dates
/// (`2024-00-15`) and dates that no calendar has (`2024-02-30`, which
/// `ALLOW_INVALID_DATES` lets MySQL store) have no [`Value`].
fn calendar_date(year: u64, month: u64, day: u64) -> Result<Option<NaiveDate>, ValueError> {
    if (year, month, day) == (0, 0, 0) {
        return Ok(None);
    }
    let text = || format!("{year:04}-{month:02}-{day:02}");
    if month == 0 || day == 0 {
        return Err(ValueError::Unrepresentable(format!(
            "the partly zero date {}",
            text()
        )));
    }
    NaiveDate::from_ymd_opt(year as i32, month as u32, day as u32)
        .map(Some)
        .ok_or_else(|| ValueError::Unrepresentable(format!("the invalid date {}", text())))
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDateTime;

    use super::*;
    use crate::binlog::test_support::{encode_datetime2, encode_time2};

    fn read(bytes: &[u8], decode: impl Fn(&mut Reader<'_>) -> Result<Value, ValueError>) -> Value {
        let mut reader = Reader::new(bytes);
        let value = decode(&mut reader).unwrap();
        assert!(reader.is_empty(), "{bytes:02x?} has bytes left");
        value
    }

    fn time(text: &str) -> Value {
        let negative = text.starts_with('-');
        let (clock, micros) = text
            .trim_start_matches('-')
            .split_once('.')
            .unwrap_or((text.trim_start_matches('-'), "0"));
        let parts: Vec<u32> = clock.split(':').map(|p| p.parse().unwrap()).collect();
        let micros = format!("{micros:0<6}").parse().unwrap();
        Value::Time(Time::from_parts(negative, parts[0], parts[1], parts[2], micros).unwrap())
    }

    #[test]
    fn time2_at_every_precision_and_sign() {
        let cases = [
            (false, (838, 59, 59), 0, 0, "838:59:59"),
            (true, (838, 59, 59), 0, 0, "-838:59:59"),
            (true, (838, 59, 59), 0, 6, "-838:59:59"),
            (false, (838, 59, 59), 999_999, 6, "838:59:59.999999"),
            (true, (0, 0, 0), 500_000, 1, "-00:00:00.5"),
            (true, (0, 0, 1), 500_000, 2, "-00:00:01.5"),
            (true, (12, 34, 56), 789_000, 3, "-12:34:56.789"),
            (false, (12, 34, 56), 789_100, 4, "12:34:56.7891"),
            (true, (1, 2, 3), 1, 6, "-01:02:03.000001"),
            (true, (0, 0, 0), 1, 5, "-00:00:00.000001"),
            (false, (0, 0, 0), 0, 0, "00:00:00"),
        ];
        for (negative, hms, micros, fsp, expected) in cases {
            let bytes = encode_time2(negative, hms, micros, fsp);
            assert_eq!(
                read(&bytes, |r| time2(r, fsp)),
                time(expected),
                "{expected} fsp {fsp}"
            );
        }
    }

    #[test]
    fn datetime2_at_every_precision() {
        let at = |text: &str| {
            Value::DateTime(NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f").unwrap())
        };
        let cases = [
            (
                (2024, 2, 29),
                (23, 59, 59),
                999_999,
                6,
                "2024-02-29 23:59:59.999999",
            ),
            ((1000, 1, 1), (0, 0, 0), 0, 0, "1000-01-01 00:00:00"),
            ((9999, 12, 31), (23, 59, 59), 0, 0, "9999-12-31 23:59:59"),
            (
                (2001, 9, 9),
                (1, 46, 40),
                120_000,
                2,
                "2001-09-09 01:46:40.12",
            ),
            (
                (2001, 9, 9),
                (1, 46, 40),
                123_400,
                4,
                "2001-09-09 01:46:40.1234",
            ),
        ];
        for (ymd, hms, micros, fsp, expected) in cases {
            let bytes = encode_datetime2(ymd, hms, micros, fsp);
            assert_eq!(
                read(&bytes, |r| datetime2(r, fsp)),
                at(expected),
                "{expected}"
            );
        }
        let zero = encode_datetime2((0, 0, 0), (0, 0, 0), 0, 6);
        assert_eq!(read(&zero, |r| datetime2(r, 6)), Value::ZeroDate);
    }

    #[test]
    fn partly_zero_and_invalid_dates_have_no_value() {
        let partly = encode_datetime2((2024, 0, 15), (0, 0, 0), 0, 0);
        let error = datetime2(&mut Reader::new(&partly), 0).unwrap_err();
        assert_eq!(
            error,
            ValueError::Unrepresentable("the partly zero date 2024-00-15".into())
        );
        let invalid = encode_datetime2((2024, 2, 30), (0, 0, 0), 0, 0);
        assert!(matches!(
            datetime2(&mut Reader::new(&invalid), 0),
            Err(ValueError::Unrepresentable(_))
        ));
        let zero_with_time = encode_datetime2((0, 0, 0), (1, 0, 0), 0, 0);
        assert!(matches!(
            datetime2(&mut Reader::new(&zero_with_time), 0),
            Err(ValueError::Unrepresentable(_))
        ));
        // DATE: 2024-00-15 is 2024 << 9 | 0 << 5 | 15.
        let packed: u32 = 2024 << 9 | 15;
        let error = date(&mut Reader::new(&packed.to_le_bytes()[..3])).unwrap_err();
        assert_eq!(
            error,
            ValueError::Unrepresentable("the partly zero date 2024-00-15".into())
        );
    }

    #[test]
    fn dates_years_and_timestamps() {
        let packed: u32 = 2024 << 9 | 2 << 5 | 29;
        assert_eq!(
            read(&packed.to_le_bytes()[..3], date),
            Value::Date(NaiveDate::from_ymd_opt(2024, 2, 29).unwrap())
        );
        assert_eq!(read(&[0, 0, 0], date), Value::ZeroDate);
        assert_eq!(read(&[0], year), Value::Year(0));
        assert_eq!(read(&[255], year), Value::Year(2155));
        let mut ts = 2_147_483_647u32.to_be_bytes().to_vec();
        ts.extend_from_slice(&999_999u32.to_be_bytes()[1..]);
        assert_eq!(
            read(&ts, |r| timestamp2(r, 6)),
            Value::Timestamp(DateTime::from_timestamp(2_147_483_647, 999_999_000).unwrap())
        );
        assert_eq!(read(&[0, 0, 0, 0], |r| timestamp2(r, 0)), Value::ZeroDate);
    }

    #[test]
    fn the_old_formats() {
        let minus: i32 = -8_385_959;
        assert_eq!(read(&minus.to_le_bytes()[..3], time_v1), time("-838:59:59"));
        assert_eq!(
            read(&20_240_229_235_959u64.to_le_bytes(), datetime_v1),
            Value::DateTime(
                NaiveDate::from_ymd_opt(2024, 2, 29)
                    .unwrap()
                    .and_hms_opt(23, 59, 59)
                    .unwrap()
            )
        );
        assert_eq!(read(&0u64.to_le_bytes(), datetime_v1), Value::ZeroDate);
        assert_eq!(
            read(&1u32.to_le_bytes(), timestamp_v1),
            Value::Timestamp(DateTime::from_timestamp(1, 0).unwrap())
        );
    }
}
