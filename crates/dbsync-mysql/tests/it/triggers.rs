//! Installing, showing and removing dbsync's triggers, against a real MariaDB.

use std::sync::Arc;

use dbsync_core::{ErrorKind, TableSchema};
use dbsync_mysql::audit_log::AuditLog;
use dbsync_mysql::triggers::{self, InstalledTrigger, TriggerEvent, TriggerPlan};
use mysql_async::prelude::Queryable;

pub(crate) async fn connect(url: &str) -> mysql_async::Conn {
    let opts = dbsync_mysql::session::options_from_url(url).unwrap();
    dbsync_mysql::session::connect(opts, "the test MariaDB")
        .await
        .unwrap()
}

pub(crate) async fn tables(
    conn: &mut mysql_async::Conn,
    database: &str,
    names: &[&str],
) -> Vec<Arc<TableSchema>> {
    let all = dbsync_mysql::schema::read_tables(conn, database)
        .await
        .unwrap();
    names
        .iter()
        .map(|name| Arc::new(all.iter().find(|t| t.name.name == *name).unwrap().clone()))
        .collect()
}

/// Installs dbsync's triggers on `names` as the administrator.
pub(crate) async fn install(database: &str, names: &[&str]) -> Vec<Arc<TableSchema>> {
    let mut conn = connect(&dbsync_testkit::mariadb().url(database)).await;
    let tables = tables(&mut conn, database, names).await;
    let plan = TriggerPlan::new(database, &tables).unwrap();
    triggers::install(&mut conn, &plan).await.unwrap();
    tables
}

const TWO_TABLES: &str = "
    CREATE TABLE item (id BIGINT UNSIGNED PRIMARY KEY, name VARCHAR(20));
    CREATE TABLE `odd ``name`` with a long tail of words past the limit of 64` (
        a INT NOT NULL, b VARCHAR(10) NOT NULL, v INT, PRIMARY KEY (a, b));";

fn complete(table: &str) -> InstalledTrigger {
    InstalledTrigger {
        table: table.to_owned(),
        events: TriggerEvent::ALL.to_vec(),
    }
}

#[tokio::test]
async fn install_show_remove_round_trip_runs_the_dry_run_sql() {
    let mariadb = dbsync_testkit::mariadb();
    let database = mariadb.create_database("trg_round").unwrap();
    mariadb.execute(Some(&database), TWO_TABLES).unwrap();
    let mut conn = connect(&mariadb.url(&database)).await;
    let odd = "odd `name` with a long tail of words past the limit of 64";
    let tables = tables(&mut conn, &database, &["item", odd]).await;
    let plan = TriggerPlan::new(&database, &tables).unwrap();
    assert_eq!(triggers::show(&mut conn, &database).await.unwrap(), []);

    triggers::install(&mut conn, &plan).await.unwrap();
    let mut expected = vec![complete("item"), complete(odd)];
    expected.sort_by(|a, b| a.table.cmp(&b.table));
    assert_eq!(
        triggers::show(&mut conn, &database).await.unwrap(),
        expected
    );

    // What the server holds is what the plan (and so `--dry-run`) says, statement for
    // statement: each trigger's body, and the CREATE statements around them.
    let installed: Vec<(String, String, String, String)> = conn
        .exec(
            "SELECT TRIGGER_NAME, EVENT_OBJECT_TABLE, EVENT_MANIPULATION, ACTION_STATEMENT \
             FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ? ORDER BY TRIGGER_NAME",
            (&database,),
        )
        .await
        .unwrap();
    let mut planned: Vec<(String, String, String, String)> = plan
        .triggers()
        .iter()
        .map(|t| {
            (
                t.name.clone(),
                t.table.clone(),
                t.event.as_sql().to_owned(),
                t.body.clone(),
            )
        })
        .collect();
    planned.sort();
    assert_eq!(installed, planned);
    let statements = plan.install_statements();
    assert_eq!(statements.len(), 2 + 6);
    for trigger in plan.triggers() {
        assert!(
            statements
                .iter()
                .any(|s| s.starts_with("CREATE TRIGGER") && s.ends_with(&trigger.body)),
            "no statement creates {}",
            trigger.name
        );
    }
    assert!(AuditLog::new(&database).exists(&mut conn).await.unwrap());

    // Removing one table's triggers keeps the log the other's still write.
    triggers::remove(&mut conn, &database, &["item"])
        .await
        .unwrap();
    assert_eq!(
        triggers::show(&mut conn, &database).await.unwrap(),
        [complete(odd)]
    );
    assert!(AuditLog::new(&database).exists(&mut conn).await.unwrap());
    triggers::remove(&mut conn, &database, &[odd])
        .await
        .unwrap();
    assert_eq!(triggers::show(&mut conn, &database).await.unwrap(), []);
    assert!(!AuditLog::new(&database).exists(&mut conn).await.unwrap());
}

