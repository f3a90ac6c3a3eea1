//! Verify MySQL -> MySQL: a copy by the real pipeline compares equal, and changes
//! planted on the target are found with their keys.

use dbsync_core::Value;
use dbsync_core::verify::{
    Canonical, Key, TableReport, VerifyOptions, VerifyReport, ZeroDates, verify_tables,
};
use dbsync_mysql::reader::TargetReader;
use dbsync_mysql::source::MysqlSource;
use dbsync_mysql::writer::CopyMethod;
use dbsync_testkit::Dataset;

use crate::writer::{EVERY_TYPE, Pair, every_type_rows, options};

/// Small ranges, so that Sakila's tables are bisected for real.
fn verify_options() -> VerifyOptions {
    VerifyOptions {
        canonical: Canonical {
            zero_dates: ZeroDates::Kept,
        },
        rows_per_range: 2_000,
        rows_per_range_in_database: 2_000,
        leaf_rows: 40,
        fanout: 4,
        chunk_rows: 700,
        keys_listed: 5,
    }
}

async fn verify(pair: &mut Pair) -> VerifyReport {
    let source_server = dbsync_testkit::mariadb();
    let target_server = dbsync_testkit::mariadb_target();
    let mut source = MysqlSource::connect(options(source_server, &pair.source_db))
        .await
        .unwrap();
    let conn = dbsync_mysql::session::connect(options(target_server, &pair.target_db), "a test")
        .await
        .unwrap();
    let planned: Vec<_> = pair
        .tables
        .iter()
        .map(|table| (table.name.clone(), pair.writer.plan_table(table).unwrap()))
        .collect();
    let mut target = TargetReader::new(conn, planned);
    verify_tables(&mut source, &mut target, &pair.tables, &verify_options())
        .await
        .unwrap()
}

fn ints(keys: &[&[i64]]) -> Vec<Key> {
    keys.iter()
        .map(|key| key.iter().map(|&k| Value::Int(k)).collect())
        .collect()
}

fn uints(keys: &[&[u64]]) -> Vec<Key> {
    keys.iter()
        .map(|key| key.iter().map(|&k| Value::UInt(k)).collect())
        .collect()
}

/// A table that differs, with its missing, extra and different keys.
type Difference<'r> = (&'r str, Vec<Key>, Vec<Key>, Vec<Key>);

fn differences(report: &VerifyReport) -> Vec<Difference<'_>> {
    report
        .tables
        .iter()
        .filter(|table| !table.is_equal())
        .map(|t: &TableReport| {
            (
                t.table.name.as_str(),
                t.missing.first.clone(),
                t.extra.first.clone(),
                t.different.first.clone(),
            )
        })
        .collect()
}

#[tokio::test]
async fn sakila_verifies_equal_and_planted_changes_are_found() {
    let source = dbsync_testkit::mariadb();
    let db = source.create_database("verify_sakila").unwrap();
    source.load(&db, Dataset::Sakila).unwrap();
    let mut pair = Pair::copy(&db, 2, 1000, CopyMethod::LoadData).await;

    let report = verify(&mut pair).await;
    assert!(report.is_equal(), "{:?}", differences(&report));
    let rental = report
        .tables
        .iter()
        .find(|t| t.table.name == "rental")
        .unwrap();
    assert_eq!((rental.source_rows, rental.target_rows), (16_044, 16_044));

    dbsync_testkit::mariadb_target()
        .execute(
            Some(&pair.target_db),
            "UPDATE actor SET last_name = 'GUINESS ' WHERE actor_id = 1;
             UPDATE payment SET amount = amount + 0.01 WHERE payment_id = 16000;
             DELETE FROM rental WHERE rental_id IN (5, 9000);
             DELETE FROM film_actor WHERE actor_id = 1 AND film_id = 1;
             INSERT INTO category (category_id, name, last_update) VALUES (99, 'Extra', NOW());
             UPDATE film_text SET description = CONCAT(description, '.') WHERE film_id = 1000;",
        )
        .unwrap();
    let report = verify(&mut pair).await;
    let none = Vec::<Key>::new;
    assert_eq!(
        differences(&report),
        vec![
            ("actor", none(), none(), uints(&[&[1]])),
            ("category", none(), uints(&[&[99]]), none()),
            ("film_actor", uints(&[&[1, 1]]), none(), none()),
            ("film_text", none(), none(), uints(&[&[1000]])),
            ("payment", none(), none(), uints(&[&[16000]])),
            ("rental", ints(&[&[5], &[9000]]), none(), none()),
        ]
    );
}

#[tokio::test]
async fn every_type_family_verifies_equal_and_each_changed_value_differs() {
    let source = dbsync_testkit::mariadb();
    let db = source.create_database("verify_types").unwrap();
    source.execute(Some(&db), EVERY_TYPE).unwrap();
    source.execute(Some(&db), &every_type_rows(0)).unwrap();
    let mut pair = Pair::copy(&db, 1, 3, CopyMethod::LoadData).await;
    let report = verify(&mut pair).await;
    assert!(report.is_equal(), "{:?}", differences(&report));

    // One value changed per row, each by the least its type allows.
    dbsync_testkit::mariadb_target()
        .execute(
            Some(&pair.target_db),
            "SET SESSION sql_mode = '', time_zone = '+00:00';
             UPDATE t SET u64 = 18446744073709551614 WHERE id = 1;
             UPDATE t SET span6 = '-00:00:00.000002' WHERE id = 2;
             UPDATE t SET raw = x'fffffffffffffffffffffffffffffffe' WHERE id = 4;",
        )
        .unwrap();
    let report = verify(&mut pair).await;
    assert_eq!(
        differences(&report),
        vec![("t", vec![], vec![], ints(&[&[1], &[2], &[4]]))]
    );
}
