//! How a pair follows its source's changes.

use std::collections::HashMap;
use std::sync::Arc;

use dbsync_core::pipeline::{Capture, ChangeStream};
use dbsync_core::{Checkpoint, Position, Result, StreamItem, TableName, TableSchema};
use dbsync_mysql::capture::{BinlogCapture, BinlogChanges};
use dbsync_mysql::trigger_capture::{TriggerCapture, TriggerChanges};

#[derive(Debug)]
pub(crate) enum AnyCapture {
    Binlog(BinlogCapture),
    Triggers(TriggerCapture),
}

/// Streams are large and differ in size; there are a few per pair, so they are boxed
/// at no cost.
#[derive(Debug)]
pub(crate) enum AnyStream {
    Binlog(Box<BinlogChanges>),
    Triggers(Box<TriggerChanges>),
}

impl Capture for AnyCapture {
    type Stream = AnyStream;

    async fn start_position(
        &mut self,
        table: &TableSchema,
        checkpoints: &HashMap<TableName, Checkpoint>,
    ) -> Result<Position> {
        match self {
            AnyCapture::Binlog(capture) => capture.start_position(table, checkpoints).await,
            AnyCapture::Triggers(capture) => capture.start_position(table, checkpoints).await,
        }
    }

    async fn stream(&mut self, tables: Vec<Arc<TableSchema>>, from: Position) -> Result<AnyStream> {
        match self {
            AnyCapture::Binlog(capture) => capture
                .stream(tables, from)
                .await
                .map(|stream| AnyStream::Binlog(Box::new(stream))),
            AnyCapture::Triggers(capture) => capture
                .stream(tables, from)
                .await
                .map(|stream| AnyStream::Triggers(Box::new(stream))),
        }
    }
}

impl ChangeStream for AnyStream {
    async fn next(&mut self) -> Result<Option<StreamItem>> {
        match self {
            AnyStream::Binlog(stream) => stream.next().await,
            AnyStream::Triggers(stream) => stream.next().await,
        }
    }

    fn position(&self) -> Position {
        match self {
            AnyStream::Binlog(stream) => stream.position(),
            AnyStream::Triggers(stream) => stream.position(),
        }
    }

    async fn committed(&mut self, position: &Position) -> Result<()> {
        match self {
            AnyStream::Binlog(stream) => stream.committed(position).await,
            AnyStream::Triggers(stream) => stream.committed(position).await,
        }
    }
}
