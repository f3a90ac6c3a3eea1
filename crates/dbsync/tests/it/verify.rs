//! `dbsync verify` through the binary: equal after a good sync on every target engine,
//! and exactly the planted differences found, with their keys.

use dbsync_testkit::Dataset;

use crate::support::{Replica, Sandbox, assert_success, run};

/// Sakila synced into `replica`, then verified.
fn synced(
    hint: &str,
    replica: impl FnOnce(&Sandbox) -> Replica,
) -> (Sandbox, Replica, std::path::PathBuf) {
    let sandbox = Sandbox::with_dataset(hint, Dataset::Sakila);
    let replica = replica(&sandbox);
    let config = sandbox.write_config(
        "verify.yaml",
        &dbsync_testkit::mariadb().replication_url(&sandbox.source),
        &replica.url(),
        &[],
        "",
    );
    assert_success(&run(&config, &["run", "--once"]));
    (sandbox, replica, config)
}

fn assert_equal(config: &std::path::Path) {
    let output = run(config, &["verify"]);
    assert_success(&output);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        stdout.lines().count(),
        16,
        "a line per Sakila table:\n{stdout}"
    );
    assert!(
        stdout.lines().all(|line| line.contains("\tequal\t")),
        "{stdout}"
    );
}

#[tokio::test]
async fn sakila_is_equal_after_a_good_sync_on_every_target_engine() {
    let (_sandbox, _replica, config) = synced("verifypg", |_| Replica::postgres("verifypg"));
    assert_equal(&config);
    let (_sandbox, _replica, config) = synced("verifymy", |_| Replica::mysql("verifymy"));
    assert_equal(&config);
    let (_sandbox, _replica, config) = synced("verifylite", |sandbox| {
        Replica::sqlite(sandbox.dir(), "edge")
    });
    assert_equal(&config);
}

