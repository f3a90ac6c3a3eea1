//! Bad input: one clear sentence on stderr, the contract's exit code, no panic, and
//! nothing written to either database.

use std::process::Output;

use dbsync_testkit::{REPLICATION_PASSWORD, REPLICATION_USER};

use crate::support::{Sandbox, run};

/// Runs `run --once` with `yaml` as the whole configuration and returns the output,
/// after checking that it failed as the contract says: exit 2, one line on stderr
/// that starts with `error: `, nothing on stdout, and no table on the target.
async fn refused(sandbox: &Sandbox, yaml: &str) -> String {
    std::fs::write(&sandbox.config, yaml).unwrap();
    let output = run(&sandbox.config, &["run", "--once"]);
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
