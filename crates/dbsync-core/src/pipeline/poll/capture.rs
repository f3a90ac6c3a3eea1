use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use crate::checkpoint::Checkpoint;
use crate::error::{Error, ErrorKind, Result};
use crate::pipeline::Capture;
use crate::pipeline::poll::columns::PollColumns;
use crate::pipeline::poll::stream::{PollReader, PollStream, PollTable};
use crate::position::Position;
use crate::table_schema::{TableName, TableSchema};

/// An engine's way to open a [`PollReader`] on one table: a connection to the source.
pub trait PollSource: Send {
    type Reader: PollReader;

    fn reader(
        &mut self,
        table: Arc<TableSchema>,
        columns: &PollColumns,
    ) -> impl Future<Output = Result<Self::Reader>> + Send;
}

/// Poll capture of the tables of one source: each table's stream is its own, on its
/// own connection, from its own checkpoint.
#[derive(Debug)]
pub struct PollCapture<S> {
    source: S,
    tables: HashMap<TableName, PollTable>,
}

impl<S: PollSource> PollCapture<S> {
    /// Polls the `tables` of `source`, each as its [`PollTable`] says.
    pub fn new(source: S, tables: HashMap<TableName, PollTable>) -> Self {
        PollCapture { source, tables }
    }

    fn settings(&self, table: &TableName) -> Result<&PollTable> {
        self.tables.get(table).ok_or_else(|| {
            Error::new(
                ErrorKind::Config,
                "is not among the tables this poll capture was given",
            )
            .with_table(table.clone())
        })
    }
}

impl<S: PollSource> Capture for PollCapture<S> {
    type Stream = PollStream<S::Reader>;

    /// See [`PollTable::start_position`]: the table's own, whatever the others hold.
    async fn start_position(
        &mut self,
        table: &TableSchema,
        _checkpoints: &HashMap<TableName, Checkpoint>,
    ) -> Result<Position> {
        let settings = self.settings(&table.name)?.clone();
        let mut reader = self
            .source
            .reader(Arc::new(table.clone()), &settings.columns)
            .await?;
        Ok(settings.start_position(reader.head().await?))
    }

    /// The stream of the one table in `tables`.
    async fn stream(
        &mut self,
        tables: Vec<Arc<TableSchema>>,
        from: Position,
    ) -> Result<PollStream<S::Reader>> {
        let Ok([table]) = <[_; 1]>::try_from(tables) else {
            return Err(Error::new(
                ErrorKind::InvalidData,
                "a poll stream follows exactly one table",
            ));
        };
        let settings = self.settings(&table.name)?.clone();
        let reader = self
            .source
            .reader(Arc::clone(&table), &settings.columns)
            .await?;
        PollStream::new(reader, table, settings, from)
    }
}
