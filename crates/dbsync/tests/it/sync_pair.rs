//! A MySQL/MariaDB → PostgreSQL pair on real servers, driven through the `dbsync`
//! binary, and the two sides compared value by value.

use dbsync_testkit::Dataset;

use crate::support::{Sandbox, assert_success};

#[tokio::test]
async fn sakila_copies_value_by_value() {
    let sandbox = Sandbox::with_dataset("sakila", Dataset::Sakila);
    assert_success(&sandbox.run_once());
    sandbox.assert_in_sync().await;
    // Secondary indexes are built after the copy, with its last chunk.
    let indexes = sandbox
        .target_query(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'rental' ORDER BY indexname",
        )
        .await;
    let indexes: Vec<String> = indexes
        .into_iter()
        .filter_map(|row| row[0].clone())
        .collect();
    assert_eq!(
        indexes,
        [
            "CREATE INDEX rental_idx_fk_customer_id ON public.rental USING btree (customer_id)",
            "CREATE INDEX rental_idx_fk_inventory_id ON public.rental USING btree (inventory_id)",
            "CREATE INDEX rental_idx_fk_staff_id ON public.rental USING btree (staff_id)",
            "CREATE UNIQUE INDEX rental_pkey ON public.rental USING btree (rental_id)",
            "CREATE UNIQUE INDEX rental_rental_date ON public.rental USING btree (rental_date, inventory_id, customer_id)",
        ]
    );
}

#[tokio::test]
async fn chinook_copies_value_by_value() {
    let sandbox = Sandbox::with_dataset("chinook", Dataset::ChinookMysql);
    assert_success(&sandbox.run_once());
    sandbox.assert_in_sync().await;
}

#[tokio::test]
async fn changes_after_the_copy_stream_through() {
    // The key change is on a table no foreign key refers to: InnoDB's cascaded
    // changes never reach the binlog, so no binlog reader can see them.
    let sandbox = Sandbox::with_dataset("stream", Dataset::Sakila);
    assert_success(&sandbox.run_once());
    sandbox.source_sql(
        "INSERT INTO actor (actor_id, first_name, last_name) VALUES (1001, 'ÅSA', 'NÖRD😀');
         UPDATE actor SET last_name = 'CHANGED' WHERE actor_id = 1;
         UPDATE payment SET payment_id = 60001 WHERE payment_id = 2;
         DELETE FROM film_actor WHERE actor_id = 3;
         START TRANSACTION;
           UPDATE film SET rental_rate = rental_rate + 1 WHERE film_id <= 500;
           DELETE FROM film_text WHERE film_id > 900;
         COMMIT;
         TRUNCATE TABLE film_category;
         INSERT INTO film_category (film_id, category_id) VALUES (1, 1), (2, 2);",
    );
    assert_success(&sandbox.run_once());
    sandbox.assert_in_sync().await;
}

#[tokio::test]
async fn a_large_transaction_streams_in_several_batches() {
    let sandbox = Sandbox::new("bigtxn");
    sandbox.source_sql("CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20))");
    assert_success(&sandbox.run_once());
    sandbox.source_sql(
        "SET SESSION max_recursive_iterations = 200000;
         INSERT INTO t WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)
           SELECT i, CONCAT('row ', i) FROM n;",
    );
    assert_success(&sandbox.run_once());
    sandbox.assert_in_sync().await;
}

#[tokio::test]
async fn changes_during_the_copy_converge() {
    let sandbox = Sandbox::new("duringcopy");
    sandbox.source_sql(
        "CREATE TABLE t (id INT PRIMARY KEY, v INT NOT NULL, note VARCHAR(50));
         SET SESSION max_recursive_iterations = 1000000;
         INSERT INTO t WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200000)
           SELECT i, i, CONCAT('row ', i) FROM n;",
    );
    // Chunks of 1,000 rows: the copy takes long enough to change rows under it.
    let yaml = std::fs::read_to_string(&sandbox.config).unwrap();
    std::fs::write(
        &sandbox.config,
        yaml.replace(
            "    target_schema: public\n",
            "    target_schema: public\n    batch_size: 100\n",
        ),
    )
    .unwrap();
    let mut dbsync = std::process::Command::new(env!("CARGO_BIN_EXE_dbsync"))
        .args(["run", "--config"])
        .arg(&sandbox.config)
        .env("DBSYNC_LOG", "warn")
        .spawn()
        .unwrap();
    let client = sandbox.target_client().await;
    // The checkpoint table appears with the first chunk; until then the query fails.
    let copy_state = || async {
        client
            .query_opt(
                "SELECT checkpoint->'copy'->>'state' FROM dbsync_checkpoint",
                &[],
            )
            .await
            .ok()
            .flatten()
            .map(|row| row.get::<_, String>(0))
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while copy_state().await.as_deref() != Some("copying") {
        assert!(
            std::time::Instant::now() < deadline,
            "the copy did not start"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    // Rows behind the copy, ahead of it, deleted, inserted, and moved to a new key.
    sandbox.source_sql(
        "UPDATE t SET v = -v WHERE id % 97 = 0;
         DELETE FROM t WHERE id % 89 = 0;
         INSERT INTO t VALUES (300001, 1, 'new'), (300002, 2, 'new');
         UPDATE t SET id = id + 1000000 WHERE id % 101 = 0;",
    );
    assert_eq!(
        copy_state().await.as_deref(),
        Some("copying"),
        "the changes landed while the copy ran"
    );
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &dbsync.id().to_string()])
        .status();
    assert!(
        dbsync.wait().unwrap().success(),
        "SIGTERM stops dbsync gracefully"
    );
    assert_success(&sandbox.run_once());
    sandbox.assert_in_sync().await;
}
