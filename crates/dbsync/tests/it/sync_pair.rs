//! A MySQL/MariaDB → PostgreSQL pair on real servers, driven through the `dbsync`
//! binary, and the two sides compared value by value.

use dbsync_testkit::Dataset;

use crate::support::{Sandbox, assert_success};

#[tokio::test]
async fn sakila_copies_value_by_value() {
    let sandbox = Sandbox::with_dataset("sakila", Dataset::Sakila);
    assert_success(&sandbox.run_once());
    sandbox.assert_in_sync().await;
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
