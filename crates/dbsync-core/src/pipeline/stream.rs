use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::time::{Duration, Instant};

use crate::change::{Change, StreamItem};
use crate::change_batch::ChangeBatch;
use crate::checkpoint::Checkpoint;
use crate::error::{Error, ErrorKind, Result};
use crate::pipeline::{ChangeStream, Target, earliest_position};
use crate::position::Position;
use crate::table_schema::TableName;

/// When a batch is written: whichever bound is reached first.
#[derive(Debug, Clone, Copy)]
pub struct BatchLimits {
    pub max_changes: usize,
    pub max_bytes: usize,
    /// How long a change may wait for its batch to fill, which bounds the lag an idle
    /// pair adds.
    pub max_delay: Duration,
}

impl Default for BatchLimits {
    fn default() -> Self {
        BatchLimits {
            max_changes: 10_000,
            max_bytes: 16 << 20,
            max_delay: Duration::from_millis(50),
        }
    }
}

/// How often, at most, the checkpoints of the tables a batch does not touch are moved
/// along with it. Without this, a table nobody writes would keep the checkpoint of
/// the run's start: a crash would then make the next run read the binlog again from
/// there, and fail if the source no longer keeps it.
const SETTLE_EVERY: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamEnd {
    /// The stream reached the position it was asked to catch up with.
    CaughtUp,
    /// `stop` resolved.
    Stopped,
}

/// Applies `stream` to `target` in compacted batches until it reaches `until` (when
/// given) or `stop` resolves; every batch is written with the checkpoints of the
/// tables it touches, and about every second with those of all tables.
///
/// The stream starts at the earliest checkpoint, so tables whose checkpoint is further
/// on see transactions they already hold: those are skipped. A checkpoint is always a
/// transaction boundary, so a table holds a transaction exactly when the transaction's
/// commit is at or before the table's checkpoint. Where a transaction began is not
/// always known (a stream need not report the commit of every transaction that touched
/// no tracked table), so while the last reported commit is before a table's
/// checkpoint, that table's changes wait for their transaction's commit to decide.
///
/// When `stop` resolves in the middle of a transaction, the rest of it is read and
/// applied first, so that the target is left at a transaction boundary, with the
/// checkpoints of every table at the stream's position.
pub async fn stream_changes<St: ChangeStream, T: Target>(
    stream: &mut St,
    target: &mut T,
    checkpoints: &mut HashMap<TableName, Checkpoint>,
    limits: BatchLimits,
    until: Option<Position>,
    stop: impl Future<Output = ()>,
) -> Result<StreamEnd> {
    tokio::pin!(stop);
    let mut pending = Pending::new();
    // At or before where the transaction being read began: the last commit reported.
    let mut txn_start = stream.position();
    // Changes of a transaction were read, and its commit was not yet.
    let mut in_txn = false;
    // Changes of the transaction being read to tables whose checkpoint is after
    // `txn_start`: whether those tables hold it is known at its commit.
    let mut undecided: Vec<Change> = Vec::new();
    let mut last_commit: Option<Position> = None;
    let mut stopping = false;
    let caught_up = |position: &Position| until.as_ref().is_some_and(|until| position >= until);
    if caught_up(&txn_start) {
        return Ok(StreamEnd::CaughtUp);
    }
    loop {
        let item = if stopping {
            // Only the end of the transaction being read is awaited.
            stream.next().await?
        } else {
            tokio::select! {
                biased;
                () = &mut stop => {
                    stopping = true;
                    if in_txn {
                        continue;
                    }
                    let position = stream.position();
                    pending.write(stream, target, checkpoints, Some(&position), true).await?;
                    return Ok(StreamEnd::Stopped);
                }
                item = stream.next() => item?,
            }
        };
        match item {
            Some(StreamItem::Changes(changes)) => {
                in_txn = true;
                for change in changes {
                    let maybe_held = checkpoints
                        .get(&change.table.name)
                        .is_some_and(|c| txn_start < c.position);
                    if maybe_held {
                        undecided.push(change);
                    } else {
                        pending.batch.push(change);
                    }
                }
                // A huge transaction is written in several batches; the checkpoint
                // stays at the last commit until the transaction's own commit.
                if pending.full(limits) {
                    pending
                        .write(stream, target, checkpoints, last_commit.as_ref(), false)
                        .await?;
                }
            }
            Some(StreamItem::Commit { position, .. }) => {
                for change in undecided.drain(..) {
                    let held = checkpoints
                        .get(&change.table.name)
                        .is_some_and(|c| position <= c.position);
                    if !held {
                        pending.batch.push(change);
                    }
                }
                in_txn = false;
                txn_start = position.clone();
                let done = caught_up(&position);
                last_commit = Some(position);
                if done || stopping {
                    pending
                        .write(stream, target, checkpoints, last_commit.as_ref(), true)
                        .await?;
                    return Ok(if done {
                        StreamEnd::CaughtUp
                    } else {
                        StreamEnd::Stopped
                    });
                }
                if pending.due(limits) {
                    pending
                        .write(stream, target, checkpoints, last_commit.as_ref(), false)
                        .await?;
                }
            }
            None if stopping => {}
            None => {
                pending
                    .write(stream, target, checkpoints, last_commit.as_ref(), false)
                    .await?;
                let position = stream.position();
                if !in_txn && caught_up(&position) {
                    pending
                        .write(stream, target, checkpoints, Some(&position), true)
                        .await?;
                    return Ok(StreamEnd::CaughtUp);
                }
            }
        }
    }
}

