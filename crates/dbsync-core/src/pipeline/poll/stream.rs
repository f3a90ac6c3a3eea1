use std::collections::VecDeque;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{Days, Utc};
use tokio::time::Instant;

use crate::change::{Change, ChangeOp, Row, StreamItem};
use crate::error::{Error, ErrorKind, Result};
use crate::pipeline::ChangeStream;
use crate::pipeline::poll::columns::{PollBy, PollColumns};
use crate::pipeline::poll::watermark::{Watermark, compare};
use crate::position::{PollCursor, Position};
use crate::table_schema::TableSchema;
use crate::value::Value;

/// What every settle time adds to the leading column's precision: room for the
/// transaction that writes a row to take its timestamp (or id) and commit.
pub const DEFAULT_SETTLE: Duration = Duration::from_secs(1);
/// The most rows one poll reads unless set.
pub const DEFAULT_ROWS_PER_POLL: usize = 10_000;

/// How one table is polled.
#[derive(Debug, Clone)]
pub struct PollTable {
    pub columns: PollColumns,
    /// The wait between polls once a poll has read all there was.
    pub interval: Duration,
    /// How long a cursor tuple must have been seen before the rows up to it are
    /// consumed (see [`PollStream`]): more than the leading column's precision plus
    /// the longest time a writing transaction runs between taking its timestamp or id
    /// and committing.
    pub settle: Duration,
    pub rows_per_poll: usize,
}

impl PollTable {
    /// `columns` polled every `interval`, settling for [`DEFAULT_SETTLE`] plus the
    /// leading column's precision.
    pub fn new(columns: PollColumns, interval: Duration) -> Self {
        PollTable {
            settle: DEFAULT_SETTLE + columns.precision(),
            columns,
            interval,
            rows_per_poll: DEFAULT_ROWS_PER_POLL,
        }
    }

    /// Where the stream of a table starts when its copy starts, given the highest
    /// cursor tuple it has now (`None` when it has no row).
    ///
    /// The copy reads every row committed before it reaches the row's key; a row
    /// committed later carries a timestamp no lower than the clock at its write less
    /// the settle time, so the stream starts at the highest timestamp less the settle
    /// time, inclusive (a cursor of the timestamp alone), and reads again the few rows
    /// after it that the copy also reads. By id the stream starts at the highest id.
    /// An empty table's stream starts before the first row.
    pub fn start_position(&self, head: Option<Vec<Value>>) -> Position {
        let lead = head.and_then(|head| head.into_iter().next());
        let after = match (self.columns.by(), lead) {
            (_, None) => None,
            (PollBy::Timestamp, Some(lead)) => earlier(lead, self.settle),
            (PollBy::Id, Some(lead)) => Some(lead),
        };
        Position::Poll(PollCursor {
            after: after.into_iter().collect(),
        })
    }
}

/// `value`, a date or time, less `by`: a date by whole days, rounded up.
fn earlier(value: Value, by: Duration) -> Option<Value> {
    let days = Days::new(by.as_secs().div_ceil(24 * 60 * 60));
    let by = chrono::Duration::from_std(by).ok()?;
    match value {
        Value::Timestamp(t) => t.checked_sub_signed(by).map(Value::Timestamp),
        Value::DateTime(t) => t.checked_sub_signed(by).map(Value::DateTime),
        Value::Date(d) => d.checked_sub_days(days).map(Value::Date),
        _ => None,
    }
}

