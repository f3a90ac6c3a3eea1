//! MariaDB copied into SQLite by the real pipeline, then streamed, compared value by
//! value with the source.

use dbsync_testkit::Dataset;

use crate::support::{Scratch, Synced};

#[tokio::test]
async fn sakila_converges_through_the_copy_and_the_stream() {
    let mariadb = dbsync_testkit::mariadb();
    let database = mariadb.create_database("sakila_edge").unwrap();
    mariadb.load(&database, Dataset::SakilaGeo).unwrap();
    let scratch = Scratch::new("sakila");
    let path = scratch.path().join("edge.db");

    let mut synced = Synced::copy(&database, &path, &|name| format!("tmp_{name}")).await;
    assert_eq!(synced.tables.len(), 16);
    synced.assert_converged().await;

    mariadb
        .execute(
            Some(&database),
            "INSERT INTO actor (first_name, last_name) VALUES ('ZOË', 'ÅNGSTRÖM');
             UPDATE film SET rental_rate = 0.10, special_features = 'Trailers,Deleted Scenes', rating = 'NC-17' WHERE film_id = 7;
             UPDATE address SET location = ST_GeomFromText('POINT(-70.5 41.25)') WHERE address_id = 3;
             DELETE FROM payment WHERE payment_id BETWEEN 100 AND 180;
             UPDATE film_actor SET actor_id = 201 WHERE actor_id = 1 AND film_id = 1;
             INSERT INTO actor (actor_id, first_name, last_name) VALUES (201, 'NEW', 'KEY') ON DUPLICATE KEY UPDATE last_name = 'KEY';
             UPDATE staff SET picture = UNHEX('00FF00FE') WHERE staff_id = 2;
             UPDATE customer SET email = NULL, active = 0 WHERE customer_id = 5",
        )
        .unwrap();
    synced.catch_up().await;
    synced.assert_converged().await;

    // Every table went under its prefixed name, with its secondary indexes; the
    // SPATIAL and FULLTEXT ones have no SQLite counterpart.
    let file = rusqlite::Connection::open(&path).unwrap();
    let names = |kind: &str| -> Vec<String> {
        let mut statement = file
            .prepare("SELECT name FROM sqlite_master WHERE type = ?1 ORDER BY name")
            .unwrap();
        statement
            .query_map([kind], |row| row.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let tables = names("table");
    assert_eq!(tables.len(), 17, "{tables:?}");
    assert!(
        tables
            .iter()
            .all(|t| t.starts_with("tmp_") || t == "dbsync_checkpoint")
    );
    let indexes = names("index");
    assert!(
        indexes.contains(&"tmp_film_idx_title".to_owned()),
        "{indexes:?}"
    );
    assert!(
        !indexes.iter().any(|i| i.contains("location")),
        "{indexes:?}"
    );
    let mode: String = file
        .query_row("PRAGMA journal_mode", [], |row| row.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[tokio::test]
async fn tables_go_under_their_prefix_or_their_own_name() {
    let mariadb = dbsync_testkit::mariadb();
    let database = mariadb.create_database("renames").unwrap();
    mariadb
        .execute(
            Some(&database),
            "CREATE TABLE Orders (Id INT PRIMARY KEY, Note VARCHAR(20));
             CREATE TABLE order_line (order_id INT, n SMALLINT UNSIGNED, PRIMARY KEY (order_id, n));
             INSERT INTO Orders VALUES (1, 'first 🎬'), (2, NULL);
             INSERT INTO order_line VALUES (1, 1), (1, 2), (2, 1)",
        )
        .unwrap();
    let scratch = Scratch::new("renames");
    let path = scratch.path().join("edge.db");
    let rename = |name: &str| match name {
        "order_line" => "lines".to_owned(),
        name => format!("tmp_{name}"),
    };
    let synced = Synced::copy(&database, &path, &rename).await;
    synced.assert_converged().await;
    let file = rusqlite::Connection::open(&path).unwrap();
    let notes: Vec<(i64, Option<String>)> = file
        .prepare("SELECT id, note FROM TMP_ORDERS ORDER BY ID")
        .unwrap()
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(notes, [(1, Some("first 🎬".to_owned())), (2, None)]);
    let lines: i64 = file
        .query_row("SELECT count(*) FROM lines", [], |row| row.get(0))
        .unwrap();
    assert_eq!(lines, 3);
}
