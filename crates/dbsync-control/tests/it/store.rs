use std::time::Duration;

use dbsync_config::{ConnectionUrl, Pair};
use dbsync_control::{
    ConflictResolution, ErrorKind, LogLevel, NewConflict, NewDeadLetter, Outcome, PairState,
    RunState, Store, TableStatus, TableUpdate,
};
use serde_json::json;

pub(crate) async fn store_with_pair(directory: &tempfile::TempDir) -> Store {
    let store = Store::open_sqlite(directory.path().join("state.db"))
        .await
        .unwrap();
    store
        .create_connection("shop", url("mysql://repl:s3cret-shop@127.0.0.1:3306/shop"))
        .await
        .unwrap();
    store
        .create_connection(
            "analytics",
            url("postgres://dbsync:s3cret-pg@127.0.0.1/analytics"),
        )
        .await
        .unwrap();
    store
        .create_pair("shop-analytics", Pair::new("shop", "analytics"))
        .await
        .unwrap();
    store
}

pub(crate) fn url(text: &str) -> ConnectionUrl {
    ConnectionUrl::parse(text).unwrap()
}

#[tokio::test]
async fn migrates_an_empty_file_and_reopens_it_without_migrating_again() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("nested/state.db");
    let store = Store::open_sqlite(&path).await.unwrap();
    assert_eq!(
        store.schema_version().await.unwrap(),
        Store::latest_schema_version()
    );
    store
        .create_connection("shop", url("mysql://repl:pw@127.0.0.1/shop"))
        .await
        .unwrap();
    drop(store);

    let reopened = Store::open_sqlite(&path).await.unwrap();
    assert_eq!(
        reopened.schema_version().await.unwrap(),
        Store::latest_schema_version()
    );
    let names: Vec<String> = reopened
        .connections()
        .await
        .unwrap()
        .into_iter()
        .map(|connection| connection.name)
        .collect();
    assert_eq!(names, ["shop"]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the state file holds passwords");
    }
}

#[tokio::test]
async fn keeps_passwords_but_never_shows_them() {
    let directory = tempfile::tempdir().unwrap();
    let store = store_with_pair(&directory).await;
    let connection = store.connection("shop").await.unwrap();
    assert_eq!(
        connection.url.expose(),
        "mysql://repl:s3cret-shop@127.0.0.1:3306/shop"
    );
    let shown = serde_json::to_string(&store.connections().await.unwrap()).unwrap();
    assert!(!shown.contains("s3cret"), "{shown}");
    assert!(
        shown.contains("mysql://repl:***@127.0.0.1:3306/shop"),
        "{shown}"
    );
    assert!(!format!("{connection:?}").contains("s3cret"));
}

#[tokio::test]
async fn refuses_taken_names_unknown_connections_and_removing_what_is_used() {
    let directory = tempfile::tempdir().unwrap();
    let store = store_with_pair(&directory).await;
    let taken = store
        .create_connection("shop", url("mysql://root@127.0.0.1/other"))
        .await
        .unwrap_err();
    assert_eq!(taken.kind(), ErrorKind::Conflict);
    assert_eq!(
        taken.message(),
        "connection `shop` exists already; remove it first or choose another name"
    );

    let unknown = store
        .create_pair("broken", Pair::new("shop", "nowhere"))
        .await
        .unwrap_err();
    assert_eq!(unknown.kind(), ErrorKind::Invalid);
    assert!(
        unknown.message().contains("`nowhere`"),
        "{}",
        unknown.message()
    );

    let bad_name = store
        .create_connection("Bad Name", url("mysql://root@127.0.0.1/x"))
        .await
        .unwrap_err();
    assert_eq!(bad_name.kind(), ErrorKind::Invalid);

    let used = store.delete_connection("shop").await.unwrap_err();
    assert_eq!(used.kind(), ErrorKind::Conflict);
    assert_eq!(
        used.message(),
        "connection `shop` is used by pair `shop-analytics`; remove the pair first"
    );
    assert_eq!(
        store.delete_connection("missing").await.unwrap_err().kind(),
        ErrorKind::NotFound
    );

    store.delete_pair("shop-analytics").await.unwrap();
    store.delete_connection("shop").await.unwrap();
    assert_eq!(
        store.pair("shop-analytics").await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
}

#[tokio::test]
async fn enables_and_disables_a_pair() {
    let directory = tempfile::tempdir().unwrap();
    let store = store_with_pair(&directory).await;
    let disabled = store
        .set_pair_enabled("shop-analytics", false)
        .await
        .unwrap();
    assert!(!disabled.enabled);
    assert!(
        !store
            .pair("shop-analytics")
            .await
            .unwrap()
            .definition
            .enabled
    );
    let enabled = store
        .set_pair_enabled("shop-analytics", true)
        .await
        .unwrap();
    assert!(enabled.enabled);
    assert_eq!(enabled.definition, Pair::new("shop", "analytics"));
}

#[tokio::test]
async fn runs_a_pair_through_its_lifecycle_with_history_and_logs() {
    let directory = tempfile::tempdir().unwrap();
    let store = store_with_pair(&directory).await;
    assert_eq!(store.status().await.unwrap()[0].state, PairState::Idle);

    let run = store.start_run("shop-analytics").await.unwrap();
    let id = run.id().clone();
    store.add_run_rows(&run, 40).await.unwrap();
    store.add_run_rows(&run, 2).await.unwrap();
    store
        .log_run(&run, LogLevel::Info, "copying shop.orders")
        .await
        .unwrap();
    assert_eq!(store.status().await.unwrap()[0].state, PairState::Running);
    let record = store.finish_run(run, Outcome::Completed).await.unwrap();
    assert_eq!(record.state, RunState::Completed);
    assert_eq!(record.rows, 42);
    assert!(record.ended_at.is_some());
    assert_eq!(record.error, None);

    let failed = store.start_run("shop-analytics").await.unwrap();
    let failed = store
        .finish_run(
            failed,
            Outcome::Failed {
                error: "lost the binlog connection".to_owned(),
            },
        )
        .await
        .unwrap();
    assert_eq!(failed.error.as_deref(), Some("lost the binlog connection"));

    let history = store.runs("shop-analytics", 10).await.unwrap();
    let states: Vec<RunState> = history.iter().map(|run| run.state).collect();
    assert_eq!(states, [RunState::Failed, RunState::Completed]);
    assert_eq!(store.status().await.unwrap()[0].state, PairState::Failed);
    let log = store.run_logs(id.as_str()).await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].message, "copying shop.orders");
    assert_eq!(log[0].level, LogLevel::Info);
}

