//! Checking again the keys a verify found differing, once the pair's stream has had
//! the time to bring over what changed on the source during the verify: a busy
//! source gives no false alarm, and a real difference is still found.
//!
//! A round holds the source rows of the differing keys still (a share lock, on MySQL)
//! and takes the position of the source's change stream then, waits until the
//! target's checkpoint of the table is at or past that position, then reads the rows
//! of both sides and compares: the target has then applied every change to those rows,
//! and none can come while they are held, so even a key written many times a second
//! compares exactly. A key is reported only if it differs in every round.

use std::future::Future;
use std::time::{Duration, Instant};

use crate::change::Row;
use crate::error::Result;
use crate::pipeline::Target;
use crate::position::Position;
use crate::verify::by_key::RowsByKey;
use crate::verify::key_range::Key;
use crate::verify::report::{Keys, TableReport};
use crate::verify::side::VerifySide;
use crate::verify::summary::VerifyTable;

/// A source whose rows of some keys can be held still at a point of its change stream.
pub trait SnapshotSide: VerifySide {
    /// Holds the rows of `keys` of `table` still (no transaction may change them)
    /// until [`SnapshotSide::end_snapshot`], and gives a position of the source's change
    /// stream at or after every change made to them: a target whose checkpoint is
    /// there holds them as the source does. `None` where the source cannot tell (a
    /// recheck round then waits a fixed time instead, and compares rows that may move).
    fn begin_snapshot(
        &mut self,
        table: &VerifyTable,
        keys: &[Key],
    ) -> impl Future<Output = Result<Option<Position>>> + Send;

    /// Ends what [`SnapshotSide::begin_snapshot`] began.
    fn end_snapshot(&mut self) -> impl Future<Output = Result<()>> + Send;
}

#[derive(Debug, Clone, Copy)]
pub struct RecheckOptions {
    /// How many times a key must differ to be reported.
    pub rounds: usize,
    /// How long a round waits at most for the target's checkpoint to reach the
    /// source's position.
    pub catch_up: Duration,
    /// A checkpoint that has not moved for this long is not going to: no stream runs,
    /// or it has nothing more for the table.
    pub still: Duration,
    /// How long a round waits on a source that tells no position.
    pub timed_round: Duration,
    /// How often the checkpoint is read while waiting.
    pub poll: Duration,
    /// A table with more differing keys than this is reported as the verify found it:
    /// that many are not the stream's lag.
    pub max_keys: usize,
}

impl Default for RecheckOptions {
    fn default() -> Self {
        RecheckOptions {
            rounds: 3,
            // Writers of the keys checked wait meanwhile.
            catch_up: Duration::from_secs(10),
            // Above the one second in which a stream that writes moves every table's
            // checkpoint along.
            still: Duration::from_secs(3),
            timed_round: Duration::from_secs(5),
            poll: Duration::from_millis(200),
            max_keys: 10_000,
        }
    }
}

/// How the recheck of a table went.
#[derive(Debug, Clone, PartialEq)]
pub enum Recheck {
    /// The keys still differing differed in each of `rounds` rounds (none when the
    /// verify found the table equal).
    Done { rounds: usize },
    /// More keys differed than a recheck reads; they are reported as found.
    TooManyKeys,
    /// The target's checkpoint stayed behind the source's position for the whole
    /// wait: the stream lags (or is stuck), and the keys still differing then are
    /// reported.
    TargetBehind {
        source: Position,
        target: Option<Position>,
    },
}

/// A table's report after its recheck.
#[derive(Debug, Clone)]
pub struct Rechecked {
    pub report: TableReport,
    pub recheck: Recheck,
}