/// One table's rows in cursor order, as an engine reads them.
pub trait PollReader: Send {
    /// At most `limit` rows whose cursor tuple sorts after `after`, in tuple order. A
    /// cursor shorter than the tuple stands for the lowest tuple that starts with it:
    /// `[T]` reads the rows with a timestamp of `T` or later, `[]` every row. Rows whose
    /// leading column is NULL are never read.
    fn read_after(
        &mut self,
        after: &[Value],
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Row>>> + Send;

    /// The highest cursor tuple of the table, `None` when no row has one.
    fn head(&mut self) -> impl Future<Output = Result<Option<Vec<Value>>>> + Send;
}

/// The changes of one polled table: every row whose cursor tuple passed the cursor,
/// as an insert (which targets apply as an upsert), then a commit at the new cursor.
///
/// Each poll reads the rows after the cursor, in tuple order, and consumes those up to
/// the *settled watermark* (see [`Watermark`]): the highest tuple seen at least the
/// settle time ago. Reading further would be wrong: a row committed just after the
/// poll may sort before the last row read (a transaction that took its timestamp
/// earlier, two updates in the same second of a coarse column, ids committed out of
/// order), and the cursor would already be past it. When the poll read every row up to
/// the watermark (it was not cut short by its limit, or it read a row beyond), the
/// cursor moves to the watermark itself, so a poll that finds no row still advances
/// and a `--once` run ends even when the last row it saw is deleted.
///
/// Limits: a row whose timestamp is NULL is never read, and a deleted row never
/// appears; the verify pass finds both. By id, updates are not seen. A transaction
/// that commits more than the settle time after it took its timestamp may be missed.
#[derive(Debug)]
pub struct PollStream<R> {
    reader: R,
    table: Arc<TableSchema>,
    settings: PollTable,
    /// Where each cursor column is in a row.
    tuple_at: Vec<usize>,
    /// Where the next poll reads from: ahead of `position` while read items wait.
    read_to: PollCursor,
    /// After the last commit yielded.
    position: PollCursor,
    watermark: Watermark,
    items: VecDeque<StreamItem>,
    next_poll: Instant,
}

impl<R: PollReader> PollStream<R> {
    /// The stream of `table` read by `reader`, from `from`, a poll cursor over
    /// `settings.columns`.
    pub fn new(
        reader: R,
        table: Arc<TableSchema>,
        settings: PollTable,
        from: Position,
    ) -> Result<Self> {
        let mismatch = |what: String| {
            Error::new(
                ErrorKind::Config,
                format!("{what}; were its poll columns changed since it was copied? re-copy it with --full"),
            )
            .with_table(table.name.clone())
        };
        let Position::Poll(cursor) = from else {
            return Err(mismatch(format!(
                "has a checkpoint at {from}, which is not a poll cursor"
            )));
        };
        let tuple = settings.columns.tuple();
        if cursor.after.len() > tuple.len() {
            return Err(mismatch(format!(
                "has a poll cursor of {} values for the {} columns ({})",
                cursor.after.len(),
                tuple.len(),
                tuple.join(", ")
            )));
        }
        let tuple_at = tuple
            .iter()
            .map(|name| table.columns.iter().position(|c| &c.name == name))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| mismatch(format!("lacks a cursor column of ({})", tuple.join(", "))))?;
        Ok(PollStream {
            reader,
            watermark: Watermark::new(settings.settle),
            table,
            settings,
            tuple_at,
            read_to: cursor.clone(),
            position: cursor,
            items: VecDeque::new(),
            next_poll: Instant::now(),
        })
    }

    /// When the next poll is due.
    pub fn due(&self) -> Instant {
        self.next_poll
    }

    /// The highest cursor tuple of the table now, which also counts as seen for the
    /// watermark; `None` when the table has no row.
    pub async fn head(&mut self) -> Result<Option<Position>> {
        let Some(head) = self.reader.head().await? else {
            return Ok(None);
        };
        let head = PollCursor { after: head };
        self.watermark.observe(Instant::now(), head.clone())?;
        Ok(Some(Position::Poll(head)))
    }

