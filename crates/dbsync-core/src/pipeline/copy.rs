use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use crate::checkpoint::{Checkpoint, CopyProgress};
use crate::error::Result;
use crate::pipeline::{Source, Target};
use crate::table_schema::{TableName, TableSchema};

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
/// checkpoint left it, and leaves the new checkpoints in `checkpoints`.
///
/// A table seen for the first time starts its checkpoint at a source position taken
/// before its first chunk is read, so the stream that follows replays every change
/// the copy may have missed. While one chunk is written the next is read.
pub async fn copy_tables<S: Source, T: Target>(
    source: &mut S,
    target: &mut T,
    tables: &[Arc<TableSchema>],
    checkpoints: &mut HashMap<TableName, Checkpoint>,
    options: CopyOptions,
) -> Result<()> {
    let mut start = None;
    for table in tables {
        let checkpoint = match checkpoints.get(&table.name) {
            Some(Checkpoint {
                copy: CopyProgress::Done { .. },
                ..
            }) => continue,
            Some(checkpoint) => checkpoint.clone(),
            None => {
                let position = match &start {
                    Some(position) => Clone::clone(position),
                    None => start.insert(source.current_position().await?).clone(),
                };
                Checkpoint {
                    copy: CopyProgress::Copying {
                        after: None,
                        rows: 0,
                    },
                    position,
                }
            }
        };
        let done = copy_table(source, target, table, checkpoint, options).await?;
        checkpoints.insert(table.name.clone(), done);
    }
    Ok(())
}

async fn copy_table<S: Source, T: Target>(
    source: &mut S,
    target: &mut T,
    table: &Arc<TableSchema>,
    mut checkpoint: Checkpoint,
    options: CopyOptions,
) -> Result<Checkpoint> {
    let started = Instant::now();
    let (mut after, mut rows) = match checkpoint.copy {
        CopyProgress::Copying { after, rows } => (after, rows),
        CopyProgress::Done { .. } => return Ok(checkpoint),
    };
    let resumed_at = rows;
    let key: Vec<usize> = table
        .primary_key
        .iter()
        .filter_map(|name| table.columns.iter().position(|c| &c.name == name))
        .collect();
    let limit = options.rows_per_chunk;
    let mut chunk = source.read_chunk(table, after.as_deref(), limit).await?;
    loop {
        let last = chunk.len() < limit;
        rows += chunk.len() as u64;
        if let Some(row) = chunk.last() {
            after = Some(key.iter().map(|&i| row[i].clone()).collect());
        }
        checkpoint.copy = if last {
            CopyProgress::Done { rows }
        } else {
            CopyProgress::Copying {
                after: after.clone(),
                rows,
            }
        };
        if last {
            target.write_chunk(&table.name, &chunk, &checkpoint).await?;
            break;
        }
        let (written, next) = tokio::join!(
            target.write_chunk(&table.name, &chunk, &checkpoint),
            source.read_chunk(table, after.as_deref(), limit)
        );
        written?;
        chunk = next?;
        let copied = rows - resumed_at;
        tracing::info!(
            table = %table.name,
            rows,
            rate = (copied as f64 / started.elapsed().as_secs_f64()) as u64,
            "copying"
        );
    }
    let seconds = started.elapsed().as_secs_f64();
    tracing::info!(
        table = %table.name,
        rows,
        seconds,
        rate = ((rows - resumed_at) as f64 / seconds.max(1e-9)) as u64,
        "copied"
    );
    Ok(checkpoint)
}