/// Checks again the keys `found` lists for `table`: the source's rows read from
/// `source`, the target's from `reader`, the table's checkpoint from `target`. The
/// report lists at most `keys_listed` keys of each kind, like the verify's.
pub async fn recheck_table<S: SnapshotSide, R: VerifySide, T: Target>(
    source: &mut S,
    reader: &mut R,
    target: &mut T,
    table: &VerifyTable,
    found: TableReport,
    keys_listed: usize,
    options: &RecheckOptions,
) -> Result<Rechecked> {
    let kinds = [&found.missing, &found.extra, &found.different];
    let count: u64 = kinds.iter().map(|keys| keys.count).sum();
    if count == 0 {
        return Ok(Rechecked {
            report: found,
            recheck: Recheck::Done { rounds: 0 },
        });
    }
    if count > options.max_keys as u64 || kinds.iter().any(|keys| !keys.is_complete()) {
        return Ok(Rechecked {
            report: found,
            recheck: Recheck::TooManyKeys,
        });
    }
    let mut keys: Vec<Key> = kinds.iter().flat_map(|k| k.first.clone()).collect();
    let mut report = found;
    let mut rounds = 0;
    while rounds < options.rounds && !keys.is_empty() {
        rounds += 1;
        let position = source.begin_snapshot(table, &keys).await?;
        let held = held_round(
            source,
            reader,
            target,
            table,
            &keys,
            position.as_ref(),
            options,
        )
        .await;
        source.end_snapshot().await?;
        let (waited, source_rows, target_rows) = held?;
        let mut differences = Differences::default();
        for ((key, source_row), target_row) in keys.iter().zip(source_rows).zip(target_rows) {
            differences.compare(table, key, source_row, target_row);
        }
        keys = differences.keys();
        differences.list(&mut report, keys_listed);
        match waited {
            CatchUp::Reached => {}
            // The target is not going to change: another round would find the same.
            CatchUp::Still => break,
            CatchUp::Behind(target) => {
                let recheck = match position {
                    Some(source) if !keys.is_empty() => Recheck::TargetBehind { source, target },
                    _ => Recheck::Done { rounds },
                };
                return Ok(Rechecked { report, recheck });
            }
        }
    }
    Ok(Rechecked {
        report,
        recheck: Recheck::Done { rounds },
    })
}

/// While the source holds `keys` still at `position`: waits for the target to get
/// there, then reads both sides' rows.
async fn held_round<S: SnapshotSide, R: VerifySide, T: Target>(
    source: &mut S,
    reader: &mut R,
    target: &mut T,
    table: &VerifyTable,
    keys: &[Key],
    position: Option<&Position>,
    options: &RecheckOptions,
) -> Result<(CatchUp, Vec<Option<Row>>, Vec<Option<Row>>)> {
    let waited = match position {
        Some(position) => catch_up(target, table, position, options).await?,
        None => timed_wait(target, table, options).await?,
    };
    let source_rows = rows_of(source, table, keys).await?;
    let target_rows = rows_of(reader, table, keys).await?;
    Ok((waited, source_rows, target_rows))
}

/// Waits a round's time on a source that tells no position: the target then holds
/// what the stream brought meanwhile ([`CatchUp::Reached`]), or, when the table's
/// checkpoint did not move at all, nothing new, and another round would find the same
/// ([`CatchUp::Still`]).
async fn timed_wait<T: Target>(
    target: &mut T,
    table: &VerifyTable,
    options: &RecheckOptions,
) -> Result<CatchUp> {
    let before = checkpoint_of(target, table).await?;
    tokio::time::sleep(options.timed_round).await;
    Ok(if checkpoint_of(target, table).await? == before {
        CatchUp::Still
    } else {
        CatchUp::Reached
    })
}

/// Where `target`'s checkpoint of `table` stands, if it has one.
async fn checkpoint_of<T: Target>(target: &mut T, table: &VerifyTable) -> Result<Option<Position>> {
    Ok(target
        .checkpoints()
        .await?
        .into_iter()
        .find(|(name, _)| *name == table.schema.name)
        .map(|(_, checkpoint)| checkpoint.position))
}

/// `side`'s row of each of `keys`, in their order.
async fn rows_of<S: VerifySide>(
    side: &mut S,
    table: &VerifyTable,
    keys: &[Key],
) -> Result<Vec<Option<Row>>> {
    let mut reader = RowsByKey::new(table, keys, table.chunk_rows);
    let mut rows = Vec::with_capacity(keys.len());
    for key in keys {
        rows.push(reader.row(side, key).await?);
    }
    Ok(rows)
}

/// How a wait for the target's checkpoint ended.
enum CatchUp {
    /// At or past the source's position.
    Reached,
    /// Below it, and not moving.
    Still,
    /// Below it, and moving, when the wait ran out; where it was.
    Behind(Option<Position>),
}