#[tokio::test]
async fn changes_made_behind_the_pairs_back_are_found_with_their_keys() {
    let (sandbox, _replica, config) = synced("verifyplant", |sandbox| Replica::Postgres {
        database: sandbox.target.clone(),
    });
    let client = sandbox.target_client().await;
    client
        .batch_execute(
            "UPDATE public.actor SET last_name = 'CHANGED' WHERE actor_id IN (7, 42);
             DELETE FROM public.film_actor WHERE actor_id = 1 AND film_id = 1;
             INSERT INTO public.category (category_id, name, last_update) VALUES (99, 'Planted', now());",
        )
        .await
        .unwrap();
    // And on the source, unseen by the binlog.
    sandbox.source_sql(
        "SET SESSION sql_log_bin = 0; UPDATE language SET name = 'Klingon' WHERE language_id = 3;",
    );
    let output = run(&config, &["verify", "--json"]);
    assert_eq!(output.status.code(), Some(3), "{output:?}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let tables = report["p"]["tables"].as_array().unwrap();
    let found = |table: &str, kind: &str| -> (u64, Vec<serde_json::Value>) {
        let entry = tables
            .iter()
            .find(|t| t["table"]["name"] == table)
            .unwrap_or_else(|| panic!("no report for {table}"));
        let keys = &entry[kind];
        (
            keys["count"].as_u64().unwrap(),
            keys["first"]
                .as_array()
                .unwrap()
                .iter()
                .map(|key| {
                    key.as_array()
                        .unwrap()
                        .iter()
                        .map(|v| v["value"].clone())
                        .collect()
                })
                .collect(),
        )
    };
    assert_eq!(
        found("actor", "different"),
        (2, vec![serde_json::json!([7]), serde_json::json!([42])])
    );
    assert_eq!(
        found("film_actor", "missing"),
        (1, vec![serde_json::json!([1, 1])])
    );
    assert_eq!(
        found("category", "extra"),
        (1, vec![serde_json::json!([99])])
    );
    assert_eq!(
        found("language", "different"),
        (1, vec![serde_json::json!([3])])
    );
    let differing = tables
        .iter()
        .filter(|t| {
            ["missing", "extra", "different"]
                .iter()
                .any(|k| t[k]["count"] != 0)
        })
        .count();
    assert_eq!(differing, 4, "only the planted changes: {report}");
}

#[tokio::test]
async fn an_unknown_table_is_refused() {
    let (_sandbox, _replica, config) =
        synced("verifyunknown", |_| Replica::postgres("verifyunknown"));
    let output = run(&config, &["verify", "--tables", "actor,no_such_table"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no_such_table"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[tokio::test]
async fn an_unknown_pair_and_a_table_without_a_key_are_refused() {
    let sandbox = Sandbox::new("verifynokey");
    sandbox.source_sql("CREATE TABLE keyed (id INT PRIMARY KEY); CREATE TABLE loose (a INT)");
    for (args, named) in [
        (&["verify", "no_such_pair"][..], "no_such_pair"),
        (&["verify", "p"], "loose"),
    ] {
        let output = run(&sandbox.config, args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "dbsync {args:?}: {stderr}");
        assert!(stderr.contains(named), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
    }
}

/// The last field of the line of `stdout` that says what a repair wrote to `table`.
fn repaired(stdout: &str, table: &str) -> Option<String> {
    stdout.lines().find_map(|line| {
        let fields: Vec<&str> = line.split('\t').collect();
        match fields[..] {
            [_, name, "repaired", what] if name.rsplit('.').next() == Some(table) => {
                Some(what.to_owned())
            }
            _ => None,
        }
    })
}

/// Sakila synced into the sandbox's PostgreSQL target, then changed there: the last
/// names of the actors `actors` selects, two film_actor rows deleted, a category
/// inserted.
async fn synced_with_planted_changes(
    hint: &str,
    actors: &str,
) -> (Sandbox, Replica, std::path::PathBuf) {
    let (sandbox, replica, config) = synced(hint, |sandbox| Replica::Postgres {
        database: sandbox.target.clone(),
    });
    sandbox
        .target_client()
        .await
        .batch_execute(&format!(
            "UPDATE public.actor SET last_name = 'CHANGED' WHERE {actors};
             DELETE FROM public.film_actor WHERE actor_id = 1 AND film_id IN (1, 23);
             INSERT INTO public.category (category_id, name, last_update) VALUES (99, 'Planted', now());"
        ))
        .await
        .unwrap();
    (sandbox, replica, config)
}

/// Changes on the source that the binlog does not carry: an update and an insert.
fn change_the_source_unseen(sandbox: &Sandbox) {
    sandbox.source_sql(
        "SET SESSION sql_log_bin = 0;
         UPDATE language SET name = 'Klingon' WHERE language_id = 3;
         INSERT INTO actor (actor_id, first_name, last_name) VALUES (500, 'UNSEEN', 'INSERT');",
    );
}

#[tokio::test]
async fn verify_repair_fixes_every_planted_change_and_verify_is_then_equal() {
    let (sandbox, replica, config) =
        synced_with_planted_changes("repairpg", "actor_id IN (7, 42)").await;
    change_the_source_unseen(&sandbox);
    // Verify alone writes nothing: the repair below still finds every change.
    assert_eq!(run(&config, &["verify"]).status.code(), Some(3));

    let output = run(&config, &["verify", "--repair"]);
    assert_success(&output);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let written = |rows: u64, deleted: u64| Some(format!("{rows} rows written, {deleted} deleted"));
    assert_eq!(repaired(&stdout, "actor"), written(3, 0), "{stdout}");
    assert_eq!(repaired(&stdout, "film_actor"), written(2, 0), "{stdout}");
    assert_eq!(repaired(&stdout, "category"), written(0, 1), "{stdout}");
    assert_eq!(repaired(&stdout, "language"), written(1, 0), "{stdout}");
    assert_eq!(
        stdout
            .lines()
            .filter(|l| l.contains("\trepaired\t"))
            .count(),
        4,
        "only the tables that differed: {stdout}"
    );

    assert_equal(&config);
    replica.compare(&sandbox.source, "").await.unwrap();
    let again = run(&config, &["verify", "--repair"]);
    assert_success(&again);
    let stdout = String::from_utf8_lossy(&again.stdout);
    assert!(
        !stdout.contains("\trepaired\t"),
        "nothing left to repair: {stdout}"
    );
    let names = sandbox
        .target_query(
            "SELECT last_name FROM public.actor WHERE actor_id IN (7, 42, 500) ORDER BY actor_id",
        )
        .await;
    assert_eq!(
        names,
        ["MOSTEL", "MIRANDA", "INSERT"].map(|name| vec![Some(name.to_owned())])
    );
}

#[tokio::test]
async fn verify_repair_fixes_a_mysql_target_and_keeps_its_checkpoints() {
    let (sandbox, replica, config) = synced("repairmy", |_| Replica::mysql("repairmy"));
    let Replica::Mysql { database } = &replica else {
        unreachable!()
    };
    let target = dbsync_testkit::mariadb_target();
    let before = target_checkpoints(database).await;
    target
        .execute(
            Some(database),
            "UPDATE actor SET first_name = 'CHANGED' WHERE actor_id = 3;
             DELETE FROM payment WHERE payment_id BETWEEN 100 AND 109;
             INSERT INTO city (city_id, city, country_id, last_update) VALUES (9999, 'Planted', 1, NOW());",
        )
        .unwrap();
    change_the_source_unseen(&sandbox);

    let output = run(&config, &["verify", "--repair", "--json"]);
    assert_success(&output);
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let found = &report["p"]["found"]["tables"];
    let payment = found
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"]["name"] == "payment")
        .unwrap();
    assert_eq!(payment["missing"]["count"], 10);
    assert_eq!(
        payment["missing"]["first"].as_array().unwrap().len(),
        10,
        "a repair lists every key, not only the first: {payment}"
    );
    let after = &report["p"]["after"]["tables"];
    assert!(
        after
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["missing"]["count"] == 0
                && t["extra"]["count"] == 0
                && t["different"]["count"] == 0),
        "{report}"
    );

    assert_equal(&config);
    replica.compare(&sandbox.source, "").await.unwrap();
    assert_eq!(target_checkpoints(database).await, before);
}

/// The checkpoints held in MySQL target database `database`, by source table.
async fn target_checkpoints(database: &str) -> Vec<(String, String)> {
    use mysql_async::prelude::Queryable;
    let url = dbsync_testkit::mariadb_target().url(database);
    let options = dbsync_mysql::session::options_from_url(&url).unwrap();
    let mut conn = dbsync_mysql::session::connect(options, "the test target")
        .await
        .unwrap();
    conn.query("SELECT source_table, checkpoint FROM dbsync_checkpoint ORDER BY source_table")
        .await
        .unwrap()
}

#[tokio::test]
async fn repair_missing_restores_deleted_rows_and_leaves_a_different_row_different() {
    let (sandbox, replica, config) =
        synced_with_planted_changes("repairmissing", "actor_id = 7").await;
    let both = run(&config, &["run", "--once", "--repair", "--repair-missing"]);
    assert_eq!(both.status.code(), Some(2), "{both:?}");

    assert_success(&run(&config, &["run", "--once", "--repair-missing"]));
    let output = run(&config, &["verify", "--json"]);
    assert_eq!(output.status.code(), Some(3), "{output:?}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let differing: Vec<String> = report["p"]["tables"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| {
            ["missing", "extra", "different"]
                .into_iter()
                .filter(|kind| t[kind]["count"] != 0)
                .map(|kind| {
                    let keys: Vec<&serde_json::Value> = t[kind]["first"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .flat_map(|key| key.as_array().unwrap().iter().map(|v| &v["value"]))
                        .collect();
                    format!("{} {kind} {keys:?}", t["table"]["name"])
                })
        })
        .collect();
    assert_eq!(
        differing,
        [
            r#""actor" different [Number(7)]"#,
            r#""category" extra [Number(99)]"#,
        ],
        "the deleted rows are back, nothing else changed"
    );

    assert_success(&run(&config, &["run", "--once", "--repair"]));
    assert_equal(&config);
    replica.compare(&sandbox.source, "").await.unwrap();
}

/// A table of 5,000 rows and where each planted difference goes: a changed value,
/// NULL for the empty string, text moved between adjacent columns (twice: the second
/// across the `#` the MySQL row hash separates columns with). Far enough apart that
/// each sits alone in a part of the bisection, so that each is found by its own
/// range's summary.
const PLANTED_KEYS: [i64; 4] = [100, 2_000, 3_000, 4_000];
const SOURCE_VALUES: &str = "UPDATE pushed SET a = '' WHERE id = 2000;
     UPDATE pushed SET a = 'ab', b = 'c' WHERE id = 3000;
     UPDATE pushed SET a = 'x#', b = 'y' WHERE id = 4000;";
const TARGET_CHANGES: &str = "UPDATE pushed SET n = -1 WHERE id = 100;
     UPDATE pushed SET a = NULL WHERE id = 2000;
     UPDATE pushed SET a = 'a', b = 'bc' WHERE id = 3000;
     UPDATE pushed SET a = 'x', b = '#y' WHERE id = 4000;";

/// `dbsync verify --json` of `config` with the debug log, which says how each table's
/// ranges were summarized.
fn verify_logged(config: &std::path::Path) -> (Option<i32>, serde_json::Value, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_dbsync"))
        .args(["verify", "--json", "--config"])
        .arg(config)
        .env("DBSYNC_LOG", "warn,dbsync_core::verify=debug")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let report =
        serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}: {output:?}"));
    (output.status.code(), report, stderr)
}

/// Verifies an equal copy, then one with the planted differences: the ranges are
/// summarized by both databases, and each difference is found with its key.
fn assert_pushed_down_verify_finds_planted_differences(
    config: &std::path::Path,
    plant: impl FnOnce(),
) {
    let (code, report, stderr) = verify_logged(config);
    assert_eq!(code, Some(0), "{report}\n{stderr}");
    assert!(
        stderr.contains("InDatabase"),
        "summarized in dbsync:\n{stderr}"
    );
    plant();
    let (code, report, stderr) = verify_logged(config);
    assert_eq!(code, Some(3), "{report}\n{stderr}");
    let table = &report["p"]["tables"][0];
    let different: Vec<i64> = table["different"]["first"]
        .as_array()
        .unwrap()
        .iter()
        .map(|key| key[0]["value"].as_i64().unwrap())
        .collect();
    assert_eq!(different, PLANTED_KEYS, "{report}");
    assert_eq!(table["missing"]["count"], 0, "{report}");
    assert_eq!(table["extra"]["count"], 0, "{report}");
    assert!(
        stderr.contains("InDatabase"),
        "summarized in dbsync:\n{stderr}"
    );
}

#[tokio::test]
async fn mysql_to_mysql_ranges_summarized_in_sql_show_every_planted_difference() {
    let sandbox = Sandbox::new("pushmy");
    let Replica::Mysql { database } = Replica::mysql("pushmy") else {
        unreachable!()
    };
    let table = "CREATE TABLE pushed (id INT PRIMARY KEY, a VARCHAR(20) NULL, b VARCHAR(20) NULL, n INT NULL);
         INSERT INTO pushed SELECT seq, CONCAT('a', seq), CONCAT('b', seq), seq FROM seq_1_to_5000;";
    let target = dbsync_testkit::mariadb_target();
    sandbox.source_sql(&format!("{table}\n{SOURCE_VALUES}"));
    target
        .execute(Some(&database), &format!("{table}\n{SOURCE_VALUES}"))
        .unwrap();
    let config = sandbox.write_config(
        "pushmy.yaml",
        &dbsync_testkit::mariadb().replication_url(&sandbox.source),
        &target.url(&database),
        &[],
        "",
    );
    assert_pushed_down_verify_finds_planted_differences(&config, || {
        target.execute(Some(&database), TARGET_CHANGES).unwrap();
    });
}

#[tokio::test]
async fn postgres_to_postgres_ranges_summarized_in_sql_show_every_planted_difference() {
    let sandbox = Sandbox::new("pushpg");
    let postgres = dbsync_testkit::postgres();
    let source = postgres.create_database("pushpgsrc").unwrap();
    let table = "CREATE TABLE pushed (id int PRIMARY KEY, a varchar(20), b varchar(20), n int);
         INSERT INTO pushed SELECT i, 'a' || i, 'b' || i, i FROM generate_series(1, 5000) i;";
    for database in [&source, &sandbox.target] {
        postgres
            .execute(database, &format!("{table}\n{SOURCE_VALUES}"))
            .unwrap();
    }
    let config = sandbox.write_config(
        "pushpg.yaml",
        &postgres.url(&source),
        &postgres.url(&sandbox.target),
        &["capture: poll"],
        "",
    );
    assert_pushed_down_verify_finds_planted_differences(&config, || {
        postgres.execute(&sandbox.target, TARGET_CHANGES).unwrap();
    });
}
