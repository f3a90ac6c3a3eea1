//! What the pair tests share: a sandbox of a source and a target database with a
//! configuration file between them, running the `dbsync` binary, and comparing the
//! two sides value by value.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Arc;

use dbsync_config::{IdentifierCase, ZeroDatePolicy};
use dbsync_core::{Row, TableSchema, Value};
use dbsync_mysql::snapshot::ChunkReader;
use dbsync_postgres::target_table::TargetTable;
use dbsync_postgres::target_type::MappingOptions;
use dbsync_testkit::Dataset;

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
        for table in tables {
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

pub(crate) fn run(config: &Path, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_dbsync"))
        .args(args)
        .arg("--config")
        .arg(config)
        .env("DBSYNC_LOG", "warn")
        .output()
        .unwrap()
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