/// Waits until `target`'s checkpoint of `table` is at or past `position`, stops
/// moving, or the wait runs out.
async fn catch_up<T: Target>(
    target: &mut T,
    table: &VerifyTable,
    position: &Position,
    options: &RecheckOptions,
) -> Result<CatchUp> {
    let started = Instant::now();
    let mut last: Option<Position> = None;
    let mut moved = Instant::now();
    loop {
        let now = checkpoint_of(target, table).await?;
        if now.as_ref().is_some_and(|now| now >= position) {
            return Ok(CatchUp::Reached);
        }
        if now != last {
            last = now;
            moved = Instant::now();
        } else if moved.elapsed() >= options.still {
            return Ok(CatchUp::Still);
        }
        if started.elapsed() >= options.catch_up {
            return Ok(CatchUp::Behind(last));
        }
        tokio::time::sleep(options.poll).await;
    }
}

/// The keys of a round that still differ, by kind.
#[derive(Default)]
struct Differences {
    missing: Vec<Key>,
    extra: Vec<Key>,
    different: Vec<Key>,
}

impl Differences {
    fn compare(
        &mut self,
        table: &VerifyTable,
        key: &Key,
        source: Option<Row>,
        target: Option<Row>,
    ) {
        match (source, target) {
            (None, None) => {}
            (Some(_), None) => self.missing.push(key.clone()),
            (None, Some(_)) => self.extra.push(key.clone()),
            (Some(source), Some(target)) => {
                if table.row_hash(&source) != table.row_hash(&target) {
                    self.different.push(key.clone());
                }
            }
        }
    }

    /// Every key still differing, in the report's order.
    fn keys(&self) -> Vec<Key> {
        [&self.missing, &self.extra, &self.different]
            .into_iter()
            .flatten()
            .cloned()
            .collect()
    }

