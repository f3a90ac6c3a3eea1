use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use crate::change::{Row, StreamItem};
use crate::checkpoint::Checkpoint;
use crate::error::Result;
use crate::position::Position;
use crate::table_schema::{TableName, TableSchema};
use crate::value::Value;

/// A database whose tables dbsync copies, in key-ordered chunks.
pub trait Source: Send {
    /// The server's estimate of the rows of `table`, for the copy's ETA; `None` when it
    /// has none.
    fn estimated_rows(
        &mut self,
        table: &TableSchema,
    ) -> impl Future<Output = Result<Option<u64>>> + Send;

    /// At most `limit` rows with a key greater than `after` (all rows when `None`), in
    /// key order. Fewer than `limit` rows means the table ends.
    fn read_chunk(
        &mut self,
        table: &Arc<TableSchema>,
        after: Option<&[Value]>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Row>>> + Send;
}

/// A way to follow a source's changes: its binlog, its logical replication, triggers,
/// polling.
pub trait Capture: Send {
    type Stream: ChangeStream;

    /// Where the stream of `table`, which has no checkpoint yet, is to start: a
    /// position taken now, before its copy reads anything, so that the stream replays
    /// whatever the copy misses. `checkpoints` holds the other tables': a capture whose
    /// one stream serves every table may start the new one where the earliest of them
    /// is, so that all resume from one point.
    fn start_position(
        &mut self,
        table: &TableSchema,
        checkpoints: &HashMap<TableName, Checkpoint>,
    ) -> impl Future<Output = Result<Position>> + Send;

    /// The changes to `tables` committed after `from`, in commit order.
    fn stream(
        &mut self,
        tables: Vec<Arc<TableSchema>>,
        from: Position,
    ) -> impl Future<Output = Result<Self::Stream>> + Send;
}

/// Changes as the source commits them.
pub trait ChangeStream: Send {
    /// The next item; `None` when nothing arrived for a while (the source is idle),
    /// so that the caller can flush what it holds and decide whether to go on.
    fn next(&mut self) -> impl Future<Output = Result<Option<StreamItem>>> + Send;

    /// The position just after the last transaction read whole, including transactions
    /// that touched no tracked table: how far the stream has caught up with the source.
    fn position(&self) -> Position;

    /// The target now holds every change up to `position`, with its checkpoint: a
    /// capture that keeps changes on the source until they are consumed (the trigger
    /// audit log, a replication slot) may let go of them. Called after each write that
    /// moves checkpoints, with the earliest of them.
    fn committed(&mut self, position: &Position) -> impl Future<Output = Result<()>> + Send {
        let _ = position;
        async { Ok(()) }
    }
}

/// The earliest of `checkpoints`' positions, if any: where one stream that serves all
/// their tables resumes so that no table misses a change.
pub fn earliest_position(checkpoints: &HashMap<TableName, Checkpoint>) -> Option<&Position> {
    checkpoints
        .values()
        .map(|c| &c.position)
        .reduce(|a, b| if b < a { b } else { a })
}
