//! Poll capture of PostgreSQL tables into a PostgreSQL target: the copy by `PgSource`,
//! then polls that converge value by value through inserts, updates, many rows sharing
//! one timestamp and rows written behind the cursor within one second, across stops
//! and restarts from the target's checkpoints.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use dbsync_config::IdentifierCase;
use dbsync_core::pipeline::poll::{PollColumns, PollTable, poll_tables};
use dbsync_core::pipeline::{BatchLimits, CopyOptions, StreamEnd, Target, copy_tables};
use dbsync_core::{Checkpoint, ErrorKind, Position, TableName, TableSchema};
use dbsync_postgres::poll::{PgPollSource, PollCapture};
use dbsync_postgres::source::PgSource;
use dbsync_postgres::target_type::MappingOptions;
use dbsync_postgres::writer::Writer;
use tokio::sync::oneshot;

use crate::source::{read_all, source_and_table};

/// The polled Chinook tables: one with a whole-second timestamp, one keyed by two
/// columns, one with microseconds.
const TABLES: [&str; 3] = ["track", "playlist_track", "invoice_line"];

struct Pair {
    source: String,
    target: String,
    tables: Vec<Arc<TableSchema>>,
}

impl Pair {
    /// Chinook with an `updated_at` on the polled tables, and an empty target.
    async fn chinook() -> Pair {
        let postgres = dbsync_testkit::postgres();
        let source = postgres.create_database("poll_source").unwrap();
        postgres
            .load(&source, dbsync_testkit::Dataset::ChinookPostgres)
            .unwrap();
        postgres
            .execute(
                &source,
                "ALTER TABLE track ADD COLUMN updated_at timestamptz(0) NOT NULL DEFAULT now();
                 ALTER TABLE playlist_track ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
                 ALTER TABLE invoice_line ADD COLUMN updated_at timestamptz DEFAULT now();",
            )
            .unwrap();
        let target = postgres.create_database("poll_target").unwrap();
        let mut tables = Vec::new();
        for name in TABLES {
            tables.push(source_and_table(&source, name).await.1);
        }
        Pair {
            source,
            target,
            tables,
        }
    }

    fn config(&self, database: &str) -> tokio_postgres::Config {
        dbsync_testkit::postgres().url(database).parse().unwrap()
    }

    fn capture(&self) -> PollCapture {
        let settings = self
            .tables
            .iter()
            .map(|table| {
                let columns = PollColumns::choose(table, None, None).unwrap();
                let mut settings = PollTable::new(columns, Duration::from_millis(50));
                // Small polls, so that one stops in the middle of rows sharing a timestamp.
                settings.rows_per_poll = 100;
                (table.name.clone(), settings)
            })
            .collect();
        PollCapture::new(PgPollSource::new(self.config(&self.source)), settings)
    }

    async fn writer(&self) -> Writer {
        let mut writer = Writer::connect(
            &self.config(&self.target),
            "chinook",
            "public",
            IdentifierCase::Lower,
            MappingOptions::default(),
        )
        .await
        .unwrap();
        for table in &self.tables {
            writer.prepare_table(table).await.unwrap();
        }
        writer
    }

    async fn copy(&self) {
        let lane = (
            PgSource::connect(&self.config(&self.source)).await.unwrap(),
            self.writer().await,
        );
        let mut checkpoints = HashMap::new();
        copy_tables(
            vec![lane],
            &mut self.capture(),
            &self.tables,
            &mut checkpoints,
            CopyOptions::default(),
        )
        .await
        .unwrap();
    }

    /// Polls from the target's checkpoints until `stop` resolves or, with `goals`,
    /// until every table reaches its goal.
    async fn poll(
        &self,
        goals: Option<&mut HashMap<TableName, Position>>,
        stop: impl Future<Output = ()>,
    ) -> StreamEnd {
        let mut writer = self.writer().await;
        let mut checkpoints: HashMap<TableName, Checkpoint> =
            writer.checkpoints().await.unwrap().into_iter().collect();
        poll_tables(
            &mut self.capture(),
            &mut writer,
            &self.tables,
            &mut checkpoints,
            BatchLimits::default(),
            goals,
            stop,
        )
        .await
        .unwrap()
    }

    /// Polls until every table has what it had when this was called.
    async fn catch_up(&self) {
        let end = self
            .poll(Some(&mut HashMap::new()), std::future::pending())
            .await;
        assert_eq!(end, StreamEnd::CaughtUp);
    }

    fn execute(&self, sql: &str) {
        dbsync_testkit::postgres()
            .execute(&self.source, sql)
            .unwrap();
    }

