use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use crate::checkpoint::Checkpoint;
use crate::error::{Error, ErrorKind, Result};
use crate::pipeline::poll::stream::{PollReader, PollStream};
use crate::pipeline::{BatchLimits, Capture, StreamEnd, Target, stream_changes};
use crate::position::Position;
use crate::table_schema::{TableName, TableSchema};

/// One polled table: its stream, its checkpoint alone (a poll cursor belongs to one
/// table and compares with no other table's), and where a `--once` run ends it.
struct Polled<R> {
    name: TableName,
    stream: PollStream<R>,
    checkpoints: HashMap<TableName, Checkpoint>,
    goal: Option<Position>,
}

impl<R> Polled<R> {
    fn position(&self) -> &Position {
        &self.checkpoints[&self.name].position
    }

    fn reached_goal(&self) -> bool {
        self.goal
            .as_ref()
            .is_some_and(|goal| self.position() >= goal)
    }
}

/// Applies the changes of polled `tables` to `target` until `stop` resolves or, when
/// `goals` is given, until every table has reached its goal: the highest cursor tuple
/// it had when the first run with these goals started (a table without one in `goals`
/// gets it now). Leaves the new checkpoints in `checkpoints`.
///
/// Each table has its own stream, from its own checkpoint, polled at its own
/// interval; one target connection serves them all, one table at a time: each due
/// poll is applied through [`stream_changes`] up to the cursor it reached, in batches
/// each written with the table's checkpoint.
pub async fn poll_tables<C, R, T>(
    capture: &mut C,
    target: &mut T,
    tables: &[Arc<TableSchema>],
    checkpoints: &mut HashMap<TableName, Checkpoint>,
    limits: BatchLimits,
    mut goals: Option<&mut HashMap<TableName, Position>>,
    stop: impl Future<Output = ()>,
) -> Result<StreamEnd>
where
    C: Capture<Stream = PollStream<R>>,
    R: PollReader,
    T: Target,
{
    tokio::pin!(stop);
    let mut polled = Vec::with_capacity(tables.len());
    for table in tables {
        let checkpoint = checkpoints.get(&table.name).cloned().ok_or_else(|| {
            Error::new(ErrorKind::InvalidData, "has no checkpoint after the copy")
                .with_table(table.name.clone())
        })?;
        let mut stream = capture
            .stream(vec![Arc::clone(table)], checkpoint.position.clone())
            .await?;
        let goal = match goals.as_deref_mut() {
            None => None,
            Some(goals) => Some(match goals.get(&table.name) {
                Some(goal) => goal.clone(),
                None => {
                    let head = stream.head().await?;
                    let goal = head.unwrap_or_else(|| checkpoint.position.clone());
                    goals.insert(table.name.clone(), goal.clone());
                    goal
                }
            }),
        };
        polled.push(Polled {
            name: table.name.clone(),
            stream,
            checkpoints: HashMap::from([(table.name.clone(), checkpoint)]),
            goal,
        });
    }
    loop {
        polled.retain(|table| !table.reached_goal());
        let Some(table) = polled.iter_mut().min_by_key(|table| table.stream.due()) else {
            return Ok(StreamEnd::CaughtUp);
        };
        let polled_to = tokio::select! {
            biased;
            () = &mut stop => return Ok(StreamEnd::Stopped),
            polled_to = async {
                tokio::time::sleep_until(table.stream.due()).await;
                table.stream.poll().await
            } => polled_to?,
        };
        if polled_to > *table.position() {
            let end = stream_changes(
                &mut table.stream,
                target,
                &mut table.checkpoints,
                limits,
                Some(polled_to),
                stop.as_mut(),
            )
            .await;
            checkpoints.insert(table.name.clone(), table.checkpoints[&table.name].clone());
            if end? == StreamEnd::Stopped {
                return Ok(StreamEnd::Stopped);
            }
        }
    }
}
