use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use crate::change::Row;
use crate::checkpoint::{Checkpoint, CopyProgress};
use crate::error::{Error, ErrorKind, Result};
use crate::pipeline::{Capture, Source, Target};
use crate::table_schema::{TableName, TableSchema};
use crate::value::Value;

/// How often the copy of a table logs its progress.
const PROGRESS_INTERVAL: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, Copy)]
pub struct CopyOptions {
    pub rows_per_chunk: usize,
}

impl Default for CopyOptions {
    fn default() -> Self {
        CopyOptions {
            rows_per_chunk: 10_000,
        }
    }
}

/// Copies every table whose checkpoint does not say it is done, each from where its
/// checkpoint left it, leaves the new checkpoints in `checkpoints`, and gives the
/// lanes back.
///
/// A lane is a source connection and a target connection; each copies one table at a
/// time, taking the next one no lane has taken, so several tables are copied at once.
/// Within a lane the source reads in a task of its own while the target writes, so
/// decoding one chunk and encoding the previous one use two cores.
///
/// A table seen for the first time starts its checkpoint at the position `capture`
/// gives for it before any chunk is read, so the stream that follows replays every
/// change the copy may have missed.
pub async fn copy_tables<S: Source + 'static, T: Target + 'static, C: Capture>(
    lanes: Vec<(S, T)>,
    capture: &mut C,
    tables: &[Arc<TableSchema>],
    checkpoints: &mut HashMap<TableName, Checkpoint>,
    options: CopyOptions,
) -> Result<Vec<(S, T)>> {
    if lanes.is_empty() {
        return Err(Error::new(
            ErrorKind::Config,
            "the copy needs at least one worker",
        ));
    }
    // The checkpoints so far and those of the tables about to start, which a capture
    // may start the next table from.
    let mut known = checkpoints.clone();
    let mut queue = VecDeque::new();
    for table in tables {
        let checkpoint = match known.get(&table.name) {
            Some(Checkpoint {
                copy: CopyProgress::Done { .. },
                ..
            }) => continue,
            Some(checkpoint) => checkpoint.clone(),
            None => {
                let checkpoint = Checkpoint {
                    copy: CopyProgress::Copying {
                        after: None,
                        rows: 0,
                    },
                    position: capture.start_position(table, &known).await?,
                };
                known.insert(table.name.clone(), checkpoint.clone());
                checkpoint
            }
        };
        queue.push_back((Arc::clone(table), checkpoint));
    }
    let queue = Arc::new(Mutex::new(queue));
    let workers: Vec<_> = lanes
        .into_iter()
        .map(|(mut source, mut target)| {
            let queue = Arc::clone(&queue);
            tokio::spawn(async move {
                let mut done = Vec::new();
                loop {
                    let next = queue.lock().map_or(None, |mut queue| queue.pop_front());
                    let Some((table, checkpoint)) = next else {
                        break;
                    };
                    let (checkpoint, returned) =
                        copy_table(source, &mut target, &table, checkpoint, options).await?;
                    source = returned;
                    done.push((table.name.clone(), checkpoint));
                }
                Ok::<_, Error>(((source, target), done))
            })
        })
        .collect();
    let mut lanes = Vec::with_capacity(workers.len());
    let mut first_error = None;
    for worker in workers {
        match worker.await {
            Ok(Ok((lane, done))) => {
                lanes.push(lane);
                checkpoints.extend(done);
            }
            Ok(Err(error)) => {
                first_error.get_or_insert(error);
            }
            Err(panic) => {
                first_error.get_or_insert(Error::new(
                    ErrorKind::Io,
                    format!("a copy worker failed: {panic}"),
                ));
            }
        }
    }
    match first_error {
        Some(error) => Err(error),
        None => Ok(lanes),
    }
}

async fn copy_table<S: Source + 'static, T: Target>(
    mut source: S,
    target: &mut T,
    table: &Arc<TableSchema>,
    mut checkpoint: Checkpoint,
    options: CopyOptions,
) -> Result<(Checkpoint, S)> {
    let started = Instant::now();
    let (after, mut rows) = match &checkpoint.copy {
        CopyProgress::Copying { after, rows } => (after.clone(), *rows),
        CopyProgress::Done { .. } => return Ok((checkpoint, source)),
    };
    let resumed_at = rows;
    // InnoDB's estimate can be off by a good part either way: it only feeds the ETA.
    let estimate = source.estimated_rows(table).await.ok().flatten();
    let mut reported = Instant::now();
    let key = key_positions(table);
    let limit = options.rows_per_chunk;
    // One chunk waits in the channel while one is written and one is read: enough to
    // keep both sides busy, little enough to bound memory.
    let (chunks, mut received) = mpsc::channel::<Result<Vec<Row>>>(1);
    let reader = tokio::spawn(read_chunks(source, Arc::clone(table), after, limit, chunks));
    while let Some(chunk) = received.recv().await {
        let chunk = chunk?;
        let last = chunk.len() < limit;
        rows += chunk.len() as u64;
        let after = chunk
            .last()
            .map(|row| key.iter().map(|&i| row[i].clone()).collect());
        checkpoint.copy = match (last, after) {
            (true, _) => CopyProgress::Done { rows },
            (false, after) => CopyProgress::Copying { after, rows },
        };
        target.write_chunk(&table.name, &chunk, &checkpoint).await?;
        if reported.elapsed() >= PROGRESS_INTERVAL {
            reported = Instant::now();
            let rate = (rows - resumed_at) as f64 / started.elapsed().as_secs_f64().max(1e-9);
            let eta = estimate
                .filter(|&estimate| estimate > rows && rate > 0.0)
                .map(|estimate| format!("{:.0} s", (estimate - rows) as f64 / rate))
                .unwrap_or_else(|| "unknown".to_owned());
            tracing::info!(table = %table.name, rows, of_about = estimate, rate = rate as u64, eta, "copying");
        }
    }
    let source = reader
        .await
        .map_err(|e| Error::new(ErrorKind::Io, format!("the copy's reader failed: {e}")))?;
    let seconds = started.elapsed().as_secs_f64();
    tracing::info!(
        table = %table.name,
        rows,
        seconds,
        rate = ((rows - resumed_at) as f64 / seconds.max(1e-9)) as u64,
        "copied"
    );
    Ok((checkpoint, source))
}

/// Reads `table` chunk by chunk after `after` into `chunks` until the table ends, an
/// error is sent, or the writer hangs up; gives the source back.
async fn read_chunks<S: Source>(
    mut source: S,
    table: Arc<TableSchema>,
    mut after: Option<Vec<Value>>,
    limit: usize,
    chunks: mpsc::Sender<Result<Vec<Row>>>,
) -> S {
    let key = key_positions(&table);
    loop {
        let chunk = source.read_chunk(&table, after.as_deref(), limit).await;
        let last = chunk.as_ref().map_or(true, |chunk| chunk.len() < limit);
        if let Ok(Some(row)) = chunk.as_ref().map(|chunk| chunk.last()) {
            after = Some(key.iter().map(|&i| row[i].clone()).collect());
        }
        if chunks.send(chunk).await.is_err() || last {
            return source;
        }
    }
}

fn key_positions(table: &TableSchema) -> Vec<usize> {
    table
        .primary_key
        .iter()
        .filter_map(|name| table.columns.iter().position(|c| &c.name == name))
        .collect()
}
