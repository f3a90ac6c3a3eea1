//! Trigger capture against a real MariaDB, alone and through the pipeline into a real
//! PostgreSQL.

use std::collections::HashMap;
use std::future::pending;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dbsync_config::IdentifierCase;
use dbsync_core::pipeline::{
    BatchLimits, Capture, ChangeStream, CopyOptions, StreamEnd, Target, copy_tables,
    earliest_position, stream_changes,
};
use dbsync_core::{
    ChangeBatch, Checkpoint, Position, Row, StreamItem, TableName, TableSchema, Value,
};
use dbsync_mysql::snapshot::ChunkReader;
use dbsync_mysql::source::MysqlSource;
use dbsync_mysql::trigger_capture::{TriggerCapture, TriggerCaptureConfig};
use dbsync_postgres::target_table::TargetTable;
use dbsync_postgres::target_type::MappingOptions;
use dbsync_postgres::writer::Writer;
use dbsync_testkit::Dataset;
use mysql_async::prelude::Queryable;

use crate::triggers::{connect, install};

fn capture(database: &str) -> TriggerCapture {
    let opts =
        dbsync_mysql::session::options_from_url(&dbsync_testkit::mariadb().url(database)).unwrap();
    TriggerCapture::new(
        opts,
        TriggerCaptureConfig {
            gap_timeout: Duration::from_millis(300),
            idle: Duration::from_millis(50),
            poll_interval: Duration::from_millis(10),
            ..TriggerCaptureConfig::default()
        },
    )
}

/// Every row of `table`, in key order, as the copy reads it.
async fn read_rows(conn: &mut mysql_async::Conn, table: &Arc<TableSchema>) -> Vec<Row> {
    let reader = ChunkReader::new(Arc::clone(table), &table.primary_key, 1_000_000).unwrap();
    reader.read(conn, None).await.unwrap()
}

