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
