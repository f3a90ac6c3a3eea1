use std::cmp::Ordering;
use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

use crate::error::{Error, ErrorKind, Result};
use crate::position::PollCursor;

/// The highest cursor tuples a poll has seen, and when: what is settled.
///
/// A tuple seen at `t` existed at `t`, so its timestamp was at most the clock at `t`.
/// A write after `t + settle` takes a timestamp of at least the clock then, less the
/// column's precision and less the time its transaction ran before it took the
/// timestamp; while `settle` exceeds both, such a write sorts after the tuple. So once
/// `settle` has passed, no row can still come to sort at or before the tuple: it is
/// *settled*, and a poll may consume every row up to it and move past it for good.
#[derive(Debug)]
pub(crate) struct Watermark {
    settle: Duration,
    /// Strictly increasing in both time and tuple: a tuple at or below one seen earlier
    /// settles later than that one, and adds nothing.
    seen: VecDeque<(Instant, PollCursor)>,
}

impl Watermark {
    pub(crate) fn new(settle: Duration) -> Self {
        Watermark {
            settle,
            seen: VecDeque::new(),
        }
    }

    /// Records that `tuple` existed at `at`.
    pub(crate) fn observe(&mut self, at: Instant, tuple: PollCursor) -> Result<()> {
        if let Some((_, last)) = self.seen.back()
            && compare(&tuple, last)? != Ordering::Greater
        {
            return Ok(());
        }
        self.seen.push_back((at, tuple));
        Ok(())
    }

    /// The highest tuple seen at least `settle` before `now`, if any.
    pub(crate) fn settled(&mut self, now: Instant) -> Option<&PollCursor> {
        let is_settled = |at: &Instant| now.saturating_duration_since(*at) >= self.settle;
        while self.seen.get(1).is_some_and(|(at, _)| is_settled(at)) {
            self.seen.pop_front();
        }
        self.seen
            .front()
            .filter(|(at, _)| is_settled(at))
            .map(|(_, tuple)| tuple)
    }

    /// When the lowest tuple not yet settled at `now` settles, if one was seen.
    pub(crate) fn next_settling(&self, now: Instant) -> Option<Instant> {
        self.seen
            .iter()
            .map(|(at, _)| *at + self.settle)
            .find(|settles| *settles > now)
    }
}

/// The order of two cursor tuples; an error where they do not compare (the values of
/// a checkpoint taken with other cursor columns).
pub(crate) fn compare(a: &PollCursor, b: &PollCursor) -> Result<Ordering> {
    a.partial_cmp(b).ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidData,
            format!("the poll cursors {a} and {b} do not compare; were the table's cursor columns changed?"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;

    fn tuple(values: &[i64]) -> PollCursor {
        PollCursor {
            after: values.iter().map(|&v| Value::Int(v)).collect(),
        }
    }

    #[test]
    fn a_tuple_settles_after_the_settle_time_and_not_before() {
        let start = Instant::now();
        let second = Duration::from_secs(1);
        let mut watermark = Watermark::new(second);
        watermark.observe(start, tuple(&[5, 1])).unwrap();
        assert_eq!(watermark.settled(start), None);
        assert_eq!(watermark.next_settling(start), Some(start + second));
        assert_eq!(watermark.settled(start + second), Some(&tuple(&[5, 1])));
    }

    #[test]
    fn the_watermark_is_the_highest_settled_tuple() {
        let start = Instant::now();
        let ms = Duration::from_millis;
        let mut watermark = Watermark::new(ms(1000));
        watermark.observe(start, tuple(&[5, 1])).unwrap();
        watermark.observe(start + ms(400), tuple(&[6, 1])).unwrap();
        // Lower than what was seen before: it settles later than [6, 1] and adds nothing.
        watermark.observe(start + ms(500), tuple(&[5, 9])).unwrap();
        watermark.observe(start + ms(800), tuple(&[7, 1])).unwrap();
        assert_eq!(watermark.settled(start + ms(1000)), Some(&tuple(&[5, 1])));
        assert_eq!(watermark.settled(start + ms(1500)), Some(&tuple(&[6, 1])));
        assert_eq!(
            watermark.next_settling(start + ms(1500)),
            Some(start + ms(1800))
        );
        assert_eq!(watermark.settled(start + ms(1800)), Some(&tuple(&[7, 1])));
        assert_eq!(watermark.next_settling(start + ms(1800)), None);
    }

    #[test]
    fn tuples_of_other_columns_do_not_compare() {
        let mut watermark = Watermark::new(Duration::ZERO);
        let now = Instant::now();
        watermark.observe(now, tuple(&[5])).unwrap();
        let text = PollCursor {
            after: vec![Value::Text("a".into())],
        };
        assert_eq!(
            watermark.observe(now, text).unwrap_err().kind(),
            ErrorKind::InvalidData
        );
    }
}
