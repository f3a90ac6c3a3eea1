use std::future::Future;
use std::sync::Arc;

use crate::change::{Row, StreamItem};
use crate::error::Result;
use crate::position::Position;
use crate::table_schema::TableSchema;
use crate::value::Value;

/// A database whose tables dbsync copies, in key-ordered chunks.
pub trait Source: Send {
    /// A position from which a stream sees every change committed after now.
    fn current_position(&mut self) -> impl Future<Output = Result<Position>> + Send;

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
}
