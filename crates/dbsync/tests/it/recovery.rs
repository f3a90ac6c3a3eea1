//! Crashes, cut connections and stops on real servers: `dbsync run` killed with SIGKILL
//! at several points of the copy and of the stream and restarted, connections to the
//! source and the target cut under a running process by the testkit's proxy, and a
//! SIGTERM while it streams. Each time the target must end equal to the source with
//! nothing lost and nothing applied twice, and no checkpoint may move backward.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use dbsync_config::Capture;
use dbsync_core::{Checkpoint, CopyProgress, MariaDbGtid, Position};
use dbsync_testkit::Proxy;
use mysql_async::prelude::Queryable;
use tokio::task::JoinHandle;
use tokio_postgres::Client;

use crate::support::{Daemon, Deadline, Sandbox, assert_success, run};

/// Rows per copy chunk (`CopyOptions::default()`).
const CHUNK_ROWS: u64 = 10_000;
/// Source rows per streamed target transaction: small, so that the workload's large
/// transactions are written in several.
const BATCH_SIZE: u64 = 2_000;

/// Short retries, so that a cut connection is back within a second.
const RETRY: &str =
    "retry:\n  attempts: 30\n  delay: 50ms\n  backoff: exponential\n  max_delay: 500ms\n";

#[tokio::test]
async fn kill_9_in_the_copy_and_the_stream_loses_and_doubles_nothing() {
    kill_9_loses_and_doubles_nothing(Capture::Binlog).await;
}

#[tokio::test]
async fn kill_9_under_trigger_capture_loses_and_doubles_nothing() {
    kill_9_loses_and_doubles_nothing(Capture::Triggers).await;
}

