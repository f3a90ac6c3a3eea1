//! What the tests share: scratch directories, a MariaDB database copied into a SQLite
//! file by the real pipeline, and the comparison of the two.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use dbsync_core::pipeline::{
    BatchLimits, Capture, CopyOptions, Source, StreamEnd, Target, copy_tables, stream_changes,
};
use dbsync_core::{Checkpoint, TableName, TableSchema, Value};
use dbsync_mysql::binlog::BinlogConfig;
use dbsync_mysql::capture::BinlogCapture;
use dbsync_mysql::source::MysqlSource;
use dbsync_sqlite::reader::read_as_source;
use dbsync_sqlite::target_table::TargetTable;
use dbsync_sqlite::target_type::MappingOptions;
use dbsync_sqlite::writer::Writer;

static NEXT: AtomicU32 = AtomicU32::new(0);

/// A directory of its own for one test, removed with everything in it at the end.
#[derive(Debug)]
pub(crate) struct Scratch(PathBuf);

impl Scratch {
    pub(crate) fn new(hint: &str) -> Scratch {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("dbsync-sqlite-{}-{n}-{hint}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }

    /// The names of the entries in the directory, sorted.
    pub(crate) fn entries(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A MariaDB database synced into a SQLite file as the binary does it: plan, prepare,
/// copy with two lanes, then stream.
pub(crate) struct Synced {
    pub(crate) database: String,
    pub(crate) path: PathBuf,
    pub(crate) tables: Vec<Arc<TableSchema>>,
    pub(crate) targets: HashMap<TableName, TargetTable>,
    pub(crate) checkpoints: HashMap<TableName, Checkpoint>,
    writer: Writer,
    capture: BinlogCapture,
}

fn source_options(database: &str) -> mysql_async::Opts {
    dbsync_mysql::session::options_from_url(&dbsync_testkit::mariadb().url(database)).unwrap()
}

/// Each test's stream its own replica id, so that streams of tests running at once
/// do not end each other's.
fn server_id() -> u32 {
    1_500_000_000 + (std::process::id() % 100_000) * 100 + NEXT.fetch_add(1, Ordering::Relaxed)
}

async fn open_writer(
    path: &Path,
    tables: &[Arc<TableSchema>],
    rename: &dyn Fn(&str) -> String,
) -> Writer {
    let mut writer = Writer::open(path, "edge", MappingOptions::default())
        .await
        .unwrap();
    for table in tables {
        writer.rename(&table.name.name, &rename(&table.name.name));
        writer.plan_table(table).unwrap();
    }
    writer
}

impl Synced {
    /// Copies every table of `database` into `path`, naming each target `rename(name)`.
    pub(crate) async fn copy(
        database: &str,
        path: &Path,
        rename: &dyn Fn(&str) -> String,
    ) -> Synced {
        let mut source = MysqlSource::connect(source_options(database))
            .await
            .unwrap();
        let tables: Vec<Arc<TableSchema>> =
            dbsync_mysql::schema::read_tables(source.conn(), database)
                .await
                .unwrap()
                .into_iter()
                .map(Arc::new)
                .collect();
        let mut writer = open_writer(path, &tables, rename).await;
        let mut targets = HashMap::new();
        for table in &tables {
            writer.prepare_table(table).await.unwrap();
            targets.insert(table.name.clone(), writer.plan_table(table).unwrap());
        }
        let mut checkpoints: HashMap<TableName, Checkpoint> =
            writer.checkpoints().await.unwrap().into_iter().collect();
        let second = (
            MysqlSource::connect(source_options(database))
                .await
                .unwrap(),
            open_writer(path, &tables, rename).await,
        );
        let config = BinlogConfig {
            heartbeat: Duration::from_secs(1),
            ..BinlogConfig::new(server_id())
        };
        let mut capture =
            BinlogCapture::new(source_options(database), config, Duration::from_millis(20));
        let options = CopyOptions {
            rows_per_chunk: 700,
        };
        let mut lanes = copy_tables(
            vec![(source, writer), second],
            &mut capture,
            &tables,
            &mut checkpoints,
            options,
        )
        .await
        .unwrap();
        let (_, writer) = lanes.pop().unwrap();
        Synced {
            database: database.to_owned(),
            path: path.to_owned(),
            tables,
            targets,
            checkpoints,
            writer,
            capture,
        }
    }

    /// Streams the source's changes up to now into the file.
    pub(crate) async fn catch_up(&mut self) {
        let now = self
            .capture
            .start_position(&self.tables[0], &HashMap::new())
            .await
            .unwrap();
        let from = dbsync_core::pipeline::earliest_position(&self.checkpoints)
            .unwrap()
            .clone();
        let mut stream = self
            .capture
            .stream(self.tables.clone(), from)
            .await
            .unwrap();
        let end = stream_changes(
            &mut stream,
            &mut self.writer,
            &mut self.checkpoints,
            BatchLimits::default(),
            Some(now),
            std::future::pending(),
        )
        .await
        .unwrap();
        assert_eq!(end, StreamEnd::CaughtUp);
    }

    /// Asserts that every table of the file holds, value by value, what the source
    /// table holds (a zero date reads back as NULL, as the default policy stores it).
    pub(crate) async fn assert_converged(&self) {
        let mut source = MysqlSource::connect(source_options(&self.database))
            .await
            .unwrap();
        for table in &self.tables {
            let expected: Vec<Vec<Value>> = source
                .read_chunk(table, None, 1_000_000)
                .await
                .unwrap()
                .into_iter()
                .map(|row| {
                    row.into_iter()
                        .map(|value| match value {
                            Value::ZeroDate => Value::Null,
                            value => value,
                        })
                        .collect()
                })
                .collect();
            let actual = read_as_source(&self.path, &self.targets[&table.name], table)
                .await
                .unwrap();
            assert_eq!(actual.len(), expected.len(), "rows of {}", table.name);
            for (actual, expected) in actual.iter().zip(&expected) {
                assert_eq!(actual, expected, "a row of {}", table.name);
            }
        }
    }
}