    /// Replaces the kinds of differences of `report` with these.
    fn list(self, report: &mut TableReport, keys_listed: usize) {
        let listed = |found: Vec<Key>| {
            let mut keys = Keys::default();
            for key in found {
                keys.push(key, keys_listed);
            }
            keys
        };
        report.missing = listed(self.missing);
        report.extra = listed(self.extra);
        report.different = listed(self.different);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::change_batch::ChangeBatch;
    use crate::checkpoint::{Checkpoint, CopyProgress};
    use crate::table_schema::fixture::int_table;
    use crate::table_schema::{TableName, TableSchema};
    use crate::value::Value;
    use crate::verify::key_range::KeyRange;

    fn row(id: i64, v: i64) -> Row {
        vec![Value::Int(id), Value::Int(v)]
    }

    /// Rows by their first column, read as a verify side reads them.
    fn read(rows: &BTreeMap<i64, Row>, range: &KeyRange, limit: usize) -> Vec<Row> {
        let start = match &range.start {
            std::ops::Bound::Included(k) => k[0].clone(),
            _ => unreachable!("a recheck reads from a key on"),
        };
        let Value::Int(start) = start else {
            unreachable!("int keys")
        };
        rows.range(start..)
            .take(limit)
            .map(|(_, r)| r.clone())
            .collect()
    }

    /// A source at a position of its change stream (an audit log id).
    struct Source {
        rows: BTreeMap<i64, Row>,
        position: Option<u64>,
    }

    impl VerifySide for Source {
        async fn read_range(
            &mut self,
            _: &VerifyTable,
            range: &KeyRange,
            limit: usize,
        ) -> Result<Vec<Row>> {
            Ok(read(&self.rows, range, limit))
        }
    }

    impl SnapshotSide for Source {
        async fn begin_snapshot(&mut self, _: &VerifyTable, _: &[Key]) -> Result<Option<Position>> {
            Ok(self.position.map(|id| Position::AuditLog { id }))
        }

        async fn end_snapshot(&mut self) -> Result<()> {
            Ok(())
        }
    }

    /// A target that a stream brings one change further each time its checkpoint is
    /// read.
    #[derive(Clone)]
    struct Replica(Arc<Mutex<Streamed>>);

    struct Streamed {
        rows: BTreeMap<i64, Row>,
        checkpoint: u64,
        /// `(position, key, row)`, applied in order.
        stream: Vec<(u64, i64, Row)>,
    }

    impl Replica {
        fn new(rows: BTreeMap<i64, Row>, checkpoint: u64, stream: Vec<(u64, i64, Row)>) -> Self {
            Replica(Arc::new(Mutex::new(Streamed {
                rows,
                checkpoint,
                stream,
            })))
        }
    }

    impl VerifySide for Replica {
        async fn read_range(
            &mut self,
            _: &VerifyTable,
            range: &KeyRange,
            limit: usize,
        ) -> Result<Vec<Row>> {
            Ok(read(&self.0.lock().unwrap().rows, range, limit))
        }
    }

    impl Target for Replica {
        async fn prepare_table(&mut self, _: &Arc<TableSchema>) -> Result<()> {
            unreachable!()
        }

        async fn checkpoints(&mut self) -> Result<Vec<(TableName, Checkpoint)>> {
            let mut state = self.0.lock().unwrap();
            if !state.stream.is_empty() {
                let (position, key, row) = state.stream.remove(0);
                state.rows.insert(key, row);
                state.checkpoint = position;
            }
            let checkpoint = Checkpoint {
                copy: CopyProgress::Done { rows: 0 },
                position: Position::AuditLog {
                    id: state.checkpoint,
                },
            };
            Ok(vec![(TableName::new("shop", "t"), checkpoint)])
        }

        async fn write_chunk(&mut self, _: &TableName, _: &[Row], _: &Checkpoint) -> Result<()> {
            unreachable!()
        }

        async fn apply(&mut self, _: &ChangeBatch, _: &[(TableName, Checkpoint)]) -> Result<()> {
            unreachable!()
        }
    }

    fn options() -> RecheckOptions {
        RecheckOptions {
            catch_up: Duration::from_millis(200),
            still: Duration::from_millis(50),
            timed_round: Duration::ZERO,
            poll: Duration::from_millis(1),
            ..RecheckOptions::default()
        }
    }

    fn different(ids: &[i64]) -> TableReport {
        let mut keys = Keys::default();
        for &id in ids {
            keys.push(vec![Value::Int(id)], usize::MAX);
        }
        TableReport {
            table: TableName::new("shop", "t"),
            source_rows: 0,
            target_rows: 0,
            missing: Keys::default(),
            extra: Keys::default(),
            different: keys,
        }
    }

    async fn recheck(source: &mut Source, replica: &Replica, found: TableReport) -> Rechecked {
        let table =
            VerifyTable::new(int_table("t", &["id", "v"]), Default::default(), 100).unwrap();
        let (mut reader, mut target) = (replica.clone(), replica.clone());
        recheck_table(
            source,
            &mut reader,
            &mut target,
            &table,
            found,
            10,
            &options(),
        )
        .await
        .unwrap()
    }

    #[tokio::test]
    async fn a_row_the_stream_brings_over_is_not_reported_and_a_planted_one_is() {
        let mut source = Source {
            rows: [(1, row(1, 10)), (2, row(2, 20)), (3, row(3, 30))].into(),
            position: Some(5),
        };
        // The target lags: key 1 arrives at position 5; key 2 was planted; key 3
        // arrives only after the source's position, so only the wait finds it.
        let replica = Replica::new(
            [(1, row(1, 0)), (2, row(2, -1)), (3, row(3, 0))].into(),
            1,
            vec![(3, 3, row(3, 30)), (5, 1, row(1, 10))],
        );
        let rechecked = recheck(&mut source, &replica, different(&[1, 2, 3])).await;
        assert_eq!(rechecked.report.different.first, vec![vec![Value::Int(2)]]);
        assert_eq!(rechecked.recheck, Recheck::Done { rounds: 3 });
    }

    #[tokio::test]
    async fn a_target_that_does_not_move_ends_the_rounds() {
        let mut source = Source {
            rows: [(1, row(1, 10))].into(),
            position: Some(5),
        };
        let replica = Replica::new([(1, row(1, 0))].into(), 1, vec![]);
        let rechecked = recheck(&mut source, &replica, different(&[1])).await;
        assert_eq!(rechecked.report.different.count, 1);
        assert_eq!(rechecked.recheck, Recheck::Done { rounds: 1 });
    }

    #[tokio::test]
    async fn a_target_still_behind_when_the_wait_ends_is_said_so() {
        let mut source = Source {
            rows: [(1, row(1, 10))].into(),
            position: Some(100_000),
        };
        let stream = (2..100_000).map(|p| (p, 2, row(2, 0))).collect();
        let replica = Replica::new([(1, row(1, 0))].into(), 1, stream);
        let rechecked = recheck(&mut source, &replica, different(&[1])).await;
        assert_eq!(rechecked.report.different.count, 1);
        assert!(
            matches!(rechecked.recheck, Recheck::TargetBehind { .. }),
            "{:?}",
            rechecked.recheck
        );
    }
}