/// kill -9 at the start, twice in the copy and three times in the stream of a pair
/// capturing by `capture`, under a workload of inserts, updates, deletes and key
/// changes; then the target must equal the source.
async fn kill_9_loses_and_doubles_nothing(capture: Capture) {
    const ROWS: u64 = 200_000;
    let sandbox = Sandbox::new(&format!("crash{}", capture.as_str()));
    sandbox.source_sql(&format!(
        "CREATE TABLE counters (id INT PRIMARY KEY, bumps BIGINT NOT NULL, note VARCHAR(64) NOT NULL);
         CREATE TABLE events (id BIGINT AUTO_INCREMENT PRIMARY KEY, counter_id INT NOT NULL, bump BIGINT NOT NULL);
         CREATE TABLE quiet (id INT PRIMARY KEY, v INT NOT NULL);
         SET SESSION max_recursive_iterations = 1000000;
         INSERT INTO counters WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {ROWS})
           SELECT i, i % 7, CONCAT('counter ', i) FROM n;
         INSERT INTO quiet WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100)
           SELECT i, 0 FROM n;"
    ));
    let source_url = match capture {
        Capture::Triggers => {
            // Installed by an account that may create triggers, consumed by one that
            // may only read the tables and tend the audit log: no replication grants.
            let admin = sandbox.write_config(
                "admin.yaml",
                &dbsync_testkit::mariadb().url(&sandbox.source),
                &sandbox.target_url_on_port(dbsync_testkit::postgres().port()),
                &["capture: triggers"],
                "",
            );
            assert_success(&run(&admin, &["triggers", "install", "p"]));
            sandbox.ordinary_user_url()
        }
        _ => sandbox.source_url_on_port(dbsync_testkit::mariadb().port()),
    };
    let config = sandbox.write_config(
        "crash.yaml",
        &source_url,
        &sandbox.target_url_on_port(dbsync_testkit::postgres().port()),
        &[
            &format!("batch_size: {BATCH_SIZE}"),
            &format!("capture: {}", capture.as_str()),
        ],
        RETRY,
    );
    let log = sandbox.dir().join("crash.log");
    let target = sandbox.target_client().await;
    // The copy runs under load too: it must meet the stream whatever order they come in.
    let workload = Workload::start(&sandbox, ROWS);
    let mut seen = Seen::default();

    // Killed before any chunk is written: as soon as the target tables exist.
    let mut daemon = Daemon::start(&config, &log);
    let deadline = Deadline::new(30, "dbsync to create the target tables");
    while !table_exists(&target, "counters").await {
        deadline.tick(&mut daemon).await;
    }
    daemon.kill9();
    seen.record(&checkpoints(&target).await, "after a kill at the start");

    // Killed early in the copy, then half-way through it: each restart resumes from
    // the checkpoint rather than from zero, and never writes a row twice (a chunk is
    // copied straight into the table, which has the source's primary key).
    for (at_least, when) in [
        (2 * CHUNK_ROWS, "early in the copy"),
        (ROWS / 2, "mid-copy"),
    ] {
        let mut daemon = Daemon::start(&config, &log);
        let deadline = Deadline::new(60, format!("the copy of counters to reach {at_least} rows"));
        loop {
            let now = checkpoints(&target).await;
            seen.record(&now, &format!("while copying, before a kill {when}"));
            if now
                .get("counters")
                .is_some_and(|c| c.copy.rows() >= at_least)
            {
                break;
            }
            deadline.tick(&mut daemon).await;
        }
        daemon.kill9();
        let now = checkpoints(&target).await;
        seen.record(&now, &format!("after a kill {when}"));
        eprintln!("crash: killed {when} at {:?}", now["counters"].copy.rows());
        assert!(
            matches!(now["counters"].copy, CopyProgress::Copying { .. }),
            "the copy ended before the kill {when}, so the kill tested nothing; make the table bigger"
        );
    }

    // Killed three times while streaming under load, each time after the stream has
    // moved the checkpoint of counters a few times since the restart.
    for round in 1..=3 {
        let mut daemon = Daemon::start(&config, &log);
        let deadline = Deadline::new(60, format!("stream round {round} to move checkpoints"));
        let mut moves = 0;
        let mut last: Option<Position> = None;
        while moves < 3 {
            let now = checkpoints(&target).await;
            seen.record(&now, &format!("while streaming, round {round}"));
            let copied = ["counters", "events", "quiet"].iter().all(|t| {
                matches!(
                    now.get(*t).map(|c| &c.copy),
                    Some(CopyProgress::Done { .. })
                )
            });
            let position = now.get("counters").map(|c| c.position.clone());
            if copied && position != last {
                if last.is_some() {
                    moves += 1;
                }
                last = position;
            }
            deadline.tick(&mut daemon).await;
        }
        daemon.kill9();
        seen.record(
            &checkpoints(&target).await,
            &format!("after a kill while streaming, round {round}"),
        );
    }

    let done = workload.stop().await;
    eprintln!("crash: {done:?}");
    assert!(
        done.events > 100,
        "the workload inserted only {} events in {} transactions",
        done.events,
        done.transactions
    );
    assert_success(&run(&config, &["run", "--once"]));
    seen.record(&checkpoints(&target).await, "after the final run --once");
    sandbox.assert_in_sync().await;

    // Nothing lost: every event the workload committed is there, and the counters add
    // up; nothing doubled: no key twice.
    let mut source = source_conn(&sandbox).await;
    let source_counters: (i64, i64) = source
        .query_first("SELECT COUNT(*), CAST(SUM(bumps) AS SIGNED) FROM counters")
        .await
        .unwrap()
        .unwrap();
    let target_counters =
        pair_of(&target, "SELECT count(*), sum(bumps)::bigint FROM counters").await;
    assert_eq!(
        target_counters, source_counters,
        "rows and sum of bumps of counters"
    );
    assert_eq!(
        pair_of(&target, "SELECT count(*), count(DISTINCT id) FROM events").await,
        (done.events as i64, done.events as i64),
        "events: the workload committed {} inserts",
        done.events
    );
    assert_eq!(
        pair_of(&target, "SELECT count(*), count(DISTINCT id) FROM counters").await,
        (source_counters.0, source_counters.0),
        "distinct keys of counters"
    );
}

