//! Seed 002's curl examples, taken from the seed as written, against a running
//! `dbsync serve`.

use std::path::Path;
use std::process::Command;

use reqwest::Client;
use serde_json::Value;

use crate::serve::free_port;
use crate::support::{Daemon, Deadline, TempDir};

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
    let deadline = Deadline::new(30, "the API to answer /health");
    while !client
        .get(format!("{base}/health"))
        .send()
        .await
        .is_ok_and(|response| response.status().is_success())
    {
        deadline.tick(&mut daemon).await;
    }

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

    let exit = daemon.terminate(std::time::Duration::from_secs(30)).await;
    assert!(exit.success(), "{exit}; its log:\n{}", daemon.log());
    assert!(
        !daemon.log().contains("secure_password"),
        "{}",
        daemon.log()
    );
}
