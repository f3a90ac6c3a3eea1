//! Trigger capture: the changes dbsync's triggers record in the audit log, as the
//! pipeline sees them. Needs only ordinary privileges: SELECT on the tables, SELECT,
//! UPDATE and DELETE on `sync_audit_log`.
//!
//! The stream reads entries after its position in id order, a batch at a time. For the
//! keys of a batch it reads the tables' current rows, with the snapshot's exact
//! decoders, and yields an upsert for a key whose row exists and a delete for one whose
//! row does not, then a commit at the batch's last id. A row read now may be newer than
//! the entry that named it; the change that made it newer has a later entry, so the
//! target converges all the same, and values never go through JSON.
//!
//! # Entries that appear below the position
//!
//! AUTO_INCREMENT hands out ids when a row is inserted, not when its transaction
//! commits: entry N may become visible after N+1 was read, and a reader that moves to
//! N+1 would never see N. So the position never passes an id it has not seen, unless
//! that id is known never to come:
//!
//! 1. A plain read of the entries after the position finds the ids present. The run
//!    of consecutive ids right after the position is safe to take: no id below its
//!    end is missing.
//! 2. A missing id is an entry whose transaction is still open, one that rolled back
//!    (a gap forever), or one whose id is handed out but not yet inserted. When ids are
//!    missing, the stream notes the highest id it saw (`Hold::upto`) and when.
//! 3. Once the hold is `gap_timeout` old, a read with shared locks of everything up to
//!    `upto` waits for the open transactions' entries (their rows are in the index,
//!    locked) and takes what they committed. What is still missing then is a rollback,
//!    or an id handed out before the hold began and still not inserted a whole
//!    `gap_timeout` later, which does not happen: the server inserts the row right
//!    after taking its id. Everything up to `upto` is then read.
//!
//! A rolled-back transaction costs `gap_timeout` of lag once; a transaction that stays
//! open holds the stream back (not past its entries) until it ends, as it must. The
//! session is READ COMMITTED, so the locking read takes no gap locks and never blocks
//! the triggers' inserts.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use dbsync_core::pipeline::{Capture, ChangeStream, earliest_position};
use dbsync_core::{
    Change, ChangeOp, Checkpoint, Error, ErrorKind, Position, Result, Row, StreamItem, TableName,
    TableSchema, Value,
};
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts};

use crate::audit_log::{AuditLog, Entry};
use crate::error::driver_error;
use crate::protocol_value::from_wire;
use crate::record_id::RecordId;
use crate::session;
use crate::sql::quote;

/// How the trigger capture reads and tends the audit log.
#[derive(Debug, Clone, Copy)]
pub struct TriggerCaptureConfig {
    /// Entries read at a time.
    pub batch_size: usize,
    /// How often the audit log is read while it has nothing new.
    pub poll_interval: Duration,
    /// How long the stream waits for an entry before telling the pipeline it is idle.
    pub idle: Duration,
    /// How long an id may be missing below seen ones before a locking read settles it
    /// (see the module's documentation).
    pub gap_timeout: Duration,
    /// How long the locking read waits for an open transaction, in whole seconds
    /// (`innodb_lock_wait_timeout`).
    pub lock_wait_seconds: u32,
    /// How often, at most, consumed entries are marked synced.
    pub mark_every: Duration,
    /// How long synced entries are kept, for people to look at.
    pub retention: Duration,
    /// How often, at most, old synced entries are purged.
    pub purge_every: Duration,
}

impl Default for TriggerCaptureConfig {
    fn default() -> Self {
        TriggerCaptureConfig {
            batch_size: 1000,
            poll_interval: Duration::from_millis(20),
            idle: Duration::from_millis(100),
            gap_timeout: Duration::from_secs(1),
            lock_wait_seconds: 1,
            mark_every: Duration::from_secs(1),
            retention: Duration::from_secs(7 * 24 * 3600),
            purge_every: Duration::from_secs(600),
        }
    }
}