#[tokio::test]
async fn cut_connections_to_source_and_target_recover_by_themselves() {
    const ROWS: u64 = 150_000;
    let sandbox = Sandbox::new("cut");
    sandbox.source_sql(&format!(
        "CREATE TABLE items (id INT PRIMARY KEY, v INT NOT NULL, note VARCHAR(40) NOT NULL);
         SET SESSION max_recursive_iterations = 1000000;
         INSERT INTO items WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {ROWS})
           SELECT i, 0, CONCAT('item ', i) FROM n;"
    ));
    let source_proxy = Proxy::start(dbsync_testkit::mariadb().port()).unwrap();
    let target_proxy = Proxy::start(dbsync_testkit::postgres().port()).unwrap();
    let config = sandbox.write_config(
        "proxied.yaml",
        &sandbox.source_url_on_port(source_proxy.port()),
        &sandbox.target_url_on_port(target_proxy.port()),
        &["batch_size: 100"],
        RETRY,
    );
    let log = sandbox.dir().join("cut.log");
    let target = sandbox.target_client().await;
    let mut daemon = Daemon::start(&config, &log);

    // During the copy: the target's connection, then the source's. The checkpoint
    // read after each cut says the copy was still going when it came.
    let mut before = 0;
    for (proxy, side) in [(&target_proxy, "target"), (&source_proxy, "source")] {
        let deadline = Deadline::new(60, format!("the copy to go on before the {side} is cut"));
        while copied_rows(&target, "items")
            .await
            .is_none_or(|rows| rows <= before)
        {
            deadline.tick(&mut daemon).await;
        }
        assert!(proxy.cut() > 0, "no connection to the {side} to cut");
        match checkpoints(&target).await["items"].copy {
            CopyProgress::Copying { rows, .. } => before = rows,
            CopyProgress::Done { .. } => {
                panic!("the copy ended before the {side} was cut; make the table bigger")
            }
        }
    }
    let deadline = Deadline::new(60, "the copy to finish");
    while !copy_done(&target, &["items"]).await {
        deadline.tick(&mut daemon).await;
    }

    // During the stream: each connection cut, then each server unreachable for a while.
    // Each change is followed by a new marker row, which the running process must
    // bring to the target by itself.
    let mut markers = Markers {
        sandbox: &sandbox,
        target: &target,
        rows: ROWS,
        last: 0,
    };
    markers
        .change_then_wait(&mut daemon, "once the stream runs")
        .await;
    assert!(source_proxy.cut() > 0, "no connection to the source to cut");
    markers
        .change_then_wait(&mut daemon, "after the source's connections were cut")
        .await;
    assert!(target_proxy.cut() > 0, "no connection to the target to cut");
    markers
        .change_then_wait(&mut daemon, "after the target's connections were cut")
        .await;
    for (proxy, side) in [(&target_proxy, "target"), (&source_proxy, "source")] {
        proxy.set_down(true);
        sandbox.source_sql("UPDATE items SET v = v + 10 WHERE id % 7 = 0");
        // Long enough for several failed reconnections.
        let deadline = Instant::now() + Duration::from_millis(1500);
        while Instant::now() < deadline {
            daemon.assert_running(&format!("while the {side} was unreachable"));
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        proxy.set_down(false);
        markers
            .change_then_wait(&mut daemon, &format!("after the {side} was unreachable"))
            .await;
    }

    // Six faults, each noticed and retried at least once.
    let log_text = daemon.log();
    assert!(
        log_text.matches("retrying").count() >= 6,
        "dbsync did not report retrying after each fault; its log:\n{log_text}"
    );
    let status = daemon.terminate(Duration::from_secs(10)).await;
    assert!(
        status.success(),
        "dbsync ended with {status} after SIGTERM; its log:\n{}",
        daemon.log()
    );
    sandbox.assert_in_sync().await;
}

