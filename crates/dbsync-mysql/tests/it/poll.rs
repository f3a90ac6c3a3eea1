//! Poll capture of MariaDB tables into PostgreSQL: by a microsecond DATETIME, by a
//! whole-second TIMESTAMP ON UPDATE with a latin1 case-insensitive key, and by an
//! auto-increment id; converging value by value through inserts and updates while the
//! poller is stopped and restarted from the target's checkpoints.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use dbsync_config::IdentifierCase;
use dbsync_core::pipeline::poll::{PollBy, PollColumns, PollTable, poll_tables};
use dbsync_core::pipeline::{BatchLimits, CopyOptions, Source, StreamEnd, Target, copy_tables};
use dbsync_core::{Checkpoint, Position, Row, TableName, TableSchema};
use dbsync_mysql::poll::{MysqlPollSource, PollCapture};
use dbsync_mysql::source::MysqlSource;
use dbsync_postgres::target_type::MappingOptions;
use dbsync_postgres::writer::Writer;
use mysql_async::Opts;
use tokio::sync::oneshot;

struct Pair {
    source: String,
    target: String,
    tables: Vec<Arc<TableSchema>>,
}

impl Pair {
    fn opts(&self) -> Opts {
        dbsync_mysql::session::options_from_url(&dbsync_testkit::mariadb().url(&self.source))
            .unwrap()
    }

    fn target_config(&self) -> tokio_postgres::Config {
        dbsync_testkit::postgres()
            .url(&self.target)
            .parse()
            .unwrap()
    }

    fn execute(&self, sql: &str) {
        dbsync_testkit::mariadb()
            .execute(Some(&self.source), sql)
            .unwrap();
    }

    fn capture(&self) -> PollCapture {
        let settings = self
            .tables
            .iter()
            .map(|table| {
                let columns = PollColumns::choose(table, None, None).unwrap();
                let mut settings = PollTable::new(columns, Duration::from_millis(50));
                settings.rows_per_poll = 50;
                (table.name.clone(), settings)
            })
            .collect();
        PollCapture::new(MysqlPollSource::new(self.opts()), settings)
    }

    async fn writer(&self) -> Writer {
        let mut writer = Writer::connect(
            &self.target_config(),
            "shop",
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

    /// Every table of the target reads back equal to the source's, value by value.
    async fn assert_converged(&self) {
        let mut source = MysqlSource::connect(self.opts()).await.unwrap();
        let mut writer = self.writer().await;
        let (client, connection) = self
            .target_config()
            .connect(tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        for table in &self.tables {
            let expected: Vec<Row> = source.read_chunk(table, None, 100_000).await.unwrap();
            let target = writer.plan_table(table).unwrap();
            let mut actual = dbsync_postgres::reader::read_as_source(&client, &target, table)
                .await
                .unwrap();
            // The target orders text keys by its own collation; compare as sets.
            actual.sort_by_key(|row| format!("{row:?}"));
            let mut expected = expected;
            expected.sort_by_key(|row| format!("{row:?}"));
            assert_eq!(actual.len(), expected.len(), "rows of {}", table.name);
            for (actual, expected) in actual.iter().zip(&expected) {
                assert_eq!(actual, expected, "a row of {}", table.name);
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_converges_into_postgres_by_polling_under_writes_and_restarts() {
    let mariadb = dbsync_testkit::mariadb();
    let source = mariadb.create_database("poll").unwrap();
    mariadb
        .execute(
            Some(&source),
            "CREATE TABLE items (
               id INT AUTO_INCREMENT PRIMARY KEY,
               name VARCHAR(100) NOT NULL,
               qty INT NOT NULL,
               updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6)
             );
             CREATE TABLE tags (
               code VARCHAR(20) CHARACTER SET latin1 COLLATE latin1_swedish_ci PRIMARY KEY,
               label VARCHAR(100) NOT NULL,
               updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP
             );
             CREATE TABLE events (
               id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
               payload VARCHAR(100) NOT NULL
             );
             INSERT INTO items (name, qty) SELECT CONCAT('item ', seq), seq FROM seq_1_to_500;
             INSERT INTO tags (code, label) VALUES ('a', 'a'), ('B', 'B'), ('é', 'é'), ('€', '€'), ('z', 'z');
             INSERT INTO events (payload) SELECT CONCAT('event ', seq) FROM seq_1_to_100;",
        )
        .unwrap();
    let mut conn = dbsync_mysql::session::connect(
        dbsync_mysql::session::options_from_url(&mariadb.url(&source)).unwrap(),
        "the test MariaDB",
    )
    .await
    .unwrap();
    let tables: Vec<Arc<TableSchema>> = dbsync_mysql::schema::read_tables(&mut conn, &source)
        .await
        .unwrap()
        .into_iter()
        .map(Arc::new)
        .collect();
    let pair = Arc::new(Pair {
        target: dbsync_testkit::postgres()
            .create_database("poll_from_mariadb")
            .unwrap(),
        source,
        tables,
    });
    let by: Vec<PollBy> = pair
        .tables
        .iter()
        .map(|t| PollColumns::choose(t, None, None).unwrap().by())
        .collect();
    assert_eq!(
        by,
        [PollBy::Id, PollBy::Timestamp, PollBy::Timestamp],
        "events, items, tags"
    );

    let lane = (
        MysqlSource::connect(pair.opts()).await.unwrap(),
        pair.writer().await,
    );
    copy_tables(
        vec![lane],
        &mut pair.capture(),
        &pair.tables,
        &mut HashMap::new(),
        CopyOptions::default(),
    )
    .await
    .unwrap();

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
    // Every item updated to one microsecond in two transactions, then single rows,
    // each key lower than the one before, several in each second of `tags`.
    pair.execute(
        "SET @at = NOW(6);
         UPDATE items SET qty = qty + 1000, updated_at = @at WHERE id % 2 = 0;
         UPDATE items SET qty = qty + 1000, updated_at = @at WHERE id % 2 = 1;",
    );
    let codes = ["z", "é", "€", "B", "a"];
    for round in 0..4 {
        for code in codes {
            pair.execute(&format!(
                "UPDATE tags SET label = CONCAT(label, ' {round}') WHERE code = '{code}';
                 UPDATE items SET name = CONCAT(name, ' {round}') WHERE id = {};
                 INSERT INTO events (payload) VALUES ('during {round} {code}');",
                500 - round * 10
            ));
            tokio::time::sleep(Duration::from_millis(40)).await;
        }
    }
    pair.execute(
        "INSERT INTO items (name, qty) SELECT CONCAT('new ', seq), seq FROM seq_1_to_200;
         INSERT INTO tags (code, label) VALUES ('c ', 'with a space'), ('Ä', 'Ä');
         INSERT INTO events (payload) SELECT CONCAT('late ', seq) FROM seq_1_to_200;",
    );
    let _ = done.send(());
    poller.await.unwrap();

    let end = pair
        .poll(Some(&mut HashMap::new()), std::future::pending())
        .await;
    assert_eq!(end, StreamEnd::CaughtUp);
    pair.assert_converged().await;
}
