//! The bench's scenarios on the testkit's private servers.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use dbsync_config::IdentifierCase;
use dbsync_core::{Checkpoint, CopyProgress, Position};
use dbsync_postgres::target_table::TargetTable;
use dbsync_postgres::target_type::MappingOptions;
use dbsync_testkit::{ADMIN_USER, MariaDb, Postgres, REPLICATION_PASSWORD, REPLICATION_USER};
use mysql_async::prelude::Queryable;

use crate::measure::{self, Measured, median};

/// The servers, the source table and where the binaries are.
pub(crate) struct Bench {
    pub(crate) mariadb: &'static MariaDb,
    pub(crate) postgres: &'static Postgres,
    pub(crate) source: String,
    /// sysbench's `sbtest1` as dbsync reads it.
    pub(crate) table: Arc<dbsync_core::TableSchema>,
    pub(crate) rows: u64,
    pub(crate) dbsync: PathBuf,
    pub(crate) dir: PathBuf,
}

pub(crate) struct StreamFigures {
    pub(crate) apply_rate: f64,
    pub(crate) lag_p50_ms: f64,
    pub(crate) lag_p99_ms: f64,
    pub(crate) lag_max_ms: f64,
    pub(crate) probes: usize,
    pub(crate) sysbench_tps: f64,
    pub(crate) peak_rss_mb: f64,
}