#[tokio::test]
async fn never_starts_two_runs_of_one_pair() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("state.db");
    let store = store_with_pair(&directory).await;
    // A second store on the same file stands for a second process.
    let other = Store::open_sqlite(&path).await.unwrap();
    let (first, second) = tokio::join!(
        store.start_run("shop-analytics"),
        other.start_run("shop-analytics")
    );
    let (started, refused) = match (first, second) {
        (Ok(run), Err(error)) | (Err(error), Ok(run)) => (run, error),
        (first, second) => {
            panic!("expected one start and one refusal, got {first:?} and {second:?}")
        }
    };
    assert_eq!(refused.kind(), ErrorKind::Conflict);
    assert!(
        refused.message().contains(started.id().as_str()),
        "{}",
        refused.message()
    );

    store.finish_run(started, Outcome::Stopped).await.unwrap();
    let again = other.start_run("shop-analytics").await.unwrap();
    assert_eq!(
        store
            .delete_pair("shop-analytics")
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::Conflict
    );
    other.finish_run(again, Outcome::Completed).await.unwrap();
}

#[tokio::test]
async fn a_run_interrupted_by_a_crash_fails_and_frees_its_pair() {
    let directory = tempfile::tempdir().unwrap();
    let store = store_with_pair(&directory).await;
    let lost = store.start_run("shop-analytics").await.unwrap();
    let interrupted = store.fail_interrupted_runs().await.unwrap();
    assert_eq!(interrupted, [lost.id().clone()]);
    let refused = store
        .finish_run(lost, Outcome::Completed)
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::Conflict);
    let run = store.start_run("shop-analytics").await.unwrap();
    store.finish_run(run, Outcome::Completed).await.unwrap();
}