/// The batch being gathered, when it began, and when every table's checkpoint was
/// last moved along.
struct Pending {
    batch: ChangeBatch,
    started: Instant,
    settled: Instant,
}

impl Pending {
    fn new() -> Self {
        Pending {
            batch: ChangeBatch::new(),
            started: Instant::now(),
            settled: Instant::now(),
        }
    }

    /// Whether the batch reached its bound in changes or bytes.
    fn full(&self, limits: BatchLimits) -> bool {
        self.batch.changes() >= limits.max_changes || self.batch.bytes() >= limits.max_bytes
    }

    /// Whether the batch is to be written at a commit: it is full, it waited long
    /// enough, or the checkpoints of every table are due to move along.
    fn due(&self, limits: BatchLimits) -> bool {
        self.full(limits)
            || self.started.elapsed() >= limits.max_delay
            || self.settled.elapsed() >= SETTLE_EVERY
    }

    /// Writes the batch with its checkpoints at `commit`, and every table's when `all`
    /// or when they are due, then tells `stream` what the target now holds; starts a
    /// new batch.
    async fn write<St: ChangeStream, T: Target>(
        &mut self,
        stream: &mut St,
        target: &mut T,
        checkpoints: &mut HashMap<TableName, Checkpoint>,
        commit: Option<&Position>,
        all: bool,
    ) -> Result<()> {
        let settle = all || self.settled.elapsed() >= SETTLE_EVERY;
        let wrote = flush(target, &mut self.batch, checkpoints, commit, settle).await?;
        if let Some(earliest) = earliest_position(checkpoints).filter(|_| wrote) {
            stream.committed(earliest).await?;
        }
        self.started = Instant::now();
        if settle {
            self.settled = Instant::now();
        }
        Ok(())
    }
}

