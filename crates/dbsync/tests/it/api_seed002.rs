//! Seed 002's curl examples, taken from the seed as written, against a running
//! `dbsync serve`.

use std::path::Path;
use std::process::Command;

use reqwest::{Client, Method};
use serde_json::Value;

use crate::support::{Daemon, Deadline, TempDir, free_port};

const SEED: &str = include_str!("seeds/002_b9bb2008c2266bfb.txt");

/// The seed's ```bash blocks that call curl, in order.
fn curl_examples() -> Vec<String> {
    SEED.split("```bash\n")
        .skip(1)
        .filter_map(|block| block.split("```").next())
        .map(|block| block.trim().to_owned())
        .filter(|block| block.starts_with("curl"))
        .collect()
}

/// Runs `example` with the seed's address and `placeholders` replaced; curl's own
/// `-sS -w` only add the status to what it prints. Gives the status and the body.
fn curl(example: &str, base: &str, placeholders: &[(&str, &str)]) -> (u16, Value) {
    let mut command = example.replace("http://localhost:8080", base);
    for (placeholder, value) in placeholders {
        command = command.replace(placeholder, value);
    }
    let output = Command::new("bash")
        .arg("-c")
        .arg(format!("{command} -sS -w '\\n%{{http_code}}'"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{command}: {output:?}");
    let (body, status) = stdout.rsplit_once('\n').unwrap();
    let body = serde_json::from_str(body).unwrap_or_else(|e| panic!("{command}: {e}: {body}"));
    (status.parse().unwrap(), body)
}

fn serve(dir: &Path, port: u16) -> Daemon {
    let config = dir.join("dbsync.yaml");
    // No token, as the seed's examples send none; no retries, so that a run of the
    // seed's unreachable host fails at once.
    std::fs::write(
        &config,
        format!(
            "state: sqlite://{}\nserver:\n  listen: 127.0.0.1:{port}\nretry:\n  attempts: 0\n",
            dir.join("state.db").display()
        ),
    )
    .unwrap();
    Daemon::serve(&config, &dir.join("serve.log"))
}

#[tokio::test]
async fn the_seeds_curl_examples_work_as_written() {
    let dir =
        TempDir(std::env::temp_dir().join(format!("dbsync-it-seed002-{}", std::process::id())));
    std::fs::create_dir_all(&dir.0).unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut daemon = serve(&dir.0, port);
    let client = Client::new();
    daemon.wait_for_health(&base).await;

    let examples = curl_examples();
    assert_eq!(examples.len(), 4, "{examples:?}");
    let (status, connection) = curl(&examples[0], &base, &[]);
    assert_eq!(status, 201, "{connection}");
    assert_eq!(connection["id"], "production-db", "{connection}");
    assert_eq!(connection["local_db_name"], "prod_sync", "{connection}");
    assert!(connection.get("password").is_none(), "{connection}");

    let connection_id = connection["id"].as_str().unwrap();
    let (status, config) = curl(&examples[1], &base, &[("connection-uuid", connection_id)]);
    assert_eq!(status, 201, "{config}");
    assert_eq!(config["connection_id"], "production-db", "{config}");
    assert_eq!(config["tables"][1]["sync_mode"], "full", "{config}");
    let config_id = config["id"].as_str().unwrap().to_owned();

    // The configuration is enabled, so the server ran it at once; its host does not
    // exist, so that job failed. A new one may start.
    let deadline = Deadline::new(30, "the first job to fail");
    loop {
        let status: Value = client
            .get(format!("{base}/api/v1/sync/status"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if status[0]["state"] == "failed" {
            break;
        }
        deadline.tick(&mut daemon).await;
    }
    let (status, job) = curl(&examples[2], &base, &[("sync-config-uuid", &config_id)]);
    assert_eq!(status, 201, "{job}");
    assert_eq!(job["pair"], config_id, "{job}");
    let job_id = job["id"].as_str().unwrap();

    let (status, watched) = curl(&examples[3], &base, &[("job-uuid", job_id)]);
    assert_eq!(status, 200, "{watched}");
    assert_eq!(watched["id"], job_id, "{watched}");

    refuses_what_it_cannot_do(&client, &base, job_id).await;
    let exit = daemon.terminate(std::time::Duration::from_secs(30)).await;
    assert!(exit.success(), "{exit}; its log:\n{}", daemon.log());
    assert!(
        !daemon.log().contains("secure_password"),
        "{}",
        daemon.log()
    );
}

/// The status and JSON body of `method path` with `body`.
async fn call(client: &Client, method: Method, url: String, body: Option<&str>) -> (u16, Value) {
    let mut request = client.request(method, url);
    if let Some(body) = body {
        request = request
            .header("Content-Type", "application/json")
            .body(body.to_owned());
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    assert!(!text.contains("secure_password"), "{text}");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// The other endpoints, and their 400, 404, 409 and 422 answers, on the state the
/// examples left.
async fn refuses_what_it_cannot_do(client: &Client, base: &str, job: &str) {
    let url = |path: &str| format!("{base}{path}");
    let connection = r#"{"name": "Production DB", "host": "db", "username": "u", "database": "d"}"#;
    for (method, path, body, expected) in [
        (Method::POST, "/api/sync/connections", Some("{"), 400),
        (
            Method::POST,
            "/api/sync/connections",
            Some(r#"{"name": "x", "hostname": "h"}"#),
            422,
        ),
        (Method::POST, "/api/sync/connections", Some(connection), 409),
        (Method::GET, "/api/sync/connections/nope", None, 404),
        (
            Method::PUT,
            "/api/sync/connections/production-db",
            Some(connection),
            200,
        ),
        (
            Method::DELETE,
            "/api/sync/connections/production-db",
            None,
            409,
        ),
        (Method::POST, "/api/sync/connections/nope/test", None, 404),
        // Its host, `db`, does not resolve.
        (
            Method::POST,
            "/api/sync/connections/production-db/test",
            None,
            422,
        ),
        (
            Method::POST,
            "/api/sync/jobs",
            Some(r#"{"config_id": "nope"}"#),
            404,
        ),
        (Method::GET, "/api/sync/jobs/nope", None, 404),
        (
            Method::POST,
            &format!("/api/sync/jobs/{job}/stop"),
            None,
            409,
        ),
        (
            Method::GET,
            &format!("/api/sync/jobs/{job}/logs"),
            None,
            200,
        ),
        (Method::GET, "/api/sync/configs/nope", None, 404),
        (Method::DELETE, "/api/sync/configs/nope", None, 404),
        (
            Method::PUT,
            "/api/v1/config",
            Some(r#"{"connections": {"x": {"url": "mysql://u:***@h/d"}}}"#),
            422,
        ),
        (
            Method::PUT,
            "/api/v1/config",
            Some(r#"{"pairs": {"y": {"source": "nope", "target": "production-db"}}}"#),
            422,
        ),
    ] {
        let (status, answer) = call(client, method.clone(), url(path), body).await;
        assert_eq!(status, expected, "{method} {path}: {answer}");
        if status >= 400 {
            assert!(
                answer["error"]["message"].is_string(),
                "{method} {path}: {answer}"
            );
        }
    }

    let (_, configs) = call(
        client,
        Method::GET,
        url("/api/sync/configs?connection_id=production-db"),
        None,
    )
    .await;
    assert_eq!(configs.as_array().unwrap().len(), 1, "{configs}");
    // The PUT of its connection started the configuration again: two jobs or three.
    let (_, jobs) = call(client, Method::GET, url("/api/sync/jobs"), None).await;
    assert!(jobs.as_array().unwrap().len() >= 2, "{jobs}");
    let (_, status) = call(client, Method::GET, url("/api/sync/status"), None).await;
    assert_eq!(status["pairs"], 1, "{status}");
    let (_, stats) = call(client, Method::GET, url("/api/sync/stats"), None).await;
    assert_eq!(stats["connections"], 2, "{stats}");
    assert!(stats["runs"].as_u64() >= Some(2), "{stats}");

    let (status, config) = call(client, Method::GET, url("/api/v1/config"), None).await;
    assert_eq!(status, 200, "{config}");
    assert_eq!(
        config["connections"]["production-db"]["url"], "mysql://u@db:3306/d",
        "{config}"
    );
    let pair = r#"{"pairs": {"again": {"source": "production-db", "target": "production-db-local", "enabled": false}}}"#;
    let (status, config) = call(client, Method::PUT, url("/api/v1/config"), Some(pair)).await;
    assert_eq!(status, 200, "{config}");
    assert_eq!(config["pairs"]["again"]["enabled"], false, "{config}");

    let (status, _) = call(client, Method::DELETE, url("/api/sync/configs/again"), None).await;
    assert_eq!(status, 204);
}