/// Starts trigger streams on a source.
#[derive(Debug, Clone)]
pub struct TriggerCapture {
    opts: Opts,
    config: TriggerCaptureConfig,
}

impl TriggerCapture {
    pub fn new(opts: Opts, config: TriggerCaptureConfig) -> Self {
        TriggerCapture { opts, config }
    }

    async fn connect(&self) -> Result<Conn> {
        let mut conn = session::connect(self.opts.clone(), "the source").await?;
        for setup in [
            "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED".to_owned(),
            format!(
                "SET SESSION innodb_lock_wait_timeout = {}",
                self.config.lock_wait_seconds.max(1)
            ),
        ] {
            conn.query_drop(&setup)
                .await
                .map_err(|e| driver_error("setting up the trigger capture's session", e))?;
        }
        Ok(conn)
    }
}

/// Entries read at a time when settling the start position.
const SETTLE_CHUNK: usize = 10_000;

impl Capture for TriggerCapture {
    type Stream = TriggerChanges;

    /// New tables start where the earliest table is, if any, so that one stream serves
    /// all. Otherwise at the highest id now, once every entry up to it has settled:
    /// an entry below it whose transaction is still open would otherwise be behind the
    /// stream and, if it commits after the copy reads its row, lost.
    async fn start_position(
        &mut self,
        table: &TableSchema,
        checkpoints: &HashMap<TableName, Checkpoint>,
    ) -> Result<Position> {
        if let Some(earliest) = earliest_position(checkpoints) {
            return Ok(earliest.clone());
        }
        let log = AuditLog::new(&table.name.schema);
        let mut conn = self.connect().await?;
        let highest = log.highest_id(&mut conn).await?;
        // Every entry below a synced one had settled when it was consumed.
        let mut after = log.synced_id(&mut conn).await?;
        // Ids below `highest` were handed out before it was read; after this, each is
        // inserted or never will be (the module's documentation, step 3).
        tokio::time::sleep(self.config.gap_timeout).await;
        while after < highest {
            let Some(entries) = log
                .read_settled(&mut conn, after, highest, SETTLE_CHUNK)
                .await?
            else {
                return Err(Error::new(
                    ErrorKind::Retryable,
                    format!(
                        "a transaction that wrote {}.sync_audit_log stays open, so the stream cannot start yet",
                        log.database()
                    ),
                ));
            };
            match entries.last() {
                Some(last) if entries.len() == SETTLE_CHUNK => after = last.id,
                _ => break,
            }
        }
        let _ = conn.disconnect().await;
        Ok(Position::AuditLog { id: highest })
    }

    async fn stream(
        &mut self,
        tables: Vec<Arc<TableSchema>>,
        from: Position,
    ) -> Result<TriggerChanges> {
        let Position::AuditLog { id: from } = from else {
            return Err(Error::new(
                ErrorKind::InvalidData,
                format!(
                    "the checkpoint holds {from}, which is not a position in the trigger audit log; was the pair's capture changed?"
                ),
            ));
        };
        let Some(database) = tables.first().map(|t| t.name.schema.clone()) else {
            return Err(Error::new(
                ErrorKind::Config,
                "the trigger capture was given no table to follow",
            ));
        };
        let log = AuditLog::new(&database);
        let mut tracked = HashMap::new();
        for table in tables {
            if table.name.schema != database {
                return Err(Error::new(
                    ErrorKind::Config,
                    format!("is not in database `{database}`, whose audit log the stream reads"),
                )
                .with_table(table.name.clone()));
            }
            tracked.insert(table.name.name.clone(), TrackedTable::new(&log, table)?);
        }
        Ok(TriggerChanges {
            conn: self.connect().await?,
            log,
            tables: tracked,
            config: self.config,
            read: from,
            position: from,
            queue: VecDeque::new(),
            hold: None,
            marked: None,
            purged: None,
        })
    }
}

