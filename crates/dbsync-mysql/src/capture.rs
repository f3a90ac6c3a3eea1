//! MySQL/MariaDB binlog capture as the pipeline sees it.

use std::sync::Arc;
use std::time::Duration;

use dbsync_core::pipeline::{Capture, ChangeStream};
use dbsync_core::{Error, ErrorKind, Position, Result, StreamItem, TableSchema};
use mysql_async::Opts;

use crate::binlog::{BinlogConfig, BinlogStream};

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