#[tokio::test]
async fn sigterm_while_streaming_stops_at_a_transaction_boundary() {
    /// Ledger rows per transaction: several rows events, so that a stop is likely to
    /// come in the middle of a transaction.
    const ENTRIES: i64 = 300;
    let sandbox = Sandbox::new("sigterm");
    sandbox.source_sql(
        "CREATE TABLE ledger (seq INT, n INT, pad VARCHAR(100) NOT NULL, PRIMARY KEY (seq, n));
         CREATE TABLE head (id INT PRIMARY KEY, seq INT NOT NULL);
         INSERT INTO head VALUES (1, 0);",
    );
    let log = sandbox.dir().join("sigterm.log");
    let target = sandbox.target_client().await;
    let mut daemon = Daemon::start(&sandbox.config, &log);
    let deadline = Deadline::new(30, "the copy to finish");
    while !copy_done(&target, &["ledger", "head"]).await {
        deadline.tick(&mut daemon).await;
    }

    // Each transaction appends to the ledger and then moves the head.
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let stop = Arc::clone(&stop);
        let mut conn = source_conn(&sandbox).await;
        tokio::spawn(async move {
            let mut gtids: Vec<MariaDbGtid> = Vec::new();
            let mut seq = 0;
            while !stop.load(Ordering::SeqCst) {
                seq += 1;
                conn.query_drop("START TRANSACTION").await.unwrap();
                conn.query_drop(format!(
                    "INSERT INTO ledger WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {ENTRIES})
                       SELECT {seq}, i, REPEAT('x', 100) FROM n"
                ))
                .await
                .unwrap();
                conn.query_drop(format!("UPDATE head SET seq = {seq} WHERE id = 1"))
                    .await
                    .unwrap();
                conn.query_drop("COMMIT").await.unwrap();
                let gtid: String = conn
                    .query_first("SELECT @@last_gtid")
                    .await
                    .unwrap()
                    .unwrap();
                gtids.push(gtid.parse().unwrap());
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            gtids
        })
    };
    let deadline = Deadline::new(30, "the stream to apply the ledger");
    while count(&target, "SELECT count(*) FROM ledger").await < 20 * ENTRIES {
        deadline.tick(&mut daemon).await;
    }
    let asked = Instant::now();
    let status = daemon.terminate(Duration::from_secs(5)).await;
    let took = asked.elapsed();
    stop.store(true, Ordering::SeqCst);
    let gtids = writer.await.unwrap();
    assert!(
        status.success(),
        "dbsync ended with {status} after SIGTERM; its log:\n{}",
        daemon.log()
    );
    assert!(
        took < Duration::from_secs(2),
        "dbsync took {took:?} to stop after SIGTERM"
    );

    // The target holds whole transactions, and exactly those that the checkpoints'
    // GTID state says it has.
    let (rows, transactions) =
        pair_of(&target, "SELECT count(*), count(DISTINCT seq) FROM ledger").await;
    let (last, head) = pair_of(
        &target,
        "SELECT coalesce(max(seq), 0)::bigint, (SELECT seq FROM head WHERE id = 1)::bigint FROM ledger",
    )
    .await;
    assert_eq!(
        (rows, last, head),
        (transactions * ENTRIES, transactions, transactions),
        "after the stop the target holds {rows} ledger rows of {transactions} transactions, the last {last}, and its head says {head}: a transaction was cut in two"
    );
    for (table, checkpoint) in &checkpoints(&target).await {
        let Position::Binlog(position) = &checkpoint.position else {
            panic!("the checkpoint of {table} is not a binlog position: {checkpoint:?}");
        };
        let covered = gtids
            .iter()
            .filter(|gtid| {
                position
                    .gtid_state
                    .iter()
                    .any(|g| g.domain == gtid.domain && g.sequence >= gtid.sequence)
            })
            .count() as i64;
        assert_eq!(
            covered, transactions,
            "the checkpoint of {table} ({}) covers {covered} ledger transactions but the target holds {transactions}",
            checkpoint.position
        );
    }
    eprintln!(
        "sigterm: stopped in {} ms with {transactions} of {} transactions applied",
        took.as_millis(),
        gtids.len()
    );
    // The next run goes on from there.
    assert_success(&sandbox.run_once());
    sandbox.assert_in_sync().await;
}

