//! Bad input: one clear sentence on stderr, the contract's exit code, no panic, and
//! nothing written to either database.

use std::process::Output;

use dbsync_testkit::{REPLICATION_PASSWORD, REPLICATION_USER};

use mysql_async::prelude::Queryable;

use crate::support::{Sandbox, run};

/// Runs `run --once` with `yaml` as the whole configuration and returns the output,
/// after checking that it failed as the contract says: exit 2, one line on stderr
/// that starts with `error: `, nothing on stdout, and no table on the target.
async fn refused(sandbox: &Sandbox, yaml: &str) -> String {
    refused_to(sandbox, yaml, &["run", "--once"]).await
}

/// [`refused`] for the command `args`.
async fn refused_to(sandbox: &Sandbox, yaml: &str, args: &[&str]) -> String {
    std::fs::write(&sandbox.config, yaml).unwrap();
    let output = run(&sandbox.config, args);
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(2), "stderr:\n{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one sentence:\n{stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(output.stdout.is_empty());
    assert_eq!(
        target_tables(&sandbox.target).await,
        Vec::<String>::new(),
        "nothing is written to the target"
    );
    // Shown with --nocapture, to read the sentences a user gets.
    eprintln!("{stderr}");
    stderr.trim_end().to_owned()
}

fn stderr_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