#[tokio::test]
async fn triggers_record_inserts_updates_key_changes_and_deletes() {
    let mariadb = dbsync_testkit::mariadb();
    let database = mariadb.create_database("trg_entries").unwrap();
    mariadb.execute(Some(&database), TWO_TABLES).unwrap();
    install(&database, &["item"]).await;
    mariadb
        .execute(
            Some(&database),
            "INSERT INTO item VALUES (18446744073709551615, 'max');
             UPDATE item SET name = 'renamed';
             UPDATE item SET id = 7;
             DELETE FROM item;",
        )
        .unwrap();
    let mut conn = connect(&mariadb.url(&database)).await;
    let entries = AuditLog::new(&database)
        .read_after(&mut conn, 0, 100)
        .await
        .unwrap();
    let seen: Vec<(&str, &str, &str)> = entries
        .iter()
        .map(|e| {
            (
                e.table_name.as_str(),
                e.operation.as_str(),
                e.record_id.as_str(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("item", "INSERT", r#"["18446744073709551615"]"#),
            ("item", "UPDATE", r#"["18446744073709551615"]"#),
            // The key change: the old key's delete, then the new key's update.
            ("item", "DELETE", r#"["18446744073709551615"]"#),
            ("item", "UPDATE", r#"["7"]"#),
            ("item", "DELETE", r#"["7"]"#),
        ]
    );
    assert!(entries.windows(2).all(|w| w[0].id < w[1].id));
}

#[tokio::test]
async fn install_without_the_trigger_privilege_leaves_nothing_behind() {
    // A server without binlog, the kind trigger capture is for: with a binlog, MariaDB
    // also asks for SUPER (or log_bin_trust_function_creators) to create triggers.
    let mariadb = dbsync_testkit::mariadb_without_binlog();
    let database = mariadb.create_database("trg_denied").unwrap();
    mariadb
        .execute(
            Some(&database),
            "CREATE TABLE a (id INT PRIMARY KEY); CREATE TABLE b (id INT PRIMARY KEY);",
        )
        .unwrap();
    let user = format!("u_{database}");
    mariadb
        .execute(
            None,
            &format!(
                "CREATE USER '{user}'@'127.0.0.1' IDENTIFIED BY 'pw';
                 GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, INDEX, ALTER ON `{database}`.* TO '{user}'@'127.0.0.1';"
            ),
        )
        .unwrap();
    let url = format!("mysql://{user}:pw@127.0.0.1:{}/{database}", mariadb.port());
    let mut admin = connect(&mariadb.url(&database)).await;
    let tables = tables(&mut admin, &database, &["a", "b"]).await;
    let plan = TriggerPlan::new(&database, &tables).unwrap();
    let log = AuditLog::new(&database);

    let mut conn = connect(&url).await;
    let error = triggers::install(&mut conn, &plan).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Config);
    assert_eq!(
        error.to_string(),
        format!(
            "the source account lacks the TRIGGER privilege on database `{database}`, which trigger capture needs; run GRANT TRIGGER ON `{database}`.* TO '{user}'@'127.0.0.1'"
        )
    );
    assert_eq!(triggers::show(&mut admin, &database).await.unwrap(), []);
    assert!(!log.exists(&mut admin).await.unwrap());

    // With the privilege on one table only, the install fails half-way: what it
    // created on the way is gone too.
    mariadb
        .execute(
            None,
            &format!("GRANT TRIGGER ON `{database}`.a TO '{user}'@'127.0.0.1'"),
        )
        .unwrap();
    let mut conn = connect(&url).await;
    let error = triggers::install(&mut conn, &plan).await.unwrap_err();
    assert!(error.to_string().contains("GRANT TRIGGER"), "{error}");
    assert_eq!(triggers::show(&mut admin, &database).await.unwrap(), []);
    assert!(!log.exists(&mut admin).await.unwrap());
}

#[tokio::test]
async fn preflight_names_the_tables_without_triggers() {
    let mariadb = dbsync_testkit::mariadb();
    let database = mariadb.create_database("trg_preflight").unwrap();
    mariadb.execute(Some(&database), TWO_TABLES).unwrap();
    let mut conn = connect(&mariadb.url(&database)).await;
    let item = tables(&mut conn, &database, &["item"]).await;
    let check = dbsync_mysql::preflight::check_trigger_source;
    let error = check(&mut conn, &database, &item, "shop-pg")
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Config);
    assert_eq!(
        error.to_string(),
        format!(
            "the source database `{database}` has no sync_audit_log, which trigger capture reads; run `dbsync triggers install shop-pg`"
        )
    );
    install(&database, &["item"]).await;
    check(&mut conn, &database, &item, "shop-pg").await.unwrap();
    mariadb
        .execute(Some(&database), "DROP TRIGGER dbsync_item_ad")
        .unwrap();
    let error = check(&mut conn, &database, &item, "shop-pg")
        .await
        .unwrap_err();
    assert!(
        error.to_string().starts_with(&format!(
            "table `item` of `{database}` lacks dbsync's triggers"
        )),
        "{error}"
    );
}

#[tokio::test]
async fn the_log_marks_records_errors_and_purges_but_keeps_its_highest_id() {
    let mariadb = dbsync_testkit::mariadb();
    let database = mariadb.create_database("trg_log").unwrap();
    mariadb.execute(Some(&database), TWO_TABLES).unwrap();
    install(&database, &["item"]).await;
    mariadb
        .execute(
            Some(&database),
            "INSERT INTO item VALUES (1, 'a'), (2, 'b'), (3, 'c'), (4, 'd')",
        )
        .unwrap();
    let mut conn = connect(&mariadb.url(&database)).await;
    let log = AuditLog::new(&database);
    assert_eq!(log.highest_id(&mut conn).await.unwrap(), 4);
    log.record_error(&mut conn, "item", 2, 4, "no such luck")
        .await
        .unwrap();
    log.record_error(&mut conn, "item", 3, 4, "still no luck")
        .await
        .unwrap();
    assert_eq!(log.mark_synced(&mut conn, 2).await.unwrap(), 2);
    assert_eq!(log.synced_id(&mut conn).await.unwrap(), 2);
    // Nothing synced is old enough yet.
    let week = std::time::Duration::from_secs(7 * 24 * 3600);
    assert_eq!(log.purge(&mut conn, week).await.unwrap(), 0);
    assert_eq!(log.mark_synced(&mut conn, 4).await.unwrap(), 2);
    // All four are synced and old enough; the highest stays.
    assert_eq!(
        log.purge(&mut conn, std::time::Duration::ZERO)
            .await
            .unwrap(),
        3
    );
    let rows: Vec<(u64, bool, u32, Option<String>)> = conn
        .query(format!(
            "SELECT id, synced, retry_count, error FROM `{database}`.sync_audit_log"
        ))
        .await
        .unwrap();
    assert_eq!(rows, [(4, true, 2, Some("still no luck".to_owned()))]);
}