/// Marker rows, each written with other changes and awaited on the target.
struct Markers<'a> {
    sandbox: &'a Sandbox,
    target: &'a Client,
    rows: u64,
    last: u64,
}

impl Markers<'_> {
    async fn change_then_wait(&mut self, daemon: &mut Daemon, what: &str) {
        self.last += 1;
        let marker = self.last;
        self.sandbox.source_sql(&format!(
            "UPDATE items SET v = v + 1 WHERE id % 100 = {marker};
             INSERT INTO items VALUES ({}, {marker}, 'marker {marker}');",
            self.rows + marker
        ));
        let deadline = Deadline::new(30, format!("marker {marker}, written {what}"));
        let sql = format!("SELECT count(*) FROM items WHERE note = 'marker {marker}'");
        while count(self.target, &sql).await == 0 {
            deadline.tick(daemon).await;
        }
    }
}

/// Every checkpoint seen so far, to fail when one moves backward.
#[derive(Default)]
struct Seen {
    checkpoints: HashMap<String, Checkpoint>,
}

impl Seen {
    fn record(&mut self, now: &HashMap<String, Checkpoint>, when: &str) {
        for (table, old) in &self.checkpoints {
            let Some(new) = now.get(table) else {
                panic!("the checkpoint of {table} disappeared {when}");
            };
            let copy_ahead = match (&old.copy, &new.copy) {
                (CopyProgress::Copying { rows: a, .. }, CopyProgress::Copying { rows: b, .. }) => {
                    b >= a
                }
                (CopyProgress::Copying { .. }, CopyProgress::Done { .. }) => true,
                (CopyProgress::Done { rows: a }, CopyProgress::Done { rows: b }) => a == b,
                (CopyProgress::Done { .. }, CopyProgress::Copying { .. }) => false,
            };
            assert!(
                copy_ahead && new.position >= old.position,
                "the checkpoint of {table} moved backward {when}:\n  before: {old:?}\n  after:  {new:?}"
            );
        }
        self.checkpoints
            .extend(now.iter().map(|(t, c)| (t.clone(), c.clone())));
    }
}

/// The source load: single-row and multi-row updates, a few large enough to be
/// written in several target batches, inserts, deletes, key changes, a rarely written
/// table (so that tables' checkpoints differ), and transactions in another database
/// (which the stream reads past without reporting each).
struct Workload {
    stop: Arc<AtomicBool>,
    task: JoinHandle<Done>,
}

#[derive(Debug, Clone, Copy)]
struct Done {
    transactions: u64,
    /// Rows the workload inserted into `events`, which it never deletes.
    events: u64,
}