    /// Polls now: reads the rows after the cursor and queues those that are settled,
    /// with a commit at the new cursor when it moves. Returns the cursor after the
    /// queued items.
    pub async fn poll(&mut self) -> Result<Position> {
        let limit = self.settings.rows_per_poll.max(1);
        let rows = self.reader.read_after(&self.read_to.after, limit).await?;
        // The rows existed when the answer came, and their tuples settle from then.
        let now = Instant::now();
        let cut_short = rows.len() >= limit;
        if let Some(last) = rows.last() {
            self.watermark.observe(now, self.tuple_of(last))?;
        }
        if cut_short {
            // A backlog: what lies beyond the limit settles from now too, rather than
            // one limit's worth per settle time.
            self.head().await?;
        }
        let settled = self.watermark.settled(now).cloned();
        let mut consumed = Vec::new();
        let mut beyond = false;
        for row in rows {
            let tuple = self.tuple_of(&row);
            match &settled {
                Some(settled) if compare(&tuple, settled)?.is_le() => consumed.push(row),
                _ => {
                    beyond = true;
                    break;
                }
            }
        }
        let read_all_settled = beyond || !cut_short;
        let moved_to = match settled {
            Some(settled) if read_all_settled && compare(&settled, &self.read_to)?.is_gt() => {
                Some(settled)
            }
            _ => consumed.last().map(|row| self.tuple_of(row)),
        };
        self.next_poll = if read_all_settled {
            let waited = now + self.settings.interval;
            match self.watermark.next_settling(now) {
                Some(settles) => waited.min(settles),
                None => waited,
            }
        } else {
            now
        };
        if !consumed.is_empty() {
            let changes = consumed
                .into_iter()
                .map(|after| Change {
                    table: Arc::clone(&self.table),
                    op: ChangeOp::Insert { after },
                })
                .collect();
            self.items.push_back(StreamItem::Changes(changes));
        }
        if let Some(cursor) = moved_to {
            self.read_to = cursor.clone();
            self.items.push_back(StreamItem::Commit {
                position: Position::Poll(cursor),
                commit_time: Utc::now(),
            });
        }
        Ok(Position::Poll(self.read_to.clone()))
    }

    fn tuple_of(&self, row: &Row) -> PollCursor {
        PollCursor {
            after: self.tuple_at.iter().map(|&i| row[i].clone()).collect(),
        }
    }
}

impl<R: PollReader> ChangeStream for PollStream<R> {
    /// The queued items, then, when they run out, the next poll's at its time; `None`
    /// when that poll moved nothing.
    async fn next(&mut self) -> Result<Option<StreamItem>> {
        if self.items.is_empty() {
            tokio::time::sleep_until(self.next_poll).await;
            self.poll().await?;
        }
        let item = self.items.pop_front();
        if let Some(StreamItem::Commit {
            position: Position::Poll(cursor),
            ..
        }) = &item
        {
            self.position = cursor.clone();
        }
        Ok(item)
    }

    fn position(&self) -> Position {
        Position::Poll(self.position.clone())
    }
}

#[cfg(test)]
mod tests {
    use std::cmp::Ordering;
    use std::sync::Mutex;

    use super::*;
    use crate::table_schema::fixture::int_table;

    /// A table in memory, kept as `(ts, id)` rows, read as an engine would.
    #[derive(Clone, Default)]
    struct Rows(Arc<Mutex<Vec<Row>>>);

    impl Rows {
        fn put(&self, ts: i64, id: i64) {
            let mut rows = self.0.lock().unwrap();
            rows.retain(|row| row[1] != Value::Int(id));
            rows.push(vec![Value::Int(ts), Value::Int(id)]);
        }

        fn delete(&self, id: i64) {
            self.0
                .lock()
                .unwrap()
                .retain(|row| row[1] != Value::Int(id));
        }

        fn sorted(&self) -> Vec<Row> {
            let mut rows = self.0.lock().unwrap().clone();
            rows.sort_by(|a, b| cursor(a).partial_cmp(&cursor(b)).unwrap());
            rows
        }
    }

    fn cursor(values: &[Value]) -> PollCursor {
        PollCursor {
            after: values.to_vec(),
        }
    }

    impl PollReader for Rows {
        async fn read_after(&mut self, after: &[Value], limit: usize) -> Result<Vec<Row>> {
            let after = cursor(after);
            Ok(self
                .sorted()
                .into_iter()
                .filter(|row| {
                    let prefix = cursor(&row[..after.after.len()]);
                    match prefix.partial_cmp(&after).unwrap() {
                        Ordering::Equal => after.after.len() < row.len(),
                        ordering => ordering.is_gt(),
                    }
                })
                .take(limit)
                .collect())
        }

        async fn head(&mut self) -> Result<Option<Vec<Value>>> {
            Ok(self.sorted().pop())
        }
    }

    const SETTLE: Duration = Duration::from_millis(60);