/// The audit log read as a stream of changes.
#[derive(Debug)]
pub struct TriggerChanges {
    conn: Conn,
    log: AuditLog,
    tables: HashMap<String, TrackedTable>,
    config: TriggerCaptureConfig,
    /// The entries up to this id are read: their items are queued or yielded.
    read: u64,
    /// The id of the last commit yielded.
    position: u64,
    queue: VecDeque<StreamItem>,
    hold: Option<Hold>,
    marked: Option<Instant>,
    purged: Option<Instant>,
}

/// Ids are missing below `upto`, the highest id seen `since`.
#[derive(Debug, Clone, Copy)]
struct Hold {
    upto: u64,
    since: Instant,
}

impl ChangeStream for TriggerChanges {
    async fn next(&mut self) -> Result<Option<StreamItem>> {
        let started = Instant::now();
        loop {
            if let Some(item) = self.queue.pop_front() {
                if let StreamItem::Commit {
                    position: Position::AuditLog { id },
                    ..
                } = &item
                {
                    self.position = *id;
                }
                return Ok(Some(item));
            }
            if !self.read_batch().await? {
                if started.elapsed() >= self.config.idle {
                    return Ok(None);
                }
                tokio::time::sleep(self.config.poll_interval).await;
            }
        }
    }

    fn position(&self) -> Position {
        Position::AuditLog { id: self.position }
    }

    /// Marks the consumed entries synced, and now and then purges old synced ones. The
    /// target's checkpoints, not `synced`, say where the stream resumes.
    async fn committed(&mut self, position: &Position) -> Result<()> {
        let &Position::AuditLog { id } = position else {
            return Ok(());
        };
        let due =
            |last: Option<Instant>, every: Duration| last.is_none_or(|t| t.elapsed() >= every);
        if due(self.marked, self.config.mark_every) {
            self.log.mark_synced(&mut self.conn, id).await?;
            self.marked = Some(Instant::now());
        }
        if due(self.purged, self.config.purge_every) {
            self.log
                .purge(&mut self.conn, self.config.retention)
                .await?;
            self.purged = Some(Instant::now());
        }
        Ok(())
    }
}

impl TriggerChanges {
    /// Reads the next batch of entries that is safe to take (the module's
    /// documentation) and queues its items; whether there was one.
    async fn read_batch(&mut self) -> Result<bool> {
        let after = self.read;
        let batch = self.config.batch_size.max(1);
        let mut entries = self.log.read_after(&mut self.conn, after, batch).await?;
        let Some(last) = entries.last() else {
            return Ok(false);
        };
        let consecutive = entries
            .iter()
            .zip(after + 1..)
            .take_while(|(entry, id)| entry.id == *id)
            .count();
        if consecutive < entries.len() && self.hold.is_none() {
            self.hold = Some(Hold {
                upto: last.id,
                since: Instant::now(),
            });
        }
        entries.truncate(consecutive);
        let mut end = entries.last().map_or(after, |e| e.id);
        let ripe = self
            .hold
            .filter(|h| h.since.elapsed() >= self.config.gap_timeout);
        if let Some(hold) = ripe
            && let Some(settled) = self
                .log
                .read_settled(&mut self.conn, after, hold.upto, batch)
                .await?
        {
            end = match settled.last() {
                Some(last) if settled.len() == batch => last.id,
                _ => hold.upto,
            };
            entries = settled;
        }
        if self.hold.is_some_and(|h| h.upto <= end) {
            self.hold = None;
        }
        if end == after {
            return Ok(false);
        }
        self.queue_changes(after, end, &entries).await?;
        self.read = end;
        Ok(true)
    }

