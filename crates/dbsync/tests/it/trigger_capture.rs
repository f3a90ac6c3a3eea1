//! Trigger capture through the `dbsync` binary, beyond convergence (which
//! `recovery` tests under kill -9): what a failed apply leaves in the audit log.

use mysql_async::prelude::Queryable;

use crate::support::{Sandbox, assert_success, run};

#[tokio::test]
async fn a_change_the_target_refuses_is_counted_with_its_error_in_the_audit_log() {
    let sandbox = Sandbox::new("trigerror");
    sandbox.source_sql(
        "CREATE TABLE t (id INT PRIMARY KEY, v INT NOT NULL); INSERT INTO t VALUES (1, 1)",
    );
    let config = sandbox.write_config(
        "triggers.yaml",
        &dbsync_testkit::mariadb().url(&sandbox.source),
        &dbsync_testkit::postgres().url(&sandbox.target),
        &["capture: triggers"],
        "retry:\n  attempts: 1\n  delay: 10ms\n",
    );
    assert_success(&run(&config, &["triggers", "install", "p"]));
    assert_success(&run(&config, &["run", "--once"]));
    // The target refuses what the source takes.
    let client = sandbox.target_client().await;
    client
        .batch_execute("ALTER TABLE public.t ADD CONSTRAINT small CHECK (v < 100)")
        .await
        .unwrap();
    sandbox.source_sql("UPDATE t SET v = 500 WHERE id = 1");
    let output = run(&config, &["run", "--once"]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("small"), "names the constraint: {stderr}");

    let opts =
        dbsync_mysql::session::options_from_url(&dbsync_testkit::mariadb().url(&sandbox.source))
            .unwrap();
    let mut conn = dbsync_mysql::session::connect(opts, "the test")
        .await
        .unwrap();
    let entry: Option<(u32, Option<String>, bool)> = conn
        .query_first(
            "SELECT retry_count, error, synced FROM sync_audit_log WHERE table_name = 't' ORDER BY id DESC LIMIT 1",
        )
        .await
        .unwrap();
    let (retries, error, synced) = entry.expect("the update's entry");
    assert!(
        retries >= 1,
        "the failed attempt is counted; stderr: {stderr}"
    );
    assert!(
        error.as_deref().is_some_and(|e| e.contains("small")),
        "the error is kept: {error:?}"
    );
    assert!(!synced);
}