    /// A stream over `rows` of a table `(ts, id)` keyed by `id`, polled by `ts`.
    fn stream(rows: &Rows, from: Vec<Value>, rows_per_poll: usize) -> PollStream<Rows> {
        let table = int_table("t", &["id", "ts"]);
        let mut table = Arc::unwrap_or_clone(table);
        table.columns.reverse();
        table.columns[0].data_type = crate::data_type::DataType::Int {
            width: crate::data_type::IntWidth::I64,
            unsigned: false,
        };
        let columns = PollColumns::choose(&table, None, Some("ts")).unwrap();
        let settings = PollTable {
            columns,
            interval: Duration::from_millis(10),
            settle: SETTLE,
            rows_per_poll,
        };
        PollStream::new(
            rows.clone(),
            Arc::new(table),
            settings,
            Position::Poll(cursor(&from)),
        )
        .unwrap()
    }

    /// The ids of the rows the stream yields until it is idle, with the position then.
    async fn drain(stream: &mut PollStream<Rows>) -> Vec<i64> {
        let mut ids = Vec::new();
        while let Some(item) = stream.next().await.unwrap() {
            if let StreamItem::Changes(changes) = item {
                for change in changes {
                    let ChangeOp::Insert { after } = change.op else {
                        panic!("a poll yields inserts only");
                    };
                    let Value::Int(id) = after[1] else {
                        unreachable!()
                    };
                    ids.push(id);
                }
            }
        }
        ids
    }

    #[tokio::test]
    async fn rows_sharing_one_timestamp_are_read_across_polls_without_a_gap() {
        let rows = Rows::default();
        for id in 1..=25 {
            rows.put(7, id);
        }
        let mut stream = stream(&rows, vec![], 10);
        // Nothing is settled at the first poll.
        assert_eq!(drain(&mut stream).await, Vec::<i64>::new());
        tokio::time::sleep(SETTLE).await;
        let mut ids = Vec::new();
        for _ in 0..5 {
            ids.extend(drain(&mut stream).await);
        }
        assert_eq!(ids, (1..=25).collect::<Vec<_>>());
        assert_eq!(
            stream.position(),
            Position::Poll(cursor(&[Value::Int(7), Value::Int(25)]))
        );
    }

    #[tokio::test]
    async fn a_row_written_behind_the_last_row_read_is_not_skipped() {
        let rows = Rows::default();
        rows.put(7, 5);
        let mut stream = stream(&rows, vec![], 10);
        assert_eq!(drain(&mut stream).await, Vec::<i64>::new());
        // Same timestamp, lower key, committed after the poll read (7, 5).
        rows.put(7, 2);
        tokio::time::sleep(SETTLE).await;
        let mut ids = drain(&mut stream).await;
        ids.extend(drain(&mut stream).await);
        assert_eq!(ids, [2, 5]);
    }

    #[tokio::test]
    async fn an_idle_poll_moves_to_the_watermark_when_the_last_row_is_gone() {
        let rows = Rows::default();
        rows.put(3, 1);
        rows.put(9, 2);
        let mut stream = stream(&rows, vec![Value::Int(3), Value::Int(1)], 10);
        let head = stream.head().await.unwrap().unwrap();
        rows.delete(2);
        tokio::time::sleep(SETTLE).await;
        assert_eq!(drain(&mut stream).await, Vec::<i64>::new());
        assert_eq!(stream.position(), head);
    }

    #[tokio::test]
    async fn the_start_position_goes_back_by_the_settle_time_inclusively() {
        let table = int_table("t", &["id"]);
        let mut table = Arc::unwrap_or_clone(table);
        let mut updated_at = table.columns[0].clone();
        updated_at.name = "updated_at".into();
        updated_at.data_type = crate::data_type::DataType::Timestamp { precision: 0 };
        table.columns.push(updated_at);
        let columns = PollColumns::choose(&table, None, None).unwrap();
        assert_eq!(columns.tuple(), ["updated_at", "id"]);
        let settings = PollTable::new(columns, Duration::from_secs(5));
        assert_eq!(settings.settle, Duration::from_secs(2));
        let at = |s: &str| Value::Timestamp(s.parse().unwrap());
        assert_eq!(
            settings.start_position(Some(vec![at("2026-01-01T00:00:10Z"), Value::Int(4)])),
            Position::Poll(cursor(&[at("2026-01-01T00:00:08Z")]))
        );
        assert_eq!(settings.start_position(None), Position::Poll(cursor(&[])));
    }
}
