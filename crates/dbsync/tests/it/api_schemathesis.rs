//! schemathesis (PyPI) against the OpenAPI document of a running `dbsync serve`: every
//! operation, fed what the document allows and what it does not, never answers 5xx.

use std::process::Command;

use crate::support::{Daemon, TempDir, free_port};

const TOKEN: &str = "schemathesis-token";

#[tokio::test]
async fn no_operation_answers_a_server_error() {
    if Command::new("schemathesis")
        .arg("--version")
        .output()
        .is_err()
    {
        println!("schemathesis is not installed (pip install schemathesis): test skipped");
        return;
    }
    let dir = TempDir(
        std::env::temp_dir().join(format!("dbsync-it-schemathesis-{}", std::process::id())),
    );
    std::fs::create_dir_all(&dir.0).unwrap();
    let port = free_port();
    let config = dir.0.join("dbsync.yaml");
    std::fs::write(
        &config,
        format!(
            "state: sqlite://{}\nserver:\n  listen: 127.0.0.1:{port}\n  auth_token: {TOKEN}\nretry:\n  attempts: 0\n",
            dir.0.join("state.db").display()
        ),
    )
    .unwrap();
    let mut daemon = Daemon::serve(&config, &dir.0.join("serve.log"));
    let base = format!("http://127.0.0.1:{port}");
    daemon.wait_for_health(&base).await;

    // Few examples an operation, a fixed seed, and no stateful phase (half a minute
    // more on two cores): seconds rather than minutes, and a failure that replays. Run
    // by hand, every phase passes too.
    // Blocking is fine: the server is another process.
    let output = Command::new("schemathesis")
        // Its cache goes where it runs: the test's directory, not the crate's.
        .current_dir(&dir.0)
        .args(["run", &format!("{base}/api/v1/openapi.json")])
        .args(["-H", &format!("Authorization: Bearer {TOKEN}")])
        .args(["--checks", "not_a_server_error"])
        .args([
            "--max-examples",
            "3",
            "--seed",
            "1",
            "--phases",
            "examples,coverage,fuzzing",
        ])
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{report}\n{}\ndbsync's log:\n{}",
        String::from_utf8_lossy(&output.stderr),
        daemon.log()
    );
    let exit = daemon.terminate(std::time::Duration::from_secs(30)).await;
    assert!(exit.success(), "{exit}; its log:\n{}", daemon.log());
}