impl Bench {
    /// Starts the servers and makes sysbench's table of `rows` rows.
    pub(crate) async fn prepare(rows: u64) -> Bench {
        let dbsync = std::env::current_exe()
            .expect("the bench's path")
            .with_file_name("dbsync");
        assert!(
            dbsync.exists(),
            "{} is missing; build it first: cargo build --release -p dbsync -p dbsync-bench",
            dbsync.display()
        );
        for (program, package) in [
            ("sysbench", "sysbench"),
            ("pgloader", "pgloader"),
            ("psql", "postgresql-client-15"),
        ] {
            assert!(
                Command::new("sh")
                    .args(["-c", &format!("command -v {program}")])
                    .output()
                    .is_ok_and(|o| o.status.success()),
                "{program} was not found; install the Debian package {package} (apt-get install -y {package})"
            );
        }
        let mariadb = dbsync_testkit::mariadb();
        let postgres = dbsync_testkit::postgres();
        let source = mariadb
            .create_database("sbtest")
            .expect("a source database");
        let started = Instant::now();
        let prepare = format!(
            "sysbench oltp_common --db-driver=mysql --mysql-host=127.0.0.1 --mysql-port={} --mysql-user={ADMIN_USER} --mysql-db={source} --tables=1 --table-size={rows} prepare",
            mariadb.port()
        );
        measure::shell(&prepare);
        // Probes for the lag measurement: the bench's clock when each row was written.
        mariadb
            .execute(
                Some(&source),
                "CREATE TABLE lag_probe (id BIGINT PRIMARY KEY, sent_micros BIGINT NOT NULL)",
            )
            .expect("the probe table");
        println!(
            "sysbench prepared {rows} rows in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        let dir = mariadb
            .dir()
            .parent()
            .expect("the scratch directory")
            .to_path_buf();
        let opts = dbsync_mysql::session::options_from_url(&mariadb.url(&source)).expect("options");
        let mut conn = dbsync_mysql::session::connect(opts, "the bench's source")
            .await
            .expect("connecting");
        let tables = dbsync_mysql::schema::read_tables(&mut conn, &source)
            .await
            .expect("the source schema");
        let table = Arc::new(
            tables
                .into_iter()
                .find(|t| t.name.name == "sbtest1")
                .expect("sbtest1"),
        );
        Bench {
            mariadb,
            postgres,
            source,
            table,
            rows,
            dbsync,
            dir,
        }
    }

    /// `mariadb -B --quick | psql \copy` into the table dbsync would create.
    pub(crate) fn copy_ceiling(&self) -> Measured {
        let target = self
            .postgres
            .create_database("ceiling")
            .expect("a target database");
        let plan = TargetTable::plan(
            &self.table,
            "public",
            "sbtest1",
            &self.table.primary_key,
            IdentifierCase::Lower,
            MappingOptions::default(),
        )
        .expect("a plan of sbtest1");
        self.postgres
            .execute(&target, &(plan.create_statements().join(";\n") + ";"))
            .expect("the ceiling's table");
        measure::shell(&format!(
            "mariadb -h 127.0.0.1 -P {} -u {ADMIN_USER} -B -N --quick -e 'SELECT id, k, c, pad FROM sbtest1' {} \
             | psql -X -q -h 127.0.0.1 -p {} -U postgres -d {target} -c '\\copy public.sbtest1 FROM STDIN'",
            self.mariadb.port(),
            self.source,
            self.postgres.port()
        ))
    }

    /// `dbsync run --once` into a fresh database.
    pub(crate) async fn copy_with_dbsync(&self) -> Measured {
        let target = self
            .postgres
            .create_database("dbsync")
            .expect("a target database");
        self.run_once(&self.config(&target))
    }

    /// `dbsync run --once` with the configuration at `config`.
    pub(crate) fn run_once(&self, config: &std::path::Path) -> Measured {
        let mut command = Command::new(&self.dbsync);
        command
            .args(["run", "--once", "--config"])
            .arg(config)
            .env("DBSYNC_LOG", "warn");
        measure::run(command, "dbsync run --once")
    }

    /// pgloader, MySQL to PostgreSQL, the same table.
    pub(crate) fn copy_with_pgloader(&self) -> Result<Measured, String> {
        let target = self
            .postgres
            .create_database("pgloader")
            .map_err(|e| e.to_string())?;
        let script = format!(
            "pgloader --quiet mysql://{ADMIN_USER}@127.0.0.1:{}/{} postgresql://postgres@127.0.0.1:{}/{target}",
            self.mariadb.port(),
            self.source,
            self.postgres.port()
        );
        std::panic::catch_unwind(|| measure::shell(&script))
            .map_err(|_| "see its output above".to_owned())
    }

    /// A running pair: the apply rate of one transaction updating every row, then the
    /// lag of probe rows while sysbench writes at 500 tps.
    pub(crate) async fn stream(&self, lag_seconds: u64) -> StreamFigures {
        let target = self
            .postgres
            .create_database("stream")
            .expect("a target database");
        let config = self.config(&target);
        let mut dbsync = Command::new(&self.dbsync)
            .args(["run", "--config"])
            .arg(&config)
            // DBSYNC_LOG=info shows this run's copy progress on the terminal.
            .env(
                "DBSYNC_LOG",
                std::env::var("DBSYNC_LOG").unwrap_or_else(|_| "warn".to_owned()),
            )
            .stdout(Stdio::null())
            .spawn()
            .expect("starting dbsync run");
        let (client, connection) =
            tokio_postgres::connect(&self.postgres.url(&target), tokio_postgres::NoTls)
                .await
                .expect("connecting to the target");
        tokio::spawn(connection);
        let mut source = self.source_conn().await;

        wait_for(&client, &mut dbsync, "sbtest1", |c| {
            matches!(c.copy, CopyProgress::Done { .. })
        })
        .await;
        // Apply rate: the server writes the transaction's events at its commit, when
        // the UPDATE returns; from then until its checkpoint is the apply.
        source
            .query_drop("UPDATE sbtest1 SET k = k + 1")
            .await
            .expect("the update");
        let committed = Instant::now();
        let position = Position::Binlog(
            dbsync_mysql::binlog::current_position(&mut source)
                .await
                .expect("a position"),
        );
        wait_for(&client, &mut dbsync, "sbtest1", |c| c.position >= position).await;
        let apply_rate = self.rows as f64 / committed.elapsed().as_secs_f64();

        let (lags, sysbench_tps) = self.lag(&client, &mut dbsync, lag_seconds, Some(500)).await;
        let peak_rss_mb = measure::peak_rss_mb(dbsync.id()).unwrap_or(f64::NAN);
        stop(dbsync);
        let mut sorted = lags.clone();
        let p99 = percentile(&mut sorted, 0.99);
        StreamFigures {
            apply_rate,
            lag_p50_ms: median(&mut sorted),
            lag_p99_ms: p99,
            lag_max_ms: sorted.last().copied().unwrap_or(f64::NAN),
            probes: lags.len(),
            sysbench_tps,
            peak_rss_mb,
        }
    }

    /// sysbench oltp_write_only on the source for `seconds`, at `rate` transactions
    /// per second or as fast as it can; its output is piped for [`sysbench_tps`].
    pub(crate) fn sysbench(&self, seconds: u64, rate: Option<u32>) -> Child {
        Command::new("sysbench")
            .args([
                "oltp_write_only",
                "--db-driver=mysql",
                "--mysql-host=127.0.0.1",
            ])
            .arg(format!("--mysql-port={}", self.mariadb.port()))
            .arg(format!("--mysql-user={ADMIN_USER}"))
            .arg(format!("--mysql-db={}", self.source))
            .args(["--tables=1", "--threads=4"])
            .arg(format!("--rate={}", rate.unwrap_or(0)))
            .arg(format!("--table-size={}", self.rows))
            .arg(format!("--time={seconds}"))
            .arg("run")
            .stdout(Stdio::piped())
            .spawn()
            .expect("starting sysbench")
    }

    /// Writes a probe every 10 ms and times its arrival on the target while sysbench
    /// oltp_write_only runs at `rate` transactions per second (flat out when `None`).
    pub(crate) async fn lag(
        &self,
        target: &tokio_postgres::Client,
        dbsync: &mut Child,
        seconds: u64,
        rate: Option<u32>,
    ) -> (Vec<f64>, f64) {
        let sysbench = self.sysbench(seconds, rate);
        let done = Arc::new(AtomicBool::new(false));
        let mut probe_conn = self.source_conn().await;
        // Probes of an earlier section stay in the table (and were copied): this run's
        // come after them.
        let first: i64 = probe_conn
            .query_first("SELECT COALESCE(MAX(id), 0) FROM lag_probe")
            .await
            .expect("the last probe")
            .unwrap_or(0);
        let mut writer = {
            let done = Arc::clone(&done);
            tokio::spawn(async move {
                let mut id = first;
                while !done.load(Ordering::Relaxed) {
                    id += 1;
                    probe_conn
                        .exec_drop("INSERT INTO lag_probe VALUES (?, ?)", (id, now_micros()))
                        .await
                        .expect("a probe");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                id
            })
        };
        let mut lags = Vec::new();
        let mut seen = first;
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let mut written = None;
        // After the load, the probes still on their way are waited for, up to a bound.
        while written != Some(seen) {
            if Instant::now() > deadline && written.is_none() {
                done.store(true, Ordering::Relaxed);
                written = Some((&mut writer).await.expect("the probe writer"));
            }
            assert!(
                Instant::now() < deadline + Duration::from_secs(60),
                "probes were still missing a minute after the load ended"
            );
            let rows = target
                .query(
                    "SELECT id, sent_micros FROM public.lag_probe WHERE id > $1 ORDER BY id",
                    &[&seen],
                )
                .await
                .expect("polling the probes");
            let arrived = now_micros();
            for row in rows {
                seen = row.get(0);
                let sent: i64 = row.get(1);
                lags.push((arrived - sent) as f64 / 1000.0);
            }
            assert!(
                dbsync.try_wait().expect("dbsync's status").is_none(),
                "dbsync stopped during the lag run"
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        (lags, sysbench_tps(sysbench))
    }

    /// The configuration of pair `bench` from the sysbench database into PostgreSQL
    /// database `target`.
    fn config(&self, target: &str) -> PathBuf {
        self.pair_config(target, &self.postgres.url(target), "")
    }

    /// The sysbench database as dbsync reads it on the binlog path: as the replication
    /// user, which may read the binlog and nothing more.
    pub(crate) fn replication_url(&self) -> String {
        format!(
            "mysql://{REPLICATION_USER}:{REPLICATION_PASSWORD}@127.0.0.1:{}/{}",
            self.mariadb.port(),
            self.source
        )
    }

    /// The configuration of pair `bench` from the sysbench database, read as the
    /// replication user, into `target_url`, with more of the pair's keys in `options`
    /// (`key: value, ...`), written to `<name>.yaml` in the scratch directory.
    pub(crate) fn pair_config(&self, name: &str, target_url: &str, options: &str) -> PathBuf {
        self.pair_config_from(name, &self.replication_url(), target_url, options)
    }

    /// [`Bench::pair_config`] reading the source at `source_url`.
    pub(crate) fn pair_config_from(
        &self,
        name: &str,
        source_url: &str,
        target_url: &str,
        options: &str,
    ) -> PathBuf {
        let path = self.dir.join(format!("{name}.yaml"));
        let options = if options.is_empty() {
            String::new()
        } else {
            format!(", {options}")
        };
        let yaml = format!(
            "connections:\n  src: {{ url: \"{source_url}\" }}\n  dst: {{ url: \"{target_url}\" }}\npairs:\n  bench: {{ source: src, target: dst, batch_size: 10000{options} }}\n",
        );
        std::fs::write(&path, yaml).expect("writing a configuration");
        path
    }

    pub(crate) async fn source_conn(&self) -> mysql_async::Conn {
        let opts = dbsync_mysql::session::options_from_url(&self.mariadb.url(&self.source))
            .expect("options");
        dbsync_mysql::session::connect(opts, "the bench's source")
            .await
            .expect("connecting to the source")
    }
}

/// The transactions per second a finished sysbench run reports.
pub(crate) fn sysbench_tps(sysbench: Child) -> f64 {
    let output = sysbench.wait_with_output().expect("sysbench");
    let text = String::from_utf8_lossy(&output.stdout);
    text.lines()
        .find(|line| line.trim_start().starts_with("transactions:"))
        .and_then(|line| line.split('(').nth(1))
        .and_then(|rate| rate.split_whitespace().next())
        .and_then(|rate| rate.parse().ok())
        .unwrap_or(f64::NAN)
}

/// Polls the target's checkpoint of `table` until `reached`.
pub(crate) async fn wait_for(
    target: &tokio_postgres::Client,
    dbsync: &mut Child,
    table: &str,
    reached: impl Fn(&Checkpoint) -> bool,
) {
    loop {
        assert!(
            dbsync.try_wait().expect("dbsync's status").is_none(),
            "dbsync stopped"
        );
        let row = target
            .query_opt(
                "SELECT checkpoint::text FROM public.dbsync_checkpoint WHERE source_table = $1",
                &[&table],
            )
            .await
            .ok()
            .flatten();
        let checkpoint: Option<Checkpoint> =
            row.and_then(|row| serde_json::from_str(row.get(0)).ok());
        if checkpoint.as_ref().is_some_and(&reached) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

pub(crate) fn stop(mut dbsync: Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &dbsync.id().to_string()])
        .status();
    let _ = dbsync.wait();
}

fn now_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

pub(crate) fn percentile(values: &mut [f64], p: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    if values.is_empty() {
        return f64::NAN;
    }
    values[((values.len() as f64 * p).ceil() as usize).clamp(1, values.len()) - 1]
}
