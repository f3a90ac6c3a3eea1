//! `dbsync serve` as a user runs it: the REST API over a real socket while it syncs a
//! MySQL -> PostgreSQL pair, and a graceful stop.

use std::path::PathBuf;
use std::time::Duration;

use dbsync_config::{ConnectionUrl, Pair};
use dbsync_control::{NewConflict, RunState, Store};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::support::{Daemon, Deadline, Sandbox, free_port};

const TOKEN: &str = "serve-token-7c1f3e";
const PASSWORD: &str = "serve-pw-58d2a9";

/// A source account of the test's own, with a password found nowhere else.
fn source_url(sandbox: &Sandbox) -> String {
    sandbox.binlog_account_url("serve", PASSWORD)
}

/// Calls the server, keeping every answer to look for secrets in.
struct Api {
    client: Client,
    base: String,
    bodies: Vec<String>,
}

impl Api {
    /// The status and body of GET `path`, with the token or without.
    async fn get(&mut self, path: &str, token: bool) -> (StatusCode, String) {
        let mut request = self.client.get(format!("{}{path}", self.base));
        if token {
            request = request.bearer_auth(TOKEN);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let body = response.text().await.unwrap();
        self.bodies.push(body.clone());
        (status, body)
    }

    fn assert_no_secret(&self) {
        for body in &self.bodies {
            assert!(
                !body.contains(PASSWORD),
                "an answer holds the password: {body}"
            );
            assert!(!body.contains(TOKEN), "an answer holds the token: {body}");
        }
    }

    /// The status and JSON body of POST `path` with the token.
    async fn post(&mut self, path: &str) -> (StatusCode, Value) {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body = response.text().await.unwrap();
        self.bodies.push(body.clone());
        (status, serde_json::from_str(&body).unwrap())
    }

    async fn json(&mut self, path: &str) -> Value {
        let (status, body) = self.get(path, true).await;
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        serde_json::from_str(&body).unwrap()
    }
}

/// A `dbsync serve` of the sandbox's pair, answering /health, with its state store.
async fn serve(sandbox: &Sandbox) -> (Daemon, Api, PathBuf) {
    let port = free_port();
    let state = sandbox.dir().join("state.db");
    let config = sandbox.write_config(
        "serve.yaml",
        &source_url(sandbox),
        &dbsync_testkit::postgres().url(&sandbox.target),
        &[],
        &format!(
            "state: sqlite://{}\nserver:\n  listen: 127.0.0.1:{port}\n  auth_token: {TOKEN}\nlogging:\n  format: json\n  dir: {}\n",
            state.display(),
            sandbox.dir().join("logs").display()
        ),
    );
    let mut daemon = Daemon::serve(&config, &sandbox.dir().join("serve.log"));
    let api = Api {
        client: Client::new(),
        base: format!("http://127.0.0.1:{port}"),
        bodies: Vec::new(),
    };
    let deadline = Deadline::new(30, "the API to answer /health");
    loop {
        let answered = api.client.get(format!("{}/health", api.base)).send().await;
        if answered.is_ok_and(|response| response.status() == StatusCode::OK) {
            break;
        }
        deadline.tick(&mut daemon).await;
    }
    (daemon, api, state)
}

#[tokio::test]
async fn serves_the_api_while_it_syncs_and_stops_on_sigterm() {
    let sandbox = Sandbox::new("serve");
    sandbox.source_sql(
        "CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(20));
         INSERT INTO items VALUES (1, 'one'), (2, 'two'), (3, 'three');",
    );
    let (mut daemon, mut api, state) = serve(&sandbox).await;
    assert_eq!(
        api.get("/api/v1/pairs", false).await.0,
        StatusCode::UNAUTHORIZED
    );
    let pairs = api.json("/api/v1/pairs").await;
    let names: Vec<&str> = pairs
        .as_array()
        .unwrap()
        .iter()
        .map(|pair| pair["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["p"]);
    let connections = api.json("/api/v1/connections").await;
    assert_eq!(connections.as_array().unwrap().len(), 2, "{connections}");

    // The copy, then a change streamed after it.
    let table = format!("{}.items", sandbox.source);
    wait_for_table(&mut api, &mut daemon, &table, "streaming", 3).await;
    let mut stream = api
        .client
        .get(format!("{}/api/v1/sync/stream", api.base))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    sandbox.source_sql("INSERT INTO items VALUES (4, 'four');");
    // The change arrives as a progress event, live.
    let mut received = String::new();
    let expected = "\"rows_synced\":4";
    while !received
        .lines()
        .any(|line| line.starts_with("data:") && line.contains(expected))
    {
        let chunk = tokio::time::timeout(Duration::from_secs(30), stream.chunk())
            .await
            .unwrap_or_else(|_| panic!("no progress event with {expected}; received:\n{received}"))
            .unwrap()
            .expect("the stream ended");
        received.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(received.contains("event: progress"), "{received}");
    drop(stream);
    wait_for_table(&mut api, &mut daemon, &table, "streaming", 4).await;
    assert_eq!(
        sandbox
            .target_query("SELECT id::text, name FROM items ORDER BY id")
            .await,
        [
            [Some("1".into()), Some("one".into())],
            [Some("2".into()), Some("two".into())],
            [Some("3".into()), Some("three".into())],
            [Some("4".into()), Some("four".into())],
        ]
    );

    let status = api.json("/api/v1/sync/status").await;
    assert_eq!(status[0]["pair"], "p", "{status}");
    assert_eq!(status[0]["state"], "running", "{status}");
    assert_eq!(status[0]["latest_run"]["rows"], 4, "{status}");

    let (code, metrics) = api.get("/metrics", true).await;
    assert_eq!(code, StatusCode::OK);
    let series = |operation: &str| {
        format!(
            "dbsync_rows_applied_total{{pair=\"p\",table=\"{table}\",operation=\"{operation}\"}}"
        )
    };
    assert!(
        metrics.contains(&format!("{} 3\n", series("insert"))),
        "{metrics}"
    );
    assert!(
        metrics.contains(&format!("{} 1\n", series("upsert"))),
        "{metrics}"
    );
    assert!(
        metrics.contains(&format!(
            "dbsync_copy_rows{{pair=\"p\",table=\"{table}\"}} 3\n"
        )),
        "{metrics}"
    );
    // The copy's chunk and the streamed batch, each timed.
    let batches = format!("dbsync_batch_duration_seconds_count{{pair=\"p\",table=\"{table}\"}} ");
    let timed: u64 = metrics
        .lines()
        .find_map(|line| line.strip_prefix(&batches))
        .unwrap_or_else(|| panic!("no {batches}in {metrics}"))
        .parse()
        .unwrap();
    assert!(timed >= 2, "{metrics}");

    let exit = daemon.terminate(Duration::from_secs(30)).await;
    assert!(exit.success(), "{exit}; its log:\n{}", daemon.log());
    let store = Store::open_sqlite(&state).await.unwrap();
    let runs = store.runs("p", 10).await.unwrap();
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0].state, RunState::Stopped, "{runs:?}");
    let tables = store.table_states("p").await.unwrap();
    assert_eq!(tables.len(), 1, "{tables:?}");
    assert_eq!(
        (tables[0].status, tables[0].rows_synced),
        (dbsync_control::TableStatus::Stopped, 4)
    );

    api.assert_no_secret();
}

#[tokio::test]
async fn records_a_pair_that_fails_and_goes_on_serving() {
    let sandbox = Sandbox::new("serve_fail");
    sandbox.source_sql("CREATE TABLE keyless (a INT); INSERT INTO keyless VALUES (1);");
    let (mut daemon, mut api, _) = serve(&sandbox).await;

    let deadline = Deadline::new(60, "the run of pair p to fail");
    let run = loop {
        let runs = api.json("/api/v1/pairs/p/runs").await;
        if runs[0]["state"] == "failed" {
            break runs[0].clone();
        }
        deadline.tick(&mut daemon).await;
    };
    let error = run["error"].as_str().unwrap();
    assert!(error.contains("has no primary key"), "{run}");
    let status = api.json("/api/v1/sync/status").await;
    assert_eq!(status[0]["state"], "failed", "{status}");
    let tables = api.json("/api/v1/pairs/p/tables").await;
    assert_eq!(
        tables[0]["table"],
        format!("{}.keyless", sandbox.source),
        "{tables}"
    );
    assert_eq!(tables[0]["status"], "failed", "{tables}");
    assert_eq!(tables[0]["last_error"], error, "{tables}");
    let (_, metrics) = api.get("/metrics", true).await;
    assert!(
        metrics.contains(&format!(
            "dbsync_errors_total{{pair=\"p\",table=\"{}.keyless\",kind=\"config\"}} 1\n",
            sandbox.source
        )),
        "{metrics}"
    );

    let exit = daemon.terminate(Duration::from_secs(30)).await;
    assert!(exit.success(), "{exit}; its log:\n{}", daemon.log());
    api.assert_no_secret();

    // The error is in both log files, as JSON naming its run.
    let run_id = run["id"].as_str().unwrap();
    for file in ["combined.log", "error.log"] {
        let log = std::fs::read_to_string(sandbox.dir().join("logs").join(file)).unwrap();
        let line = log
            .lines()
            .find(|line| line.contains("has no primary key"))
            .unwrap_or_else(|| panic!("{file}:\n{log}"));
        let line: Value = serde_json::from_str(line).unwrap();
        assert_eq!(line["level"], "ERROR", "{line}");
        assert_eq!(line["span"]["run"], run_id, "{line}");
        assert!(!log.contains(PASSWORD), "{file}:\n{log}");
    }
    let errors = std::fs::read_to_string(sandbox.dir().join("logs/error.log")).unwrap();
    assert!(
        errors
            .lines()
            .all(|line| line.contains("\"level\":\"ERROR\"")),
        "{errors}"
    );
}

/// Waits until `table` of pair `p` has `status` and `rows` rows synced.
async fn wait_for_table(api: &mut Api, daemon: &mut Daemon, table: &str, status: &str, rows: u64) {
    let deadline = Deadline::new(60, format!("{table} to be {status} with {rows} rows"));
    loop {
        let tables = api.json("/api/v1/pairs/p/tables").await;
        let found = tables
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["table"] == table && t["status"] == status && t["rows_synced"] == rows);
        if found {
            return;
        }
        deadline.tick(daemon).await;
    }
}

/// Waits until the latest run of `pair` is in `state`; gives it.
async fn wait_for_run(api: &mut Api, daemon: &mut Daemon, pair: &str, state: &str) -> Value {
    let deadline = Deadline::new(60, format!("the latest run of {pair} to be {state}"));
    loop {
        let runs = api.json(&format!("/api/v1/pairs/{pair}/runs")).await;
        if runs[0]["state"] == state {
            return runs[0].clone();
        }
        deadline.tick(daemon).await;
    }
}

/// The supervisor: start and stop through the API, one run at a time, and pairs added
/// or disabled in the store by another process picked up without a restart.
#[tokio::test]
async fn starts_and_stops_runs_and_follows_the_store() {
    let sandbox = Sandbox::new("serve_supervise");
    sandbox.source_sql("CREATE TABLE items (id INT PRIMARY KEY); INSERT INTO items VALUES (1);");
    let (mut daemon, mut api, state) = serve(&sandbox).await;
    let first = wait_for_run(&mut api, &mut daemon, "p", "running").await;

    let (status, body) = api.post("/api/v1/sync/trigger?pair=p").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (status, body) = api.post("/api/v1/sync/trigger?pair=nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, body) = api.post("/api/v1/sync/stop?pair=p").await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["run"], first["id"], "{body}");
    wait_for_run(&mut api, &mut daemon, "p", "stopped").await;
    // Stopped on request, it stays stopped.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        wait_for_run(&mut api, &mut daemon, "p", "stopped").await["id"],
        first["id"]
    );
    let (status, body) = api.post("/api/v1/sync/stop?pair=p").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");

    let (status, body) = api.post("/api/v1/sync/trigger?pair=p").await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let second = wait_for_run(&mut api, &mut daemon, "p", "running").await;
    assert_eq!(second["id"], body["run"]);
    // Seed 002's jobs are the same runs.
    let job = second["id"].as_str().unwrap();
    let (status, body) = api.post(&format!("/api/sync/jobs/{job}/stop")).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    wait_for_run(&mut api, &mut daemon, "p", "stopped").await;
    let (status, body) = api.post(&format!("/api/sync/jobs/{job}/stop")).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let logs = api.json(&format!("/api/sync/jobs/{job}/logs")).await;
    let messages: Vec<&str> = logs
        .as_array()
        .unwrap()
        .iter()
        .map(|line| line["message"].as_str().unwrap())
        .collect();
    assert_eq!(messages, ["started", "stopped"], "{logs}");

    // Another process adds a pair, then disables it.
    let store = Store::open_sqlite(&state).await.unwrap();
    let edge = sandbox.dir().join("edge.db");
    store
        .create_connection(
            "edge",
            ConnectionUrl::parse(&format!("sqlite://{}", edge.display())).unwrap(),
        )
        .await
        .unwrap();
    store
        .create_pair("q", Pair::new("src", "edge"))
        .await
        .unwrap();
    wait_for_run(&mut api, &mut daemon, "q", "running").await;
    store.set_pair_enabled("q", false).await.unwrap();
    wait_for_run(&mut api, &mut daemon, "q", "stopped").await;

    // Conflicts, as a bidirectional engine would record them.
    let conflict = store
        .add_conflict(
            "p",
            NewConflict {
                table: "items".into(),
                key: json!([1]),
                source_row: Some(json!({"id": 1})),
                target_row: None,
            },
        )
        .await
        .unwrap();
    let listed = api.json("/api/v1/conflicts").await;
    assert_eq!(listed[0]["id"], conflict.id, "{listed}");
    let resolve = format!("/api/v1/conflicts/{}/resolve", conflict.id);
    for (body, expected) in [
        (
            json!({"resolution": "custom"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (json!({"resolution": "source"}), StatusCode::OK),
        (json!({"resolution": "source"}), StatusCode::CONFLICT),
    ] {
        let response = api
            .client
            .post(format!("{}{resolve}", api.base))
            .bearer_auth(TOKEN)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), expected, "{body}");
    }
    let (status, _) = api.post("/api/v1/conflicts/nope/resolve").await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(api.json("/api/v1/conflicts").await, json!([]));

    let exit = daemon.terminate(Duration::from_secs(30)).await;
    assert!(exit.success(), "{exit}; its log:\n{}", daemon.log());
    api.assert_no_secret();
}