impl Workload {
    fn start(sandbox: &Sandbox, rows: u64) -> Workload {
        let noise = dbsync_testkit::mariadb().create_database("noise").unwrap();
        dbsync_testkit::mariadb()
            .execute(
                Some(&noise),
                "CREATE TABLE noise (id INT AUTO_INCREMENT PRIMARY KEY, x INT)",
            )
            .unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let source = sandbox.source.clone();
        let task = {
            let stop = Arc::clone(&stop);
            tokio::spawn(async move {
                let mut conn = source_conn_to(&source).await;
                let mut random = 0x2545_f491_4f6c_dd1d_u64;
                let mut done = Done {
                    transactions: 0,
                    events: 0,
                };
                while !stop.load(Ordering::SeqCst) {
                    random ^= random << 13;
                    random ^= random >> 7;
                    random ^= random << 17;
                    let i = done.transactions + 1;
                    let k = random % rows + 1;
                    let statements = match (i % 400, random % 100) {
                        (0, _) => vec![format!(
                            "UPDATE counters SET bumps = bumps + 1 WHERE id BETWEEN {k} AND {k} + 11999"
                        )],
                        (_, 0..55) => {
                            done.events += 1;
                            vec![
                                format!(
                                    "UPDATE counters SET bumps = bumps + 1, note = 'bump {i}' WHERE id = {k}"
                                ),
                                format!("INSERT INTO events (counter_id, bump) VALUES ({k}, {i})"),
                            ]
                        }
                        (_, 55..65) => vec![format!("DELETE FROM counters WHERE id = {k}")],
                        (_, 65..75) => vec![format!(
                            "INSERT INTO counters VALUES ({}, 1, 'new {i}')",
                            rows + i
                        )],
                        (_, 75..80) => vec![format!(
                            "UPDATE counters SET id = id + 1000000 WHERE id = {k}"
                        )],
                        (_, 80..90) => {
                            vec![format!("INSERT INTO `{noise}`.noise (x) VALUES ({i})")]
                        }
                        (_, 90..91) => {
                            vec![format!(
                                "UPDATE quiet SET v = v + 1 WHERE id = {}",
                                k % 100 + 1
                            )]
                        }
                        _ => vec![format!(
                            "UPDATE counters SET bumps = bumps + 1 WHERE id BETWEEN {k} AND {k} + 49"
                        )],
                    };
                    conn.query_drop("START TRANSACTION").await.unwrap();
                    for statement in statements {
                        conn.query_drop(&statement)
                            .await
                            .unwrap_or_else(|e| panic!("{statement}: {e}"));
                    }
                    conn.query_drop("COMMIT").await.unwrap();
                    done.transactions += 1;
                    // Often, the transaction before one of the pair's is another
                    // database's, whose commit the stream does not report.
                    if random & (1 << 40) != 0 {
                        conn.query_drop(format!("INSERT INTO `{noise}`.noise (x) VALUES ({i})"))
                            .await
                            .unwrap();
                    }
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
                done
            })
        };
        Workload { stop, task }
    }

    async fn stop(self) -> Done {
        self.stop.store(true, Ordering::SeqCst);
        self.task.await.unwrap()
    }
}

async fn source_conn(sandbox: &Sandbox) -> mysql_async::Conn {
    source_conn_to(&sandbox.source).await
}

async fn source_conn_to(database: &str) -> mysql_async::Conn {
    let url = dbsync_testkit::mariadb().url(database);
    let opts = dbsync_mysql::session::options_from_url(&url).unwrap();
    dbsync_mysql::session::connect(opts, "the test source")
        .await
        .unwrap()
}

async fn table_exists(client: &Client, table: &str) -> bool {
    client
        .query_one(
            "SELECT to_regclass($1) IS NOT NULL",
            &[&format!("public.{table}")],
        )
        .await
        .unwrap()
        .get(0)
}

/// The pair's checkpoints by source table; none before dbsync created their table.
async fn checkpoints(client: &Client) -> HashMap<String, Checkpoint> {
    if !table_exists(client, "dbsync_checkpoint").await {
        return HashMap::new();
    }
    client
        .query(
            "SELECT source_table, checkpoint::text FROM dbsync_checkpoint WHERE pair = 'p'",
            &[],
        )
        .await
        .unwrap()
        .into_iter()
        .map(|row| {
            let json: String = row.get(1);
            (row.get(0), serde_json::from_str(&json).unwrap())
        })
        .collect()
}

async fn copy_done(client: &Client, tables: &[&str]) -> bool {
    let now = checkpoints(client).await;
    tables.iter().all(|t| {
        matches!(
            now.get(*t).map(|c| &c.copy),
            Some(CopyProgress::Done { .. })
        )
    })
}

async fn copied_rows(client: &Client, table: &str) -> Option<u64> {
    checkpoints(client).await.get(table).map(|c| c.copy.rows())
}

async fn count(client: &Client, sql: &str) -> i64 {
    client.query_one(sql, &[]).await.unwrap().get(0)
}

async fn pair_of(client: &Client, sql: &str) -> (i64, i64) {
    let row = client.query_one(sql, &[]).await.unwrap();
    (row.get(0), row.get(1))
}