/// The stream's items until it is idle or has committed `until`.
async fn drain(stream: &mut impl ChangeStream, until: u64, wait: Duration) -> Vec<StreamItem> {
    let deadline = Instant::now() + wait;
    let mut items = Vec::new();
    while Instant::now() < deadline {
        match stream.next().await.unwrap() {
            Some(item) => {
                let done = matches!(&item, StreamItem::Commit { position: Position::AuditLog { id }, .. } if *id >= until);
                items.push(item);
                if done {
                    break;
                }
            }
            None => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    items
}

/// The final state of each key the items changed: (upserted rows, deleted keys).
fn final_states(items: Vec<StreamItem>) -> (Vec<Row>, Vec<Vec<Value>>) {
    let mut batch = ChangeBatch::new();
    for item in items {
        if let StreamItem::Changes(changes) = item {
            changes.into_iter().for_each(|c| batch.push(c));
        }
    }
    let mut upserts = Vec::new();
    let mut deletes = Vec::new();
    for table in batch.tables() {
        upserts.extend(table.upserts().cloned());
        deletes.extend(table.deletes().map(<[Value]>::to_vec));
    }
    (upserts, deletes)
}

#[tokio::test]
async fn keys_of_every_type_come_back_exactly() {
    let mariadb = dbsync_testkit::mariadb();
    let database = mariadb.create_database("trg_keys").unwrap();
    mariadb
        .execute(
            Some(&database),
            "CREATE TABLE k (
               u BIGINT UNSIGNED, d DECIMAL(65,30), dt DATETIME(6), ts TIMESTAMP(6) NOT NULL,
               bin VARBINARY(16), s VARCHAR(20) CHARACTER SET latin1 COLLATE latin1_swedish_ci,
               t VARCHAR(20) CHARACTER SET utf8mb4, tm TIME(6), b BIT(12), e ENUM('x','y'),
               y YEAR, dd DATE, v INT,
               PRIMARY KEY (u, d, dt, ts, bin, s, t, tm, b, e, y, dd))",
        )
        .unwrap();
    let tables = install(&database, &["k"]).await;
    let k = &tables[0];
    mariadb
        .execute(
            Some(&database),
            r#"SET time_zone = '+05:30';
            INSERT INTO k VALUES
              (18446744073709551615, 12345678901234567890123456789012345.123456789012345678901234567891,
               '9999-12-31 23:59:59.999999', '2038-01-19 08:44:07.999999', X'00FF5C27',
               'O''Brien\ é', 'emoji 😀 "q" \n', '-838:59:59.000000', b'101010101010', 'y', 2155,
               '1000-01-01', 1),
              (0, -0.000000000000000000000000000001, '1000-01-01 00:00:00', '1970-01-01 05:30:01',
               X'', '', '', '00:00:00', b'0', 'x', 1901, '9999-12-31', 2),
              (1, 1, '2024-02-29 12:00:00.5', '2024-02-29 17:30:00.5', X'5C', 'abc', 'x', '1:00', b'1', 'x', 2024,
               '2024-02-29', 3);"#,
        )
        .unwrap();
    let mut conn = connect(&mariadb.url(&database)).await;
    let before = read_rows(&mut conn, k).await;
    let key = |row: &Row| row[..12].to_vec();
    mariadb
        .execute(
            Some(&database),
            "UPDATE k SET v = 10 WHERE v = 1;
             DELETE FROM k WHERE v = 2;
             UPDATE k SET s = 'ABC' WHERE v = 3;",
        )
        .unwrap();
    let after = read_rows(&mut conn, k).await;

    let mut capture = capture(&database);
    let mut stream = capture
        .stream(tables.clone(), Position::AuditLog { id: 0 })
        .await
        .unwrap();
    let items = drain(&mut stream, 7, Duration::from_secs(10)).await;
    assert_eq!(stream.position(), Position::AuditLog { id: 7 });
    let (mut upserts, mut deletes) = final_states(items);
    upserts.sort_by_key(|v| format!("{v:?}"));
    deletes.sort_by_key(|v| format!("{v:?}"));
    let mut expected_upserts = after.clone();
    expected_upserts.sort_by_key(|v| format!("{v:?}"));
    assert_eq!(upserts, expected_upserts);
    // The deleted row's key, and the key 'abc' that became 'ABC': equal in the
    // collation, another key to the target.
    let mut expected_deletes = vec![key(&before[0]), key(&before[1])];
    expected_deletes.sort_by_key(|v| format!("{v:?}"));
    assert_eq!(deletes, expected_deletes);
    assert!(
        expected_deletes
            .iter()
            .any(|k| k.contains(&Value::Text("abc".into())))
    );
}

#[tokio::test]
async fn an_entry_committed_after_a_later_one_still_arrives_and_a_rollback_does_not_stall() {
    let mariadb = dbsync_testkit::mariadb();
    let database = mariadb.create_database("trg_gap").unwrap();
    mariadb
        .execute(Some(&database), "CREATE TABLE g (id INT PRIMARY KEY)")
        .unwrap();
    let tables = install(&database, &["g"]).await;
    let mut capture = capture(&database);
    let start = capture
        .start_position(&tables[0], &HashMap::new())
        .await
        .unwrap();
    assert_eq!(start, Position::AuditLog { id: 0 });
    let mut stream = capture.stream(tables.clone(), start).await.unwrap();
    let inserted = |items: Vec<StreamItem>| {
        let (upserts, deletes) = final_states(items);
        assert_eq!(deletes, Vec::<Vec<Value>>::new());
        let mut ids: Vec<Value> = upserts.into_iter().map(|row| row[0].clone()).collect();
        ids.sort_by_key(|v| format!("{v:?}"));
        ids
    };

    // Entry 1 is written by a transaction that stays open while entry 2 commits.
    let mut open = connect(&mariadb.url(&database)).await;
    open.query_drop("BEGIN").await.unwrap();
    open.query_drop("INSERT INTO g VALUES (1)").await.unwrap();
    mariadb
        .execute(Some(&database), "INSERT INTO g VALUES (2)")
        .unwrap();
    // The stream sees entry 2, and waits: several gap timeouts and lock waits pass.
    let items = drain(&mut stream, 2, Duration::from_secs(3)).await;
    assert_eq!(inserted(items), Vec::<Value>::new());
    assert_eq!(stream.position(), Position::AuditLog { id: 0 });
    open.query_drop("COMMIT").await.unwrap();
    let items = drain(&mut stream, 2, Duration::from_secs(10)).await;
    assert_eq!(inserted(items), [Value::Int(1), Value::Int(2)]);
    assert_eq!(stream.position(), Position::AuditLog { id: 2 });

    // Entry 3 rolls back: a gap forever, which must not hold entry 4 back for long.
    open.query_drop("BEGIN").await.unwrap();
    open.query_drop("INSERT INTO g VALUES (3)").await.unwrap();
    mariadb
        .execute(Some(&database), "INSERT INTO g VALUES (4)")
        .unwrap();
    open.query_drop("ROLLBACK").await.unwrap();
    let started = Instant::now();
    let items = drain(&mut stream, 4, Duration::from_secs(10)).await;
    assert_eq!(inserted(items), [Value::Int(4)]);
    assert_eq!(stream.position(), Position::AuditLog { id: 4 });
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

/// Sakila's tables that the pipeline tests sync: integer, composite, text, ENUM, SET,
/// DECIMAL, YEAR, DATETIME and TIMESTAMP columns, and film_text, which Sakila's own
/// triggers write.
const SYNCED: [&str; 6] = [
    "actor",
    "film",
    "film_actor",
    "film_text",
    "payment",
    "customer",
];

/// A Sakila source with dbsync's triggers and an empty PostgreSQL target.
struct Sakila {
    source: String,
    target: String,
    tables: Vec<Arc<TableSchema>>,
}

impl Sakila {
    async fn new(hint: &str) -> Sakila {
        let source = dbsync_testkit::mariadb().create_database(hint).unwrap();
        dbsync_testkit::mariadb()
            .load(&source, Dataset::Sakila)
            .unwrap();
        let target = dbsync_testkit::postgres().create_database(hint).unwrap();
        let tables = install(&source, &SYNCED).await;
        Sakila {
            source,
            target,
            tables,
        }
    }

    fn source_sql(&self, sql: &str) {
        dbsync_testkit::mariadb()
            .execute(Some(&self.source), sql)
            .unwrap();
    }

    async fn writer(&self) -> Writer {
        let config = dbsync_testkit::postgres()
            .url(&self.target)
            .parse()
            .unwrap();
        let mut writer = Writer::connect(
            &config,
            "p",
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

    /// Copies the tables, as the first run of a pair does.
    async fn copy(&self) -> (Writer, HashMap<TableName, Checkpoint>) {
        let mut writer = self.writer().await;
        let mut checkpoints = writer.checkpoints().await.unwrap().into_iter().collect();
        let opts =
            dbsync_mysql::session::options_from_url(&dbsync_testkit::mariadb().url(&self.source))
                .unwrap();
        let source = MysqlSource::connect(opts).await.unwrap();
        let mut lanes = copy_tables(
            vec![(source, writer)],
            &mut capture(&self.source),
            &self.tables,
            &mut checkpoints,
            CopyOptions::default(),
        )
        .await
        .unwrap();
        let (_, writer) = lanes.pop().unwrap();
        (writer, checkpoints)
    }

    /// Streams from the target's checkpoints until `stop` resolves, or, without one,
    /// until the stream has caught up with the audit log as it is now.
    async fn stream(
        &self,
        writer: &mut Writer,
        checkpoints: &mut HashMap<TableName, Checkpoint>,
        stop: Option<Duration>,
    ) -> StreamEnd {
        let mut capture = capture(&self.source);
        let until = match stop {
            Some(_) => None,
            None => Some(
                capture
                    .start_position(&self.tables[0], &HashMap::new())
                    .await
                    .unwrap(),
            ),
        };
        let from = earliest_position(checkpoints).unwrap().clone();
        let mut stream = capture.stream(self.tables.clone(), from).await.unwrap();
        let stop = async {
            match stop {
                Some(after) => tokio::time::sleep(after).await,
                None => pending().await,
            }
        };
        let limits = BatchLimits {
            max_changes: 50,
            ..BatchLimits::default()
        };
        stream_changes(&mut stream, writer, checkpoints, limits, until, stop)
            .await
            .unwrap()
    }

    /// Asserts that every synced table equals its target table, value by value.
    async fn assert_in_sync(&self) {
        let mut source = connect(&dbsync_testkit::mariadb().url(&self.source)).await;
        let (client, connection) = tokio_postgres::connect(
            &dbsync_testkit::postgres().url(&self.target),
            tokio_postgres::NoTls,
        )
        .await
        .unwrap();
        tokio::spawn(connection);
        for table in &self.tables {
            let expected = read_rows(&mut source, table).await;
            let target = TargetTable::plan(
                table,
                "public",
                &table.name.name,
                &table.primary_key,
                IdentifierCase::Lower,
                MappingOptions::default(),
            )
            .unwrap();
            let actual = dbsync_postgres::reader::read_as_source(&client, &target, table)
                .await
                .unwrap();
            assert_eq!(expected.len(), actual.len(), "rows of {}", table.name);
            for (want, got) in expected.iter().zip(&actual) {
                assert_eq!(want, got, "a row of {}", table.name);
            }
        }
    }
}

/// One source transaction of inserts, updates, key changes and deletes; `round` keeps
/// the rounds' rows apart.
fn workload(round: u32) -> String {
    let r = round;
    format!(
        "BEGIN;
         INSERT INTO actor (actor_id, first_name, last_name) VALUES ({a}, 'NEW', 'ACTOR {r}');
         UPDATE actor SET last_name = 'RENAMED {r}' WHERE actor_id = {f};
         INSERT INTO film_actor (actor_id, film_id) VALUES ({a}, {f});
         UPDATE film_actor SET film_id = {f} + 1 WHERE actor_id = {a};
         UPDATE payment SET payment_id = {p}, amount = 9.99 WHERE payment_id = {f};
         DELETE FROM payment WHERE payment_id BETWEEN {d} AND {d} + 5;
         UPDATE film SET rental_rate = rental_rate + 0.01, special_features = 'Trailers,Commentaries',
                         rating = 'NC-17', release_year = 1999 WHERE film_id = {f};
         DELETE FROM film_actor WHERE actor_id = {f} + 20;
         UPDATE customer SET email = 'round-{r}-é@example.com', active = 0 WHERE customer_id = {f};
         INSERT INTO payment (customer_id, staff_id, amount, payment_date)
           VALUES ({f}, 1, 0.01, '2026-01-0{day} 12:34:56');
         COMMIT;",
        a = 1000 + r,
        f = 1 + r,
        p = 60_000 - r,
        d = 100 + 10 * r,
        day = 1 + r % 9,
    )
}

#[tokio::test]
async fn sakila_converges_through_triggers_into_postgres() {
    let sakila = Sakila::new("trg_sakila").await;
    // Changes while nothing streams yet are in the log for the stream to replay.
    sakila.source_sql(&workload(0));
    let (mut writer, mut checkpoints) = sakila.copy().await;
    for round in 1..5 {
        sakila.source_sql(&workload(round));
    }
    let end = sakila.stream(&mut writer, &mut checkpoints, None).await;
    assert_eq!(end, StreamEnd::CaughtUp);
    sakila.assert_in_sync().await;
}

#[tokio::test]
async fn a_stream_dropped_mid_way_resumes_from_the_target_losing_and_doubling_nothing() {
    let sakila = Sakila::new("trg_restart").await;
    let (mut writer, mut checkpoints) = sakila.copy().await;
    let source = sakila.source.clone();
    let writes = tokio::task::spawn_blocking(move || {
        for round in 0..30 {
            dbsync_testkit::mariadb()
                .execute(Some(&source), &workload(round))
                .unwrap();
        }
    });
    // Stopped while the workload runs, as a kill would stop it: whatever it wrote is
    // committed with its checkpoints, and nothing else survives.
    sakila
        .stream(
            &mut writer,
            &mut checkpoints,
            Some(Duration::from_millis(700)),
        )
        .await;
    let held = writer.checkpoints().await.unwrap();
    drop(writer);
    writes.await.unwrap();

    let mut writer = sakila.writer().await;
    let mut checkpoints: HashMap<TableName, Checkpoint> =
        writer.checkpoints().await.unwrap().into_iter().collect();
    for (table, checkpoint) in &held {
        assert!(checkpoints[table].position >= checkpoint.position);
    }
    let end = sakila.stream(&mut writer, &mut checkpoints, None).await;
    assert_eq!(end, StreamEnd::CaughtUp);
    sakila.assert_in_sync().await;
}
