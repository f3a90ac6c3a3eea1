//! What the pair tests share: a sandbox of a source and a target database with a
//! configuration file between them, running the `dbsync` binary, and comparing the
//! two sides value by value.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dbsync_config::{IdentifierCase, ZeroDatePolicy};
use dbsync_core::pipeline::Source as _;
use dbsync_core::{Row, TableSchema, Value};
use dbsync_mysql::snapshot::ChunkReader;
use dbsync_postgres::target_table::TargetTable;
use dbsync_postgres::target_type::MappingOptions;
use dbsync_testkit::Dataset;

pub(crate) mod families;

/// A source database on the testkit's MariaDB, a target database on its PostgreSQL, and
/// a configuration file with one pair `p` between them.
pub(crate) struct Sandbox {
    pub(crate) source: String,
    pub(crate) target: String,
    pub(crate) config: PathBuf,
    _dir: TempDir,
}

/// A directory removed when dropped.
pub(crate) struct TempDir(pub(crate) PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Sandbox {
    pub(crate) fn new(hint: &str) -> Sandbox {
        let mariadb = dbsync_testkit::mariadb();
        let postgres = dbsync_testkit::postgres();
        let source = mariadb.create_database(hint).unwrap();
        let target = postgres.create_database(hint).unwrap();
        let dir = std::env::temp_dir().join(format!("dbsync-it-{}-{source}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let config = dir.join("dbsync.yaml");
        std::fs::write(
            &config,
            format!(
                "connections:\n  src: {{ url: \"{}\" }}\n  dst: {{ url: \"{}\" }}\npairs:\n  p:\n    source: src\n    target: dst\n    target_schema: public\n",
                mariadb.replication_url(&source),
                postgres.url(&target)
            ),
        )
        .unwrap();
        Sandbox {
            source,
            target,
            config,
            _dir: TempDir(dir),
        }
    }

    pub(crate) fn with_dataset(hint: &str, dataset: Dataset) -> Sandbox {
        let sandbox = Sandbox::new(hint);
        dbsync_testkit::mariadb()
            .load(&sandbox.source, dataset)
            .unwrap();
        sandbox
    }

    pub(crate) fn source_sql(&self, sql: &str) {
        dbsync_testkit::mariadb()
            .execute(Some(&self.source), sql)
            .unwrap();
    }

    pub(crate) fn run_once(&self) -> Output {
        run(&self.config, &["run", "--once"])
    }

    /// Asserts that every source table equals its target table, row by row and value
    /// by value, read back through the inverse of the type mapping.
    /// A connection to the target database.
    pub(crate) async fn target_client(&self) -> tokio_postgres::Client {
        let (client, connection) = tokio_postgres::connect(
            &dbsync_testkit::postgres().url(&self.target),
            tokio_postgres::NoTls,
        )
        .await
        .unwrap();
        tokio::spawn(connection);
        client
    }

    pub(crate) async fn assert_in_sync(&self) {
        let mut source = source_conn(&self.source).await;
        let tables = dbsync_mysql::schema::read_tables(&mut source, &self.source)
            .await
            .unwrap();
        let client = self.target_client().await;
        for table in tables.into_iter().filter(is_synced) {
            let table = Arc::new(table);
            let expected = read_source(&mut source, &table).await;
            let target = TargetTable::plan(
                &table,
                "public",
                &table.name.name,
                &table.primary_key,
                IdentifierCase::Lower,
                MappingOptions::default(),
            )
            .unwrap();
            let actual = dbsync_postgres::reader::read_as_source(&client, &target, &table)
                .await
                .unwrap();
            assert_eq!(expected.len(), actual.len(), "row count of {}", table.name);
            for (want, got) in expected.iter().zip(&actual) {
                assert_eq!(normalize(want), normalize(got), "a row of {}", table.name);
            }
        }
    }

    /// Every row of `sql` run on the target, each value as PostgreSQL prints it
    /// (`None` for NULL): what a user querying the target sees, independent of
    /// dbsync's own read-back that [`Sandbox::assert_in_sync`] compares through.
    pub(crate) async fn target_query(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        let client = self.target_client().await;
        let messages = client
            .simple_query(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        messages
            .into_iter()
            .filter_map(|message| match message {
                tokio_postgres::SimpleQueryMessage::Row(row) => Some(
                    (0..row.len())
                        .map(|i| row.get(i).map(str::to_owned))
                        .collect(),
                ),
                _ => None,
            })
            .collect()
    }
}

/// Runs dbsync in the configuration's directory, where the default state store
/// (`.dbsync/state.db`, which `verify` records into) then lands.
pub(crate) fn run(config: &Path, args: &[&str]) -> Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_dbsync"));
    if let Some(directory) = config.parent().filter(|d| d.is_absolute()) {
        command.current_dir(directory);
    }
    command
        .args(args)
        .arg("--config")
        .arg(config)
        .env("DBSYNC_LOG", "warn")
        .output()
        .unwrap()
}

/// A TCP port free on loopback now, for a server to listen on.
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub(crate) fn assert_success(output: &Output) {
    assert!(
        output.status.success(),
        "dbsync exited with {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

async fn source_conn(database: &str) -> mysql_async::Conn {
    let opts =
        dbsync_mysql::session::options_from_url(&dbsync_testkit::mariadb().url(database)).unwrap();
    dbsync_mysql::session::connect(opts, "the test source")
        .await
        .unwrap()
}

/// Every row of a source table in key order, as the copy reads it.
async fn read_source(conn: &mut mysql_async::Conn, table: &Arc<TableSchema>) -> Vec<Row> {
    const CHUNK: usize = 100_000;
    let reader = ChunkReader::new(Arc::clone(table), &table.primary_key, CHUNK).unwrap();
    let mut rows = Vec::new();
    let mut after: Option<Vec<Value>> = None;
    loop {
        let chunk = reader.read(conn, after.as_deref()).await.unwrap();
        let done = chunk.len() < CHUNK;
        after = chunk.last().map(|row| reader.key_of(row));
        rows.extend(chunk);
        if done {
            return rows;
        }
    }
}

/// What the mapping documents as changed on the way: JSON is compared as JSON (jsonb
/// reorders keys), and a zero date arrives as NULL under the default policy.
fn normalize(row: &Row) -> Row {
    row.iter()
        .map(|value| match value {
            Value::Json(text) => Value::Json(
                serde_json::from_str::<serde_json::Value>(text)
                    .map(|json| json.to_string())
                    .unwrap_or(text.clone()),
            ),
            Value::ZeroDate if MappingOptions::default().zero_date == ZeroDatePolicy::Null => {
                Value::Null
            }
            other => other.clone(),
        })
        .collect()
}

/// Configurations other than the sandbox's own: through a proxy, with other settings.
impl Sandbox {
    /// The sandbox's directory, for files a test keeps beside the configuration.
    pub(crate) fn dir(&self) -> &Path {
        &self._dir.0
    }

    /// The replication account's URL for the source database on `port` (a proxy's).
    pub(crate) fn source_url_on_port(&self, port: u16) -> String {
        format!(
            "mysql://{}:{}@127.0.0.1:{port}/{}",
            dbsync_testkit::REPLICATION_USER,
            dbsync_testkit::REPLICATION_PASSWORD,
            self.source
        )
    }

    /// The URL of the source database for an account of its own that may read every
    /// table, see their triggers and change only the trigger audit log: what trigger
    /// capture needs.
    pub(crate) fn ordinary_user_url(&self) -> String {
        let log = dbsync_mysql::audit_log::AUDIT_LOG;
        self.source_account_url(
            "reader",
            "reader",
            &format!(
                "GRANT SELECT, TRIGGER ON `{db}`.* TO {{account}};
                 GRANT UPDATE, DELETE ON `{db}`.`{log}` TO {{account}};",
                db = self.source
            ),
        )
    }

    /// The URL of the source database for a new account `{prefix}_{database}` with
    /// `password` and what binlog capture needs: replication and reading the tables.
    pub(crate) fn binlog_account_url(&self, prefix: &str, password: &str) -> String {
        self.source_account_url(
            prefix,
            password,
            &format!(
                "GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO {{account}};
                 GRANT SELECT ON `{}`.* TO {{account}};",
                self.source
            ),
        )
    }

    /// The URL of the source database for a new account `{prefix}_{database}` with
    /// `password`, given `grants`: SQL statements where `{account}` stands for it.
    pub(crate) fn source_account_url(&self, prefix: &str, password: &str, grants: &str) -> String {
        let user = format!("{prefix}_{}", self.source);
        let account = format!("'{user}'@'127.0.0.1'");
        dbsync_testkit::mariadb()
            .execute(
                None,
                &format!(
                    "CREATE USER {account} IDENTIFIED BY '{password}'; {}",
                    grants.replace("{account}", &account)
                ),
            )
            .unwrap();
        format!(
            "mysql://{user}:{password}@127.0.0.1:{}/{}",
            dbsync_testkit::mariadb().port(),
            self.source
        )
    }

    /// The URL of the target database on `port` (a proxy's).
    pub(crate) fn target_url_on_port(&self, port: u16) -> String {
        dbsync_testkit::postgres().url_on_port(port, &self.target)
    }

    /// Writes `file` in the sandbox's directory: pair `p` from `source_url` to
    /// `target_url`, each line of `pair_settings` added to the pair, and `top_level`
    /// (YAML sections such as `retry:`) after it. Returns its path.
    pub(crate) fn write_config(
        &self,
        file: &str,
        source_url: &str,
        target_url: &str,
        pair_settings: &[&str],
        top_level: &str,
    ) -> PathBuf {
        let mut yaml = format!(
            "connections:\n  src: {{ url: \"{source_url}\" }}\n  dst: {{ url: \"{target_url}\" }}\npairs:\n  p:\n    source: src\n    target: dst\n    target_schema: public\n"
        );
        for setting in pair_settings {
            yaml.push_str(&format!("    {setting}\n"));
        }
        yaml.push_str(top_level);
        let path = self.dir().join(file);
        std::fs::write(&path, yaml).unwrap();
        path
    }
}

/// The target of a pair in the tests of every target engine.
pub(crate) enum Replica {
    Postgres { database: String },
    Mysql { database: String },
    Sqlite { path: PathBuf },
}

impl Replica {
    pub(crate) fn postgres(hint: &str) -> Replica {
        Replica::Postgres {
            database: dbsync_testkit::postgres().create_database(hint).unwrap(),
        }
    }

    /// A database on the testkit's second MariaDB.
    pub(crate) fn mysql(hint: &str) -> Replica {
        Replica::Mysql {
            database: dbsync_testkit::mariadb_target()
                .create_database(hint)
                .unwrap(),
        }
    }

    /// A file `hint.sqlite` in `dir`, not created yet.
    pub(crate) fn sqlite(dir: &Path, hint: &str) -> Replica {
        Replica::Sqlite {
            path: dir.join(format!("{hint}.sqlite")),
        }
    }

    /// Runs `sql`, statements separated by semicolons, on the target database.
    pub(crate) fn execute(&self, sql: &str) {
        match self {
            Replica::Postgres { database } => {
                dbsync_testkit::postgres().execute(database, sql).unwrap();
            }
            Replica::Mysql { database } => {
                dbsync_testkit::mariadb_target()
                    .execute(Some(database), sql)
                    .unwrap();
            }
            Replica::Sqlite { path } => rusqlite::Connection::open(path)
                .and_then(|connection| connection.execute_batch(sql))
                .unwrap_or_else(|e| panic!("{sql}: {e}")),
        }
    }

    pub(crate) fn url(&self) -> String {
        match self {
            Replica::Postgres { database } => dbsync_testkit::postgres().url(database),
            Replica::Mysql { database } => dbsync_testkit::mariadb_target().url(database),
            Replica::Sqlite { path } => format!("sqlite://{}", path.display()),
        }
    }

    /// Every row of the target table `name` that receives source `table`, read back as
    /// the source's values, in the order of their debug text: engines order text keys
    /// by different collations, so both sides are sorted the same way to compare.
    pub(crate) async fn rows(&self, table: &Arc<TableSchema>, name: &str) -> Vec<Row> {
        let mut rows = match self {
            Replica::Postgres { database } => {
                let target = TargetTable::plan(
                    table,
                    "public",
                    name,
                    &table.primary_key,
                    IdentifierCase::Lower,
                    MappingOptions::default(),
                )
                .unwrap();
                let (client, connection) = tokio_postgres::connect(
                    &dbsync_testkit::postgres().url(database),
                    tokio_postgres::NoTls,
                )
                .await
                .unwrap();
                tokio::spawn(connection);
                dbsync_postgres::reader::read_as_source(&client, &target, table)
                    .await
                    .unwrap()
            }
            Replica::Mysql { database } => {
                // The same reader as the source's, on the target's table.
                let mut target = TableSchema::clone(table);
                target.name.schema = database.clone();
                target.name.name = name.to_owned();
                let opts = dbsync_mysql::session::options_from_url(
                    &dbsync_testkit::mariadb_target().url(database),
                )
                .unwrap();
                let mut conn = dbsync_mysql::session::connect(opts, "the test target")
                    .await
                    .unwrap();
                read_source(&mut conn, &Arc::new(target)).await
            }
            Replica::Sqlite { path } => {
                let target = dbsync_sqlite::target_table::TargetTable::plan(
                    table,
                    name,
                    dbsync_sqlite::target_type::MappingOptions::default(),
                )
                .unwrap();
                dbsync_sqlite::reader::read_as_source(path, &target, table)
                    .await
                    .unwrap()
            }
        };
        let mut rows: Vec<Row> = rows.drain(..).map(|row| normalize(&row)).collect();
        sort_rows(&mut rows);
        rows
    }

    /// Whether every table of MySQL source database `source` equals its target table
    /// (named `prefix` + its name); the first difference otherwise.
    pub(crate) async fn compare(&self, source: &str, prefix: &str) -> Result<(), String> {
        let mut conn = source_conn(source).await;
        let tables = dbsync_mysql::schema::read_tables(&mut conn, source)
            .await
            .unwrap();
        let mut sides = Vec::new();
        for table in tables.into_iter().filter(is_synced) {
            let table = Arc::new(table);
            let rows = read_source(&mut conn, &table).await;
            sides.push((table, rows));
        }
        self.compare_rows(sides, prefix).await
    }

    /// Whether tables `names` of PostgreSQL source database `source` equal their
    /// target tables (named `prefix` + their name); the first difference otherwise.
    pub(crate) async fn compare_postgres(
        &self,
        source: &str,
        names: &[&str],
        prefix: &str,
    ) -> Result<(), String> {
        let config: tokio_postgres::Config =
            dbsync_testkit::postgres().url(source).parse().unwrap();
        let mut reader = dbsync_postgres::source::PgSource::connect(&config)
            .await
            .unwrap();
        let tables = dbsync_postgres::schema::read_tables(reader.client(), "public")
            .await
            .unwrap();
        let mut sides = Vec::new();
        for table in tables
            .into_iter()
            .filter(|t| names.contains(&t.name.name.as_str()))
        {
            let table = Arc::new(table);
            let mut rows = Vec::new();
            let mut after: Option<Vec<Value>> = None;
            loop {
                let chunk = reader
                    .read_chunk(&table, after.as_deref(), 10_000)
                    .await
                    .unwrap();
                let done = chunk.len() < 10_000;
                after = chunk.last().map(|row| {
                    table
                        .primary_key
                        .iter()
                        .map(|k| {
                            row[table.columns.iter().position(|c| &c.name == k).unwrap()].clone()
                        })
                        .collect()
                });
                rows.extend(chunk);
                if done {
                    break;
                }
            }
            sides.push((table, rows));
        }
        assert_eq!(sides.len(), names.len(), "the source has tables {names:?}");
        self.compare_rows(sides, prefix).await
    }

    /// Whether each source table, given with its rows, equals its target table.
    async fn compare_rows(
        &self,
        sides: Vec<(Arc<TableSchema>, Vec<Row>)>,
        prefix: &str,
    ) -> Result<(), String> {
        for (table, rows) in sides {
            let mut expected: Vec<Row> = rows.iter().map(normalize).collect();
            sort_rows(&mut expected);
            let actual = self
                .rows(&table, &format!("{prefix}{}", table.name.name))
                .await;
            if expected.len() != actual.len() {
                return Err(format!(
                    "{}: {} rows on the source, {} on the target",
                    table.name,
                    expected.len(),
                    actual.len()
                ));
            }
            if let Some((want, got)) = expected.iter().zip(&actual).find(|(a, b)| a != b) {
                return Err(format!(
                    "{}: the source has\n  {want:?}\nwhere the target has\n  {got:?}",
                    table.name
                ));
            }
        }
        Ok(())
    }
}

/// Whether a source table is one that pairs sync: all but dbsync's own.
fn is_synced(table: &TableSchema) -> bool {
    table.name.name != dbsync_mysql::audit_log::AUDIT_LOG
}

fn sort_rows(rows: &mut [Row]) {
    rows.sort_by_cached_key(|row| format!("{row:?}"));
}

/// A `dbsync run` (not `--once`) or `dbsync serve` in the background, its log appended
/// to a file.
pub(crate) struct Daemon {
    child: Child,
    log: PathBuf,
}

impl Daemon {
    /// `dbsync run`.
    pub(crate) fn start(config: &Path, log: &Path) -> Daemon {
        Daemon::spawn("run", config, log)
    }

    /// `dbsync serve`.
    pub(crate) fn serve(config: &Path, log: &Path) -> Daemon {
        Daemon::spawn("serve", config, log)
    }

    /// Waits until the `dbsync serve` at `base` answers /health, failing the test when
    /// it exits or 30 s pass first.
    pub(crate) async fn wait_for_health(&mut self, base: &str) {
        let client = reqwest::Client::new();
        let deadline = Deadline::new(30, "the API to answer /health");
        while !client
            .get(format!("{base}/health"))
            .send()
            .await
            .is_ok_and(|response| response.status().is_success())
        {
            deadline.tick(self).await;
        }
    }

    fn spawn(command: &str, config: &Path, log: &Path) -> Daemon {
        let stderr = File::options().create(true).append(true).open(log).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_dbsync"))
            .args([command, "--config"])
            .arg(config)
            .env("DBSYNC_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .unwrap();
        Daemon {
            child,
            log: log.to_owned(),
        }
    }

    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Panics, with the log, when the process has ended.
    pub(crate) fn assert_running(&mut self, when: &str) {
        if let Some(status) = self.child.try_wait().unwrap() {
            panic!(
                "dbsync ended with {status} {when}; its log:\n{}",
                self.log()
            );
        }
    }

    /// SIGKILL, as a crash or the OOM killer does.
    pub(crate) fn kill9(&mut self) {
        self.assert_running("before it was to be killed");
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM, then waits at most `within` for the process to end.
    pub(crate) async fn terminate(&mut self, within: Duration) -> ExitStatus {
        self.assert_running("before SIGTERM");
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success(), "kill -TERM failed");
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "dbsync did not stop within {within:?} of SIGTERM; its log:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A limit on a wait, failing with what was awaited, and with dbsync's log when the
/// process ended instead.
pub(crate) struct Deadline {
    end: Instant,
    what: String,
}

impl Deadline {
    pub(crate) fn new(seconds: u64, what: impl Into<String>) -> Deadline {
        Deadline {
            end: Instant::now() + Duration::from_secs(seconds),
            what: what.into(),
        }
    }

    pub(crate) async fn tick(&self, daemon: &mut Daemon) {
        daemon.assert_running(&format!("while waiting for {}", self.what));
        assert!(
            Instant::now() < self.end,
            "timed out waiting for {}; dbsync's log:\n{}",
            self.what,
            daemon.log()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
