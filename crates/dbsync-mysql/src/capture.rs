//! MySQL/MariaDB binlog capture as the pipeline sees it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use dbsync_core::pipeline::{Capture, ChangeStream, earliest_position};
use dbsync_core::{
    Checkpoint, Error, ErrorKind, Position, Result, StreamItem, TableName, TableSchema,
};
use mysql_async::Opts;

use crate::binlog::{BinlogConfig, BinlogStream};
use crate::session;

/// Starts binlog streams on a source.
#[derive(Debug, Clone)]
pub struct BinlogCapture {
    opts: Opts,
    config: BinlogConfig,
    /// How long the stream may be silent before the pipeline hears of it, to flush
    /// what it holds.
    idle: Duration,
}

impl BinlogCapture {
    pub fn new(opts: Opts, config: BinlogConfig, idle: Duration) -> Self {
        BinlogCapture { opts, config, idle }
    }
}

impl Capture for BinlogCapture {
    type Stream = BinlogChanges;

    /// New tables start where the earliest table is, if any: that is before any of
    /// their chunks too, the stream reads from there anyway, and every table then
    /// resumes from the same point, so the stream need not sort out which of the
    /// transactions it reads again each table already holds.
    async fn start_position(
        &mut self,
        _table: &TableSchema,
        checkpoints: &HashMap<TableName, Checkpoint>,
    ) -> Result<Position> {
        if let Some(earliest) = earliest_position(checkpoints) {
            return Ok(earliest.clone());
        }
        let mut conn = session::connect(self.opts.clone(), "the source").await?;
        let position = crate::binlog::current_position(&mut conn).await?;
        let _ = conn.disconnect().await;
        Ok(Position::Binlog(position))
    }

    async fn stream(
        &mut self,
        tables: Vec<Arc<TableSchema>>,
        from: Position,
    ) -> Result<BinlogChanges> {
        let Position::Binlog(start) = from.clone() else {
            return Err(Error::new(
                ErrorKind::InvalidData,
                format!(
                    "the checkpoint holds {from}, which is not a binlog position; was the pair's source changed?"
                ),
            ));
        };
        let stream =
            BinlogStream::start(self.opts.clone(), self.config.clone(), tables, start).await?;
        Ok(BinlogChanges {
            stream,
            idle: self.idle,
            position: from,
        })
    }
}

/// A binlog stream with the position of its last commit.
#[derive(Debug)]
pub struct BinlogChanges {
    stream: BinlogStream,
    idle: Duration,
    position: Position,
}

impl ChangeStream for BinlogChanges {
    async fn next(&mut self) -> Result<Option<StreamItem>> {
        // Dropping the stream's future on timeout loses nothing (BinlogStream::next).
        match tokio::time::timeout(self.idle, self.stream.next()).await {
            Err(_) => Ok(None),
            Ok(item) => {
                let item = item?;
                if let StreamItem::Commit { position, .. } = &item {
                    self.position = position.clone();
                }
                Ok(Some(item))
            }
        }
    }

    fn position(&self) -> Position {
        self.position.clone()
    }
}