#[tokio::test]
async fn keeps_table_state_dead_letters_and_conflicts() {
    let directory = tempfile::tempdir().unwrap();
    let store = store_with_pair(&directory).await;
    let update = TableUpdate {
        table: "shop.orders".to_owned(),
        status: TableStatus::Copying,
        checkpoint: None,
        rows_synced: 10,
        last_error: None,
    };
    store
        .record_table_state("shop-analytics", update.clone())
        .await
        .unwrap();
    store
        .record_table_state(
            "shop-analytics",
            TableUpdate {
                status: TableStatus::Failed,
                rows_synced: 12,
                last_error: Some("column shop.orders.total is gone".to_owned()),
                ..update
            },
        )
        .await
        .unwrap();
    let tables = store.table_states("shop-analytics").await.unwrap();
    assert_eq!(tables.len(), 1);
    assert_eq!(tables[0].status, TableStatus::Failed);
    assert_eq!(tables[0].rows_synced, 12);
    assert_eq!(
        tables[0].last_error.as_deref(),
        Some("column shop.orders.total is gone")
    );

    store
        .add_dead_letter(
            "shop-analytics",
            NewDeadLetter {
                table: "shop.orders".to_owned(),
                key: json!([7]),
                row: Some(json!({"id": 7, "total": "1e999"})),
                error: "value out of range".to_owned(),
            },
        )
        .await
        .unwrap();
    let letters = store.dead_letters("shop-analytics").await.unwrap();
    assert_eq!(letters[0].key, json!([7]));
    assert_eq!(letters[0].row, Some(json!({"id": 7, "total": "1e999"})));

    let conflict = store
        .add_conflict(
            "shop-analytics",
            NewConflict {
                table: "shop.orders".to_owned(),
                key: json!([7]),
                source_row: Some(json!({"id": 7, "total": 1})),
                target_row: Some(json!({"id": 7, "total": 2})),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        store.unresolved_conflicts().await.unwrap(),
        std::slice::from_ref(&conflict)
    );
    let resolved = store
        .resolve_conflict(&conflict.id, ConflictResolution::Source, None)
        .await
        .unwrap();
    assert_eq!(resolved.resolution, Some(ConflictResolution::Source));
    assert!(store.unresolved_conflicts().await.unwrap().is_empty());
    let twice = store
        .resolve_conflict(&conflict.id, ConflictResolution::Target, None)
        .await
        .unwrap_err();
    assert_eq!(twice.kind(), ErrorKind::Conflict);
}

#[tokio::test]
async fn cleans_up_ended_history_older_than_the_retention() {
    let directory = tempfile::tempdir().unwrap();
    let store = store_with_pair(&directory).await;
    let ended = store.start_run("shop-analytics").await.unwrap();
    store.log_run(&ended, LogLevel::Info, "done").await.unwrap();
    let ended = store.finish_run(ended, Outcome::Completed).await.unwrap();
    let running = store.start_run("shop-analytics").await.unwrap();

    let kept = store
        .clean_up_history(Duration::from_secs(3600))
        .await
        .unwrap();
    assert_eq!(kept.runs, 0);
    tokio::time::sleep(Duration::from_millis(5)).await;
    let cleaned = store
        .clean_up_history(Duration::from_millis(1))
        .await
        .unwrap();
    assert_eq!(cleaned.runs, 1);
    assert_eq!(
        store.run(ended.id.as_str()).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        store.run_logs(ended.id.as_str()).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    let left = store.runs("shop-analytics", 10).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(&left[0].id, running.id());
    store.finish_run(running, Outcome::Stopped).await.unwrap();
}

#[tokio::test]
async fn declares_the_files_connections_and_pairs_over_what_it_holds() {
    let directory = tempfile::tempdir().unwrap();
    let store = store_with_pair(&directory).await;
    let mut config = dbsync_config::Config::default();
    config.connections.insert(
        "shop".into(),
        dbsync_config::Connection {
            url: url("mysql://repl:new-secret@10.0.0.1:3306/shop"),
        },
    );
    config.connections.insert(
        "archive".into(),
        dbsync_config::Connection {
            url: url("postgres://dbsync:pw@127.0.0.1/archive"),
        },
    );
    let mut archived = Pair::new("shop", "archive");
    archived.batch_size = 77;
    config.pairs.insert("shop-archive".into(), archived.clone());
    store.declare(&config).await.unwrap();
    // Declaring again changes nothing.
    store.declare(&config).await.unwrap();

    assert_eq!(
        store.connection("shop").await.unwrap().url.expose(),
        "mysql://repl:new-secret@10.0.0.1:3306/shop"
    );
    assert_eq!(
        store.pair("shop-archive").await.unwrap().definition,
        archived
    );
    let pairs: Vec<String> = store
        .pairs()
        .await
        .unwrap()
        .into_iter()
        .map(|pair| pair.name)
        .collect();
    assert_eq!(pairs, ["shop-analytics", "shop-archive"]);

    archived.batch_size = 5;
    config.pairs.insert("shop-archive".into(), archived.clone());
    store.declare(&config).await.unwrap();
    assert_eq!(
        store.pair("shop-archive").await.unwrap().definition,
        archived
    );

    let mut broken = config.clone();
    broken
        .pairs
        .insert("nowhere".into(), Pair::new("shop", "missing"));
    broken
        .pairs
        .insert("shop-archive".into(), Pair::new("shop", "analytics"));
    let error = store.declare(&broken).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Invalid, "{error}");
    assert_eq!(
        store.pair("shop-archive").await.unwrap().definition,
        archived
    );
    assert_eq!(
        store.pair("nowhere").await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
}