    /// Queues the changes of `entries`, all the entries in `(after, end]`, and the
    /// commit at `end`.
    async fn queue_changes(&mut self, after: u64, end: u64, entries: &[Entry]) -> Result<()> {
        let names: BTreeSet<&str> = entries.iter().map(|e| e.table_name.as_str()).collect();
        let mut changes = Vec::new();
        for name in names {
            // Entries of tables the pair does not sync are passed over.
            let Some(table) = self.tables.get(name) else {
                continue;
            };
            match table.changes(&mut self.conn, after, end).await {
                Ok(table_changes) => changes.extend(table_changes),
                Err(error) => {
                    if !error.is_transient() {
                        let message = error.to_string();
                        self.log
                            .record_error(&mut self.conn, name, after, end, &message)
                            .await?;
                    }
                    return Err(error);
                }
            }
        }
        if !changes.is_empty() {
            self.queue.push_back(StreamItem::Changes(changes));
        }
        let commit_time = entries
            .last()
            .map_or_else(Utc::now, |e| Utc.from_utc_datetime(&e.created_at));
        self.queue.push_back(StreamItem::Commit {
            position: Position::AuditLog { id: end },
            commit_time,
        });
        Ok(())
    }
}

/// A table the stream follows, with the query that reads the current rows of the keys
/// its entries name.
#[derive(Debug)]
struct TrackedTable {
    schema: Arc<TableSchema>,
    /// Positions of the key columns in a row.
    key: Vec<usize>,
    /// Per distinct `record_id` in a range of entries: the key it holds, then the row
    /// with that key, all NULL when there is none.
    query: String,
}

impl TrackedTable {
    fn new(log: &AuditLog, schema: Arc<TableSchema>) -> Result<TrackedTable> {
        let (record_id, key) = RecordId::of(&schema)?;
        let mut select = record_id.decode("a.record_id");
        select.extend(
            schema
                .columns
                .iter()
                .map(|c| format!("t.{}", quote(&c.name))),
        );
        let query = format!(
            "SELECT {} FROM (SELECT DISTINCT record_id FROM {} WHERE id > ? AND id <= ? AND table_name = ?) a \
             LEFT JOIN {}.{} t ON {}",
            select.join(", "),
            log.table(),
            quote(&schema.name.schema),
            quote(&schema.name.name),
            record_id.matches("t", "a.record_id"),
        );
        Ok(TrackedTable { schema, key, query })
    }

    /// The changes of the rows named by the table's entries in `(after, end]`: an
    /// upsert of each row that exists, a delete of each key that no longer does.
    async fn changes(&self, conn: &mut Conn, after: u64, end: u64) -> Result<Vec<Change>> {
        let name = &self.schema.name;
        let rows: Vec<mysql_async::Row> = conn
            .exec(&self.query, (after, end, &name.name))
            .await
            .map_err(|e| {
                driver_error(&format!("reading the changed rows of {name}"), e)
                    .with_table(name.clone())
            })?;
        let columns = &self.schema.columns;
        rows.into_iter()
            .map(|row| {
                let mut wire = row.unwrap().into_iter();
                let key = self
                    .key
                    .iter()
                    .zip(wire.by_ref())
                    .map(|(&i, value)| from_wire(&columns[i], value))
                    .collect::<Result<Vec<Value>>>()?;
                let row = wire
                    .zip(columns)
                    .map(|(value, column)| from_wire(column, value))
                    .collect::<Result<Row>>()?;
                Ok(self.change(key, row))
            })
            .collect::<Result<Vec<_>>>()
            .map_err(|e| e.with_table(name.clone()))
    }

    /// The change that brings the target's row of `key` to `row`, the source's row
    /// found for it (all NULL when there is none).
    ///
    /// A row found whose key is not exactly `key` matched it only in the collation
    /// (letter case, trailing spaces): the row of `key` itself is gone. A delete's
    /// before image holds only the key, which is all that a delete applies.
    fn change(&self, key: Vec<Value>, row: Row) -> Change {
        let found = self.key.iter().map(|&i| &row[i]).eq(key.iter());
        let op = if found {
            ChangeOp::Insert { after: row }
        } else {
            let mut before = vec![Value::Null; row.len()];
            for (&i, value) in self.key.iter().zip(key) {
                before[i] = value;
            }
            ChangeOp::Delete { before }
        };
        Change {
            table: Arc::clone(&self.schema),
            op,
        }
    }
}
