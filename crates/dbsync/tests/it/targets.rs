//! MySQL/MariaDB sources into each target engine, through the `dbsync` binary: the copy
//! and then the stream under a write workload, and every table compared value by
//! value.

use std::time::Duration;

use dbsync_testkit::Dataset;
use mysql_async::prelude::Queryable;

use crate::support::{Daemon, Deadline, Replica, Sandbox, assert_success, run};

/// Sakila into `replica` by binlog with a prefix on every table: the copy while Sakila
/// is written, then the stream, until the two sides are equal.
async fn sakila_converges_under_writes(hint: &str, replica: impl FnOnce(&Sandbox) -> Replica) {
    let sandbox = Sandbox::with_dataset(hint, Dataset::Sakila);
    let replica = replica(&sandbox);
    let config = sandbox.write_config(
        "replica.yaml",
        &dbsync_testkit::mariadb().replication_url(&sandbox.source),
        &replica.url(),
        &["table_prefix: tmp_", "batch_size: 500"],
        "",
    );
    let mut daemon = Daemon::start(&config, &sandbox.dir().join("replica.log"));
    sakila_writes(&sandbox.source).await;
    let deadline = Deadline::new(120, "the target to equal the source");
    loop {
        match replica.compare(&sandbox.source, "tmp_").await {
            Ok(()) => break,
            Err(_) => deadline.tick(&mut daemon).await,
        }
    }
    assert!(daemon.terminate(Duration::from_secs(20)).await.success());
    // And a `--once` run afterwards finds nothing to do and leaves it equal.
    assert_success(&run(&config, &["run", "--once"]));
    replica.compare(&sandbox.source, "tmp_").await.unwrap();
}

/// Two seconds of writes to Sakila: inserts, updates of many types, a key change on a
/// table no foreign key names, deletes, and a multi-table transaction.
async fn sakila_writes(database: &str) {
    let opts =
        dbsync_mysql::session::options_from_url(&dbsync_testkit::mariadb().url(database)).unwrap();
    let mut conn = dbsync_mysql::session::connect(opts, "the test source")
        .await
        .unwrap();
    for i in 0..40u32 {
        let statements = [
            format!(
                "INSERT INTO actor (actor_id, first_name, last_name) VALUES ({}, 'ÅSA{i}', 'NÖRD😀')",
                5000 + i
            ),
            format!(
                "UPDATE film SET rental_rate = rental_rate + 0.01, special_features = 'Trailers,Deleted Scenes', rating = 'NC-17' WHERE film_id = {}",
                i * 7 + 1
            ),
            format!(
                "UPDATE payment SET payment_id = {} WHERE payment_id = {}",
                60000 + i,
                i + 1
            ),
            format!("DELETE FROM film_actor WHERE actor_id = {}", i + 1),
            format!(
                "UPDATE customer SET email = NULL, active = 0, last_update = '2026-11-23 10:00:{:02}' WHERE customer_id = {}",
                i,
                i + 1
            ),
        ];
        conn.query_drop("START TRANSACTION").await.unwrap();
        for statement in &statements {
            conn.query_drop(statement)
                .await
                .unwrap_or_else(|e| panic!("{statement}: {e}"));
        }
        conn.query_drop("COMMIT").await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn sakila_into_sqlite_converges_through_the_copy_and_under_writes() {
    sakila_converges_under_writes("sqlite", |sandbox| Replica::sqlite(sandbox.dir(), "edge")).await;
}

#[tokio::test]
async fn sakila_into_postgres_with_a_prefix_converges_under_writes() {
    sakila_converges_under_writes("pgprefix", |_| Replica::postgres("pgprefix")).await;
}

#[tokio::test]
async fn sakila_into_mysql_converges_through_the_copy_and_under_writes() {
    sakila_converges_under_writes("mysql", |_| Replica::mysql("replica")).await;
}
