//! Times as the store keeps them: microseconds since the Unix epoch, UTC.

use chrono::{DateTime, Utc};

pub(crate) fn now_micros() -> i64 {
    Utc::now().timestamp_micros()
}

/// A stored time; out-of-range values (a hand-edited file) read as the epoch rather than
/// failing a whole listing.
pub(crate) fn from_micros(micros: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(micros).unwrap_or_default()
}