/// Writes `batch` with the checkpoints of the tables it touches moved to `commit`
/// and, when `all`, those of every other table too: the stream has read everything up
/// to `commit`, and what each table needed of it is in this batch or an earlier one.
/// Writes nothing when there is nothing to write; says whether it wrote.
async fn flush<T: Target>(
    target: &mut T,
    batch: &mut ChangeBatch,
    checkpoints: &mut HashMap<TableName, Checkpoint>,
    commit: Option<&Position>,
    all: bool,
) -> Result<bool> {
    let moved_to = |checkpoint: &Checkpoint| {
        let mut checkpoint = checkpoint.clone();
        if let Some(commit) = commit.filter(|commit| *commit > &checkpoint.position) {
            checkpoint.position = commit.clone();
        }
        checkpoint
    };
    let mut moved = Vec::new();
    let mut touched = HashSet::new();
    for table in batch.tables() {
        let name = &table.table.name;
        let Some(checkpoint) = checkpoints.get(name) else {
            return Err(Error::new(
                ErrorKind::SchemaMismatch,
                "has changes but was never copied",
            )
            .with_table(name.clone()));
        };
        touched.insert(name);
        moved.push((name.clone(), moved_to(checkpoint)));
    }
    if all {
        for (name, checkpoint) in checkpoints.iter() {
            let behind = commit.is_some_and(|commit| commit > &checkpoint.position);
            if behind && !touched.contains(name) {
                moved.push((name.clone(), moved_to(checkpoint)));
            }
        }
    }
    if moved.is_empty() {
        return Ok(false);
    }
    target.apply(batch, &moved).await?;
    for (table, checkpoint) in moved {
        checkpoints.insert(table, checkpoint);
    }
    *batch = ChangeBatch::new();
    Ok(true)
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::sync::Arc;

    use chrono::Utc;

    use super::*;
    use crate::change::{ChangeOp, Row};
    use crate::checkpoint::CopyProgress;
    use crate::position::BinlogPosition;
    use crate::table_schema::TableSchema;
    use crate::table_schema::fixture::int_table;
    use crate::value::Value;

    fn at(offset: u64) -> Position {
        Position::Binlog(BinlogPosition {
            file: "binlog.000001".parse().unwrap(),
            offset,
            gtid_state: vec![],
        })
    }

    fn insert(table: &Arc<TableSchema>, id: i64) -> StreamItem {
        StreamItem::Changes(vec![Change {
            table: Arc::clone(table),
            op: ChangeOp::Insert {
                after: vec![Value::Int(id)],
            },
        }])
    }

    fn commit(offset: u64) -> StreamItem {
        StreamItem::Commit {
            position: at(offset),
            commit_time: Utc::now(),
        }
    }

    fn checkpoint(offset: u64) -> Checkpoint {
        Checkpoint {
            copy: CopyProgress::Done { rows: 0 },
            position: at(offset),
        }
    }

    /// Items as a capture yields them, with the position of the last commit yielded;
    /// `None` (idle) once they run out.
    struct Script {
        items: VecDeque<StreamItem>,
        position: Position,
    }

    impl ChangeStream for Script {
        async fn next(&mut self) -> Result<Option<StreamItem>> {
            let item = self.items.pop_front();
            if let Some(StreamItem::Commit { position, .. }) = &item {
                self.position = position.clone();
            }
            if item.is_none() {
                tokio::task::yield_now().await;
            }
            Ok(item)
        }

        fn position(&self) -> Position {
            self.position.clone()
        }
    }

    /// The rows and checkpoints a target would hold.
    #[derive(Default)]
    struct Held {
        rows: HashMap<TableName, Vec<Row>>,
        checkpoints: HashMap<TableName, Checkpoint>,
        writes: usize,
    }

    impl Target for Held {
        async fn prepare_table(&mut self, _: &Arc<TableSchema>) -> Result<()> {
            Ok(())
        }

        async fn checkpoints(&mut self) -> Result<Vec<(TableName, Checkpoint)>> {
            Ok(self.checkpoints.clone().into_iter().collect())
        }

        async fn write_chunk(&mut self, _: &TableName, _: &[Row], _: &Checkpoint) -> Result<()> {
            unreachable!("the stream writes no chunk")
        }

        async fn apply(
            &mut self,
            batch: &ChangeBatch,
            checkpoints: &[(TableName, Checkpoint)],
        ) -> Result<()> {
            for table in batch.tables() {
                let rows = self.rows.entry(table.table.name.clone()).or_default();
                rows.extend(table.upserts().cloned());
                rows.sort_by_key(|row| format!("{row:?}"));
            }
            for (table, checkpoint) in checkpoints {
                self.checkpoints.insert(table.clone(), checkpoint.clone());
            }
            self.writes += 1;
            Ok(())
        }
    }

    fn ids(held: &Held, table: &Arc<TableSchema>) -> Vec<i64> {
        held.rows
            .get(&table.name)
            .into_iter()
            .flatten()
            .map(|row| match row[0] {
                Value::Int(id) => id,
                _ => unreachable!(),
            })
            .collect()
    }

    async fn run(
        items: Vec<StreamItem>,
        checkpoints: &mut HashMap<TableName, Checkpoint>,
        until: Position,
    ) -> Held {
        let from = checkpoints
            .values()
            .map(|c| c.position.clone())
            .reduce(|a, b| if b < a { b } else { a })
            .unwrap();
        let mut stream = Script {
            items: items.into(),
            position: from,
        };
        let mut held = Held::default();
        let end = stream_changes(
            &mut stream,
            &mut held,
            checkpoints,
            BatchLimits::default(),
            Some(until),
            std::future::pending(),
        )
        .await
        .unwrap();
        assert_eq!(end, StreamEnd::CaughtUp);
        held
    }

    #[tokio::test]
    async fn a_table_ahead_gets_the_transaction_after_its_checkpoint_even_when_the_one_before_was_not_reported()
     {
        // `a` resumes at 100, `b` at 300. The stream reports the commit at 200 but
        // not the one at 300 (a transaction of an untracked table), so the changes of
        // the transaction from 300 to 400 arrive after a reported commit at 200.
        let (a, b) = (int_table("a", &["id"]), int_table("b", &["id"]));
        let mut checkpoints = HashMap::from([
            (a.name.clone(), checkpoint(100)),
            (b.name.clone(), checkpoint(300)),
        ]);
        let items = vec![
            insert(&a, 1),
            insert(&b, 1),
            commit(200),
            // (an untracked transaction ends at 300 here, unreported)
            insert(&b, 3),
            insert(&a, 3),
            commit(400),
        ];
        let held = run(items, &mut checkpoints, at(400)).await;
        assert_eq!(ids(&held, &a), [1, 3]);
        // b holds the transaction that ends at 200, not the one that ends at 400.
        assert_eq!(ids(&held, &b), [3]);
        assert_eq!(held.checkpoints[&a.name].position, at(400));
        assert_eq!(held.checkpoints[&b.name].position, at(400));
    }

    #[tokio::test]
    async fn a_table_ahead_skips_what_it_holds() {
        let (a, b) = (int_table("a", &["id"]), int_table("b", &["id"]));
        let mut checkpoints = HashMap::from([
            (a.name.clone(), checkpoint(100)),
            (b.name.clone(), checkpoint(300)),
        ]);
        let items = vec![
            insert(&b, 1),
            commit(200),
            insert(&b, 2),
            insert(&a, 2),
            commit(300),
            insert(&b, 3),
            commit(400),
        ];
        let held = run(items, &mut checkpoints, at(400)).await;
        assert_eq!(ids(&held, &a), [2]);
        assert_eq!(ids(&held, &b), [3]);
    }

    #[tokio::test]
    async fn a_stop_in_a_transaction_waits_for_its_commit() {
        let a = int_table("a", &["id"]);
        let mut checkpoints = HashMap::from([(a.name.clone(), checkpoint(100))]);
        let mut stream = Script {
            items: vec![insert(&a, 1), insert(&a, 2), commit(200), insert(&a, 3)].into(),
            position: at(100),
        };
        let mut held = Held::default();
        // The stop comes once the first item is read, in the middle of a transaction.
        let mut first = true;
        let stop = std::future::poll_fn(|_| {
            if std::mem::take(&mut first) {
                std::task::Poll::Pending
            } else {
                std::task::Poll::Ready(())
            }
        });
        let end = stream_changes(
            &mut stream,
            &mut held,
            &mut checkpoints,
            BatchLimits::default(),
            None,
            stop,
        )
        .await
        .unwrap();
        assert_eq!(end, StreamEnd::Stopped);
        // The transaction was read through its commit, and nothing after it.
        assert_eq!(ids(&held, &a), [1, 2]);
        assert_eq!(held.checkpoints[&a.name].position, at(200));
        assert_eq!(held.writes, 1);
    }
}
