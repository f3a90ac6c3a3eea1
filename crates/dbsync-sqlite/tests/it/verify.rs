//! Verify MariaDB -> SQLite: a copy by the real pipeline compares equal, and changes
//! planted in the file are found with their keys.

use dbsync_core::Value;
use dbsync_core::verify::{Key, VerifyOptions, VerifyReport, verify_tables};
use dbsync_mysql::source::MysqlSource;
use dbsync_sqlite::reader::TargetReader;
use dbsync_sqlite::target_type::MappingOptions;
use dbsync_testkit::Dataset;

use crate::support::{Scratch, Synced};

async fn verify(synced: &Synced) -> VerifyReport {
    let url = dbsync_testkit::mariadb().url(&synced.database);
    let mut source = MysqlSource::connect(dbsync_mysql::session::options_from_url(&url).unwrap())
        .await
        .unwrap();
    let targets = synced.targets.clone();
    let mut target = TargetReader::new(&synced.path, MappingOptions::default(), targets);
    // Small ranges, so that Sakila's tables are bisected for real.
    let options = VerifyOptions {
        rows_per_range: 2_000,
        leaf_rows: 40,
        fanout: 4,
        chunk_rows: 700,
        ..VerifyOptions::default()
    };
    verify_tables(&mut source, &mut target, &synced.tables, &options)
        .await
        .unwrap()
}

fn key(values: &[u64]) -> Key {
    values.iter().map(|&k| Value::UInt(k)).collect()
}

#[tokio::test]
async fn sakila_verifies_equal_and_planted_changes_are_found() {
    let mariadb = dbsync_testkit::mariadb();
    let database = mariadb.create_database("verify_edge").unwrap();
    mariadb.load(&database, Dataset::SakilaGeo).unwrap();
    let scratch = Scratch::new("verify");
    let path = scratch.path().join("edge.db");
    let synced = Synced::copy(&database, &path, &|name| format!("tmp_{name}")).await;

    let report = verify(&synced).await;
    let unequal: Vec<_> = report.tables.iter().filter(|t| !t.is_equal()).collect();
    assert!(unequal.is_empty(), "{unequal:?}");
    assert!(report.tables.iter().all(|t| t.source_rows == t.target_rows));

    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(
            "UPDATE tmp_film SET rental_rate = '4.98' WHERE film_id = 7;
             UPDATE tmp_address SET address = address || ' ' WHERE address_id = 3;
             DELETE FROM tmp_payment WHERE payment_id IN (100, 16049);
             INSERT INTO tmp_actor (actor_id, first_name, last_name, last_update)
               VALUES (500, 'NEW', 'ROW', '2024-01-01 00:00:00');",
        )
        .unwrap();
    let report = verify(&synced).await;
    let found: Vec<_> = report
        .tables
        .iter()
        .filter(|t| !t.is_equal())
        .map(|t| {
            (
                t.table.name.as_str(),
                t.missing.first.clone(),
                t.extra.first.clone(),
                t.different.first.clone(),
            )
        })
        .collect();
    assert_eq!(
        found,
        vec![
            ("actor", vec![], vec![key(&[500])], vec![]),
            ("address", vec![], vec![], vec![key(&[3])]),
            ("film", vec![], vec![], vec![key(&[7])]),
            ("payment", vec![key(&[100]), key(&[16049])], vec![], vec![]),
        ]
    );
}
