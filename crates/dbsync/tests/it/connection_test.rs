//! `dbsync connection test`: connects and runs the checks `run` would, writing nothing.

use crate::support::{Sandbox, run};

#[test]
fn a_source_and_a_target_pass() {
    let sandbox = Sandbox::new("conntest");
    let source = run(&sandbox.config, &["connection", "test", "src"]);
    let text = String::from_utf8_lossy(&source.stdout);
    assert_eq!(
        source.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&source.stderr)
    );
    assert!(
        text.starts_with("connection `src`: ok; MySQL/MariaDB "),
        "{text}"
    );
    assert!(text.contains("ready as a binlog source"), "{text}");

    let target = run(&sandbox.config, &["connection", "test", "dst"]);
    let text = String::from_utf8_lossy(&target.stdout);
    assert_eq!(
        target.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&target.stderr)
    );
    assert!(
        text.starts_with("connection `dst`: ok; PostgreSQL 15"),
        "{text}"
    );
    assert!(text.contains("may create tables in public"), "{text}");
}

#[test]
fn a_source_without_binlog_fails_with_the_fix() {
    let sandbox = Sandbox::new("conntestnobinlog");
    let server = dbsync_testkit::mariadb_without_binlog();
    let database = server.create_database("conntest").unwrap();
    let yaml = std::fs::read_to_string(&sandbox.config).unwrap();
    let source_url = dbsync_testkit::mariadb().replication_url(&sandbox.source);
    std::fs::write(
        &sandbox.config,
        yaml.replace(&source_url, &server.replication_url(&database)),
    )
    .unwrap();
    let output = run(&sandbox.config, &["connection", "test", "src"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr).trim(),
        "error: the source has binary logging off (log_bin); start the server with --log-bin and --binlog-format=ROW"
    );
}

#[test]
fn an_unknown_connection_is_named() {
    let sandbox = Sandbox::new("conntestunknown");
    let output = run(&sandbox.config, &["connection", "test", "nope"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("there is no connection `nope`"), "{stderr}");
    assert!(
        stderr.contains("the connections are: dst, src."),
        "{stderr}"
    );
}
