//! Cron schedules for pairs: five fields (`minute hour day-of-month month day-of-week`),
//! or one of `@yearly`, `@annually`, `@monthly`, `@weekly`, `@daily`, `@midnight`, `@hourly`.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A checked cron expression, kept as written for the scheduler to evaluate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Schedule(String);

/// Why a text is not a cron schedule: a predicate to follow the key path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleError {
    text: String,
    problem: String,
}

impl fmt::Display for ScheduleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "is `{}`, which is not a cron schedule: {}; write five fields (minute hour day-of-month month day-of-week) such as `*/10 * * * *`",
            self.text, self.problem
        )
    }
}

impl std::error::Error for ScheduleError {}

const MACROS: [&str; 7] = [
    "@yearly",
    "@annually",
    "@monthly",
    "@weekly",
    "@daily",
    "@midnight",
    "@hourly",
];

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

struct Field {
    name: &'static str,
    min: u32,
    max: u32,
    /// Names that stand for `min`, `min + 1` ...
    names: &'static [&'static str],
}

const FIELDS: [Field; 5] = [
    Field {
        name: "minute",
        min: 0,
        max: 59,
        names: &[],
    },
    Field {
        name: "hour",
        min: 0,
        max: 23,
        names: &[],
    },
    Field {
        name: "day-of-month",
        min: 1,
        max: 31,
        names: &[],
    },
    Field {
        name: "month",
        min: 1,
        max: 12,
        names: &MONTHS,
    },
    // 7 is Sunday too, as in most crons.
    Field {
        name: "day-of-week",
        min: 0,
        max: 7,
        names: &DAYS,
    },
];

impl Schedule {
    pub fn parse(text: &str) -> Result<Schedule, ScheduleError> {
        let error = |problem: String| ScheduleError {
            text: text.to_owned(),
            problem,
        };
        let trimmed = text.trim();
        if trimmed.starts_with('@') {
            return if MACROS.contains(&trimmed) {
                Ok(Schedule(trimmed.to_owned()))
            } else {
                Err(error(format!(
                    "`{trimmed}` is not one of {}",
                    MACROS.join(", ")
                )))
            };
        }
        let parts: Vec<&str> = trimmed.split_whitespace().collect();
        if parts.len() != FIELDS.len() {
            return Err(error(format!("it has {} fields", parts.len())));
        }
        for (part, field) in parts.iter().zip(&FIELDS) {
            field
                .check(part)
                .map_err(|problem| error(format!("the {} field `{part}` {problem}", field.name)))?;
        }
        Ok(Schedule(parts.join(" ")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Field {
    fn check(&self, text: &str) -> Result<(), String> {
        for item in text.split(',') {
            let (range, step) = match item.split_once('/') {
                Some((range, step)) => (range, Some(step)),
                None => (item, None),
            };
            if let Some(step) = step {
                let span = self.max - self.min;
                match step.parse::<u32>() {
                    Ok(step) if (1..=span.max(1)).contains(&step) => {}
                    _ => {
                        return Err(format!(
                            "has the step `{step}`, which is not from 1 to {span}"
                        ));
                    }
                }
            }
            if range == "*" {
                continue;
            }
            let (start, end) = match range.split_once('-') {
                Some((start, end)) => (self.value(start)?, Some(self.value(end)?)),
                None => (self.value(range)?, None),
            };
            if let Some(end) = end
                && end < start
            {
                return Err(format!("has the range `{range}`, which runs backwards"));
            }
        }
        Ok(())
    }

    fn value(&self, text: &str) -> Result<u32, String> {
        let lower = text.to_ascii_lowercase();
        if let Some((_, value)) = self
            .names
            .iter()
            .zip(self.min..)
            .find(|(name, _)| **name == lower)
        {
            return Ok(value);
        }
        match text.parse::<u32>() {
            Ok(value) if (self.min..=self.max).contains(&value) => Ok(value),
            _ => Err(format!(
                "has `{text}`, which is not a number from {} to {}{}",
                self.min,
                self.max,
                if self.names.is_empty() {
                    ""
                } else {
                    " or a name like `mon` or `jan`"
                }
            )),
        }
    }
}

impl TryFrom<String> for Schedule {
    type Error = ScheduleError;

    fn try_from(text: String) -> Result<Self, ScheduleError> {
        Schedule::parse(&text)
    }
}

impl From<Schedule> for String {
    fn from(schedule: Schedule) -> String {
        schedule.0
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_standard_cron() {
        for text in [
            "*/10 * * * *",
            "0 3 * * mon-fri",
            "15,45 8-18/2 1 jan,jul 0",
            "0 0 * * 7",
            "@hourly",
        ] {
            assert_eq!(Schedule::parse(text).unwrap().as_str(), text);
        }
    }

    #[test]
    fn explains_what_is_wrong() {
        let problem = |text: &str| Schedule::parse(text).unwrap_err().problem;
        assert_eq!(problem("* * * *"), "it has 4 fields");
        assert_eq!(
            problem("*/61 * * * *"),
            "the minute field `*/61` has the step `61`, which is not from 1 to 59"
        );
        assert_eq!(
            problem("0 24 * * *"),
            "the hour field `24` has `24`, which is not a number from 0 to 23"
        );
        assert_eq!(
            problem("0 0 * * fri-mon"),
            "the day-of-week field `fri-mon` has the range `fri-mon`, which runs backwards"
        );
        assert_eq!(
            problem("@often"),
            "`@often` is not one of @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly"
        );
        assert_eq!(
            Schedule::parse("* * *").unwrap_err().to_string(),
            "is `* * *`, which is not a cron schedule: it has 3 fields; write five fields (minute hour day-of-month month day-of-week) such as `*/10 * * * *`"
        );
    }
}
