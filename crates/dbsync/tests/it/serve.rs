//! `dbsync serve` as a user runs it: the REST API over a real socket while it syncs a
//! MySQL -> PostgreSQL pair, and a graceful stop.

use std::path::PathBuf;
use std::time::Duration;

use dbsync_control::{RunState, Store};
use reqwest::{Client, StatusCode};
use serde_json::Value;

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
            "state: sqlite://{}\nserver:\n  listen: 127.0.0.1:{port}\n  auth_token: {TOKEN}\n",
            state.display()
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
    sandbox.source_sql("INSERT INTO items VALUES (4, 'four');");
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