    /// Every polled table of the target reads back equal to the source's, value by value.
    async fn assert_converged(&self) {
        let (mut source, _) = source_and_table(&self.source, TABLES[0]).await;
        let mut writer = self.writer().await;
        let (client, connection) = self
            .config(&self.target)
            .connect(tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        for table in &self.tables {
            let expected = read_all(&mut source, table, 10_000).await;
            let target = writer.plan_table(table).unwrap();
            let actual = dbsync_postgres::reader::read_as_source(&client, &target, table)
                .await
                .unwrap();
            assert_eq!(actual.len(), expected.len(), "rows of {}", table.name);
            for (actual, expected) in actual.iter().zip(&expected) {
                assert_eq!(actual, expected, "a row of {}", table.name);
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chinook_converges_through_polls_stopped_and_restarted_under_writes() {
    let pair = Arc::new(Pair::chinook().await);
    pair.copy().await;

    // A poller runs on its own thread while the source is written, stopped and
    // restarted from the target's checkpoints every few hundred milliseconds.
    let (done, mut finished) = oneshot::channel::<()>();
    let poller = tokio::spawn({
        let pair = Arc::clone(&pair);
        async move {
            loop {
                let (stop, stopped) = oneshot::channel::<()>();
                let run = pair.poll(None, async {
                    let _ = stopped.await;
                });
                let timer = async {
                    tokio::time::sleep(Duration::from_millis(350)).await;
                    let _ = stop.send(());
                };
                let (end, ()) = tokio::join!(run, timer);
                assert_eq!(end, StreamEnd::Stopped);
                if finished.try_recv().is_ok() {
                    return;
                }
            }
        }
    });
    // 600 rows updated to one timestamp, the current second, in three transactions;
    // polls read 100 rows at a time.
    pair.execute(
        "CREATE TEMP TABLE now_second AS SELECT date_trunc('second', now()) AS at;
         BEGIN;
         UPDATE track SET name = name || ' (1)', updated_at = (SELECT at FROM now_second)
           WHERE track_id <= 1800 AND track_id % 3 = 0;
         COMMIT;
         BEGIN;
         UPDATE track SET name = name || ' (2)', updated_at = (SELECT at FROM now_second)
           WHERE track_id <= 1800 AND track_id % 3 = 1;
         COMMIT;
         UPDATE track SET name = name || ' (3)', updated_at = (SELECT at FROM now_second)
           WHERE track_id <= 1800 AND track_id % 3 = 2;",
    );
    // Rows written behind the last row of their second: each update has a lower key
    // than the one before, several per second of a whole-second column, with polls
    // in between.
    for i in 0..40 {
        pair.execute(&format!(
            "UPDATE track SET milliseconds = milliseconds + 1, updated_at = now() WHERE track_id = {};
             UPDATE invoice_line SET quantity = quantity + 1, updated_at = now() WHERE invoice_line_id = {};
             UPDATE playlist_track SET updated_at = now() WHERE playlist_id = 1 AND track_id = {};",
            3000 - i * 7,
            2240 - i * 3,
            3400 - i * 11,
        ));
        tokio::time::sleep(Duration::from_millis(60)).await;
    }
    // Inserts, including into the key of two columns.
    pair.execute(
        "INSERT INTO track (track_id, name, album_id, media_type_id, genre_id, milliseconds, unit_price)
           SELECT 4000 + n, 'new ' || n, 1, 1, 1, n, 0.99 FROM generate_series(1, 300) n;
         INSERT INTO playlist_track (playlist_id, track_id)
           SELECT 2, 4000 + n FROM generate_series(1, 300) n;
         INSERT INTO invoice_line (invoice_line_id, invoice_id, track_id, unit_price, quantity)
           SELECT 3000 + n, 1, 4000 + n, 0.99, 1 FROM generate_series(1, 300) n;",
    );
    let _ = done.send(());
    poller.await.unwrap();

    pair.catch_up().await;
    pair.assert_converged().await;
}

#[tokio::test]
async fn a_poll_table_without_the_named_column_is_one_sentence() {
    let pair = Pair::chinook().await;
    let genre = source_and_table(&pair.source, "genre").await.1;
    let error = PollColumns::choose(&genre, Some("modified_at"), None).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Config);
    assert_eq!(
        error.to_string(),
        "table public.genre: has no column `modified_at`, which its `timestamp_column` names; name one of its columns or add the column"
    );
    let error = PollColumns::choose(&genre, None, None).unwrap_err();
    assert_eq!(
        error.to_string(),
        "table public.genre: has neither an `updated_at` nor an `id` column to poll by; set `timestamp_column` or `id_column` for it in the pair's `tables`"
    );
}