async fn target_tables(database: &str) -> Vec<String> {
    let (client, connection) = tokio_postgres::connect(
        &dbsync_testkit::postgres().url(database),
        tokio_postgres::NoTls,
    )
    .await
    .unwrap();
    tokio::spawn(connection);
    client
        .query(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables
             WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect()
}

/// A configuration with one pair from `source_url` to the sandbox's target.
fn config(sandbox: &Sandbox, source_url: &str) -> String {
    format!(
        "connections:\n  src: {{ url: \"{source_url}\" }}\n  dst: {{ url: \"{}\" }}\npairs:\n  p: {{ source: src, target: dst }}\n",
        dbsync_testkit::postgres().url(&sandbox.target)
    )
}

fn source_url(port: u16, user: &str, password: &str, database: &str) -> String {
    format!("mysql://{user}:{password}@127.0.0.1:{port}/{database}")
}

#[tokio::test]
async fn wrong_password() {
    let sandbox = Sandbox::new("wrongpw");
    sandbox.source_sql("CREATE TABLE t (id INT PRIMARY KEY)");
    let port = dbsync_testkit::mariadb().port();
    let message = refused(
        &sandbox,
        &config(
            &sandbox,
            &source_url(port, REPLICATION_USER, "wrong", &sandbox.source),
        ),
    )
    .await;
    assert!(
        message.contains("check the user and password in the connection URL"),
        "{message}"
    );
    assert!(
        !message.contains("wrong"),
        "the password is not printed: {message}"
    );
}

#[tokio::test]
async fn unknown_database() {
    let sandbox = Sandbox::new("unknowndb");
    let port = dbsync_testkit::mariadb().port();
    let url = source_url(
        port,
        REPLICATION_USER,
        REPLICATION_PASSWORD,
        "no_such_database",
    );
    let message = refused(&sandbox, &config(&sandbox, &url)).await;
    assert!(
        message.contains("check the database name in the connection URL"),
        "{message}"
    );
}

#[tokio::test]
async fn table_without_a_key() {
    let sandbox = Sandbox::new("nokey");
    sandbox
        .source_sql("CREATE TABLE keyed (id INT PRIMARY KEY); CREATE TABLE loose (a INT, b TEXT)");
    let yaml = std::fs::read_to_string(&sandbox.config).unwrap();
    let message = refused(&sandbox, &yaml).await;
    assert_eq!(
        message,
        format!(
            "error: table {}.loose: has no primary key, so its rows cannot be told apart; add one, or declare `primary_key` for it under pairs.p.tables, or exclude it with \"!loose\"",
            sandbox.source
        )
    );
}

#[tokio::test]
async fn binlog_off() {
    let sandbox = Sandbox::new("nobinlog");
    let server = dbsync_testkit::mariadb_without_binlog();
    let database = server.create_database("nobinlog").unwrap();
    server
        .execute(Some(&database), "CREATE TABLE t (id INT PRIMARY KEY)")
        .unwrap();
    let message = refused(
        &sandbox,
        &config(&sandbox, &server.replication_url(&database)),
    )
    .await;
    assert_eq!(
        message,
        "error: the source has binary logging off (log_bin); start the server with --log-bin and --binlog-format=ROW"
    );
}

#[tokio::test]
async fn malformed_yaml() {
    let sandbox = Sandbox::new("badyaml");
    let message = refused(
        &sandbox,
        "connections:\n  src: { url: \"mysql://x@h/db\"\npairs: [\n",
    )
    .await;
    assert!(message.contains("line"), "names the line: {message}");
}

#[tokio::test]
async fn unknown_config_key() {
    let sandbox = Sandbox::new("unknownkey");
    let yaml = std::fs::read_to_string(&sandbox.config)
        .unwrap()
        .replace("    target: dst\n", "    target: dst\n    batchsize: 10\n");
    let message = refused(&sandbox, &yaml).await;
    assert!(message.contains("batchsize"), "names the key: {message}");
    assert!(
        message.contains("batch_size"),
        "lists the allowed keys: {message}"
    );
}

#[tokio::test]
async fn triggers_install_without_the_trigger_privilege() {
    // A server without a binlog: with one, MariaDB would also ask for SUPER.
    let server = dbsync_testkit::mariadb_without_binlog();
    let database = server.create_database("notrigger").unwrap();
    let user = format!("u_{database}");
    server
        .execute(
            Some(&database),
            &format!(
                "CREATE TABLE a (id INT PRIMARY KEY, v INT); CREATE TABLE b (id INT PRIMARY KEY);
                 CREATE USER '{user}'@'127.0.0.1' IDENTIFIED BY 'pw';
                 GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, INDEX ON `{database}`.* TO '{user}'@'127.0.0.1';"
            ),
        )
        .unwrap();
    let sandbox = Sandbox::new("notrigger");
    let yaml = config(&sandbox, &source_url(server.port(), &user, "pw", &database)).replace(
        "p: { source: src, target: dst }",
        "p: { source: src, target: dst, capture: triggers }",
    );
    let message = refused_to(&sandbox, &yaml, &["triggers", "install", "p"]).await;
    assert!(message.contains("TRIGGER privilege"), "{message}");
    assert!(message.contains("GRANT TRIGGER"), "says the fix: {message}");
    // Nothing half-installed: no trigger, no audit log.
    let opts = dbsync_mysql::session::options_from_url(&server.url(&database)).unwrap();
    let mut conn = dbsync_mysql::session::connect(opts, "the test")
        .await
        .unwrap();
    let left: Option<(i64, i64)> = conn
        .exec_first(
            "SELECT (SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ?),
                    (SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'sync_audit_log')",
            (&database, &database),
        )
        .await
        .unwrap();
    assert_eq!(left, Some((0, 0)), "triggers and audit tables left behind");
}

#[tokio::test]
async fn poll_table_without_the_named_column() {
    let sandbox = Sandbox::new("pollcolumn");
    sandbox.source_sql("CREATE TABLE orders (id INT PRIMARY KEY, total INT)");
    let yaml = config(&sandbox, &dbsync_testkit::mariadb().url(&sandbox.source)).replace(
        "p: { source: src, target: dst }",
        "p: { source: src, target: dst, capture: poll, tables: [{ name: orders, timestamp_column: modified_at }] }",
    );
    let message = refused(&sandbox, &yaml).await;
    assert!(
        message.contains("modified_at"),
        "names the column: {message}"
    );
    assert!(message.contains("orders"), "names the table: {message}");
}

#[tokio::test]
async fn sqlite_target_that_cannot_be_written() {
    let sandbox = Sandbox::new("sqliteunwritable");
    sandbox.source_sql("CREATE TABLE t (id INT PRIMARY KEY)");
    let missing = sandbox.dir().join("no-such-directory");
    let yaml = format!(
        "connections:\n  src: {{ url: \"{}\" }}\n  dst: {{ url: \"sqlite://{}/edge.sqlite\" }}\npairs:\n  p: {{ source: src, target: dst }}\n",
        dbsync_testkit::mariadb().replication_url(&sandbox.source),
        missing.display()
    );
    let message = refused(&sandbox, &yaml).await;
    assert!(
        message.contains("no-such-directory"),
        "names the path: {message}"
    );
    assert!(!missing.exists(), "nothing is created");
}
