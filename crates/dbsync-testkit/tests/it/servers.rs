use mysql_async::prelude::Queryable;

#[tokio::test]
async fn mariadb_is_a_binlog_source_as_dbsync_needs_it() {
    let mariadb = dbsync_testkit::mariadb();
    let database = mariadb.create_database("settings").unwrap();
    let mut conn = mysql_async::Conn::from_url(mariadb.url(&database))
        .await
        .unwrap();
    let settings: Vec<(String, String)> = conn
        .query(
            "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('log_bin', 'binlog_format', 'binlog_row_image',
             'binlog_row_metadata', 'gtid_strict_mode', 'local_infile', 'character_set_server')",
        )
        .await
        .unwrap();
    let mut settings: Vec<String> = settings
        .into_iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    settings.sort();
    assert_eq!(
        settings,
        [
            "binlog_format=ROW",
            "binlog_row_image=FULL",
            "binlog_row_metadata=FULL",
            "character_set_server=utf8mb4",
            "gtid_strict_mode=ON",
            "local_infile=ON",
            "log_bin=ON",
        ]
    );
    conn.disconnect().await.unwrap();
}

#[tokio::test]
async fn the_replication_user_can_read_the_binlog_and_nothing_more() {
    let mariadb = dbsync_testkit::mariadb();
    let database = mariadb.create_database("grants").unwrap();
    let mut conn = mysql_async::Conn::from_url(mariadb.replication_url(&database))
        .await
        .unwrap();
    let grants: Vec<String> = conn.query("SHOW GRANTS").await.unwrap();
    assert_eq!(grants.len(), 1, "{grants:?}");
    assert!(
        grants[0].starts_with("GRANT SELECT, REPLICATION SLAVE, BINLOG MONITOR ON *.*"),
        "{grants:?}"
    );
    let write = conn.query_drop("CREATE TABLE not_allowed (id INT)").await;
    assert!(write.is_err(), "the replication user could create a table");
    conn.disconnect().await.unwrap();
}

#[tokio::test]
async fn the_target_mariadb_is_a_separate_server() {
    let source = dbsync_testkit::mariadb();
    let target = dbsync_testkit::mariadb_target();
    assert_ne!(source.port(), target.port());
    let mut conn = mysql_async::Conn::from_url(target.url("mysql"))
        .await
        .unwrap();
    let server_id: u32 = conn
        .query_first("SELECT @@server_id")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(server_id, 2);
    conn.disconnect().await.unwrap();
}

#[tokio::test]
async fn postgres_has_logical_replication_and_runs_unprivileged() {
    let postgres = dbsync_testkit::postgres();
    let database = postgres.create_database("settings").unwrap();
    let (client, connection) =
        tokio_postgres::connect(&postgres.url(&database), tokio_postgres::NoTls)
            .await
            .unwrap();
    tokio::spawn(connection);
    let row = client
        .query_one(
            "SELECT current_setting('wal_level'), current_setting('max_replication_slots')::int, current_user::text",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "logical");
    assert!(row.get::<_, i32>(1) >= 10);
    assert_eq!(row.get::<_, String>(2), "postgres");

    let status = std::fs::read_to_string(format!("/proc/{}/status", postgres.pid())).unwrap();
    let uid_line = status
        .lines()
        .find(|line| line.starts_with("Uid:"))
        .unwrap();
    assert!(
        !uid_line.split_whitespace().skip(1).any(|uid| uid == "0"),
        "PostgreSQL runs as root: {uid_line}"
    );
}

#[tokio::test]
async fn each_test_gets_databases_of_its_own() {
    let mariadb = dbsync_testkit::mariadb();
    let first = mariadb.create_database("mine").unwrap();
    let second = mariadb.create_database("mine").unwrap();
    assert_ne!(first, second);
    mariadb
        .execute(
            Some(&first),
            "CREATE TABLE t (id INT PRIMARY KEY); INSERT INTO t VALUES (1)",
        )
        .unwrap();
    let mut conn = mysql_async::Conn::from_url(mariadb.url(&second))
        .await
        .unwrap();
    let tables: Vec<String> = conn.query("SHOW TABLES").await.unwrap();
    assert!(tables.is_empty(), "{second} sees {tables:?}");
    conn.disconnect().await.unwrap();

    let postgres = dbsync_testkit::postgres();
    let first = postgres.create_database("mine").unwrap();
    let second = postgres.create_database("mine").unwrap();
    assert_ne!(first, second);
}

#[test]
fn a_failing_statement_reports_what_the_server_said() {
    let mariadb = dbsync_testkit::mariadb();
    let error = mariadb
        .execute(None, "SELECT * FROM no_such_db.no_such_table")
        .unwrap_err();
    assert!(error.to_string().contains("doesn't exist"), "{error}");
    let postgres = dbsync_testkit::postgres();
    let error = postgres
        .execute("postgres", "SELECT * FROM no_such_table")
        .unwrap_err();
    assert!(error.to_string().contains("does not exist"), "{error}");
}
