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
        None => {
            tokio::time::sleep(options.timed_round).await;
            CatchUp::Reached
        }
    };
    let source_rows = rows_of(source, table, keys).await?;
    let target_rows = rows_of(reader, table, keys).await?;
    Ok((waited, source_rows, target_rows))
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
        let now = target
            .checkpoints()
            .await?
            .into_iter()
            .find(|(name, _)| *name == table.schema.name)
            .map(|(_, checkpoint)| checkpoint.position);
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
