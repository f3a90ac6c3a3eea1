//! The management command line of seed 003: connections and pairs in the state store,
//! the service, and `status`, as a user runs them.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use serde_json::Value;

use crate::support::{Sandbox, TempDir, assert_success, free_port, run};
use crate::{stderr, stdout};

const PASSWORD: &str = "cli-pw-3e8b51";

/// A directory with a configuration file whose state store is in it: `declared` is
/// YAML for the file's `connections:` and `pairs:`, the rest is the store's.
fn workspace(hint: &str, declared: &str) -> (TempDir, PathBuf) {
    let dir = std::env::temp_dir().join(format!("dbsync-it-{}-{hint}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("dbsync.yaml");
    std::fs::write(
        &config,
        format!(
            "state: sqlite://{}\nserver:\n  listen: 127.0.0.1:{}\n{declared}",
            dir.join("state/state.db").display(),
            free_port()
        ),
    )
    .unwrap();
    (TempDir(dir), config)
}

/// Runs dbsync, checks no output holds the password, and gives the output.
fn cli(config: &Path, args: &[&str]) -> Output {
    let output = run(config, args);
    for text in [stdout(&output), stderr(&output)] {
        assert!(
            !text.contains(PASSWORD),
            "dbsync {args:?} printed the password: {text}"
        );
    }
    output
}

fn json(config: &Path, args: &[&str]) -> Value {
    let mut args = args.to_vec();
    args.push("--json");
    let output = cli(config, &args);
    assert_success(&output);
    serde_json::from_str(&stdout(&output))
        .unwrap_or_else(|e| panic!("dbsync {args:?} printed no JSON ({e}): {}", stdout(&output)))
}

/// Exit 2, one sentence on stderr holding `needle`, nothing on stdout.
fn assert_usage_error(config: &Path, args: &[&str], needle: &str) {
    let output = cli(config, args);
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "dbsync {args:?}: {message}");
    assert!(
        stdout(&output).is_empty(),
        "dbsync {args:?} printed to stdout"
    );
    assert_eq!(message.lines().count(), 1, "one sentence: {message}");
    assert!(message.contains(needle), "dbsync {args:?}: {message}");
}

/// The text `key` of each item of `listing`.
fn column<'a>(listing: &'a Value, key: &str) -> Vec<&'a str> {
    listing
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item[key].as_str().unwrap())
        .collect()
}

#[test]
fn manages_connections_and_pairs_beside_the_files() {
    let (_dir, config) = workspace(
        "manage",
        "connections:\n  filed: { url: \"postgres://filer@127.0.0.1/filed\" }\n",
    );
    let source = format!("mysql://repl:{PASSWORD}@127.0.0.1:3306/shop");
    let added = cli(&config, &["connection", "add", "shop", "--url", &source]);
    assert_success(&added);
    assert!(
        stdout(&added).contains("mysql://repl:***@127.0.0.1:3306/shop"),
        "{}",
        stdout(&added)
    );
    let target = format!("postgres://dbsync:{PASSWORD}@127.0.0.1/analytics");
    let added = json(
        &config,
        &["connection", "add", "analytics", "--url", &target],
    );
    assert_eq!(added["url"], "postgres://dbsync:***@127.0.0.1/analytics");

    assert_usage_error(
        &config,
        &["connection", "add", "shop", "--url", &source],
        "exists already",
    );
    assert_usage_error(
        &config,
        &["connection", "add", "ftp", "--url", "ftp://host/x"],
        "unknown scheme",
    );
    assert_usage_error(&config, &["connection", "add", "lost"], "--url");
    assert_usage_error(&config, &["connection", "add", "--url", &source], "NAME");

    let connections = json(&config, &["connection", "list"]);
    assert_eq!(column(&connections, "name"), ["analytics", "filed", "shop"]);
    assert_eq!(column(&connections, "declared_in"), ["cli", "file", "cli"]);
    let listed = cli(&config, &["connection", "list"]);
    assert_success(&listed);
    assert!(stdout(&listed).contains("repl:***@"), "{}", stdout(&listed));

    let pair = json(
        &config,
        &[
            "sync",
            "add",
            "shop-analytics",
            "--source",
            "shop",
            "--target",
            "analytics",
            "--tables",
            "orders,!audit_*",
        ],
    );
    assert_eq!(
        pair["definition"]["tables"],
        serde_json::json!(["orders", "!audit_*"])
    );
    for (flags, needle) in [
        (
            &["--source", "nowhere", "--target", "analytics"][..],
            "nowhere",
        ),
        (
            &[
                "--source",
                "shop",
                "--target",
                "analytics",
                "--capture",
                "pigeon",
            ],
            "--capture",
        ),
        (&["--source", "shop"], "--target"),
    ] {
        let mut args = vec!["sync", "add", "other"];
        args.extend(flags);
        assert_usage_error(&config, &args, needle);
    }

    let pairs = json(&config, &["sync", "list"]);
    assert_eq!(column(&pairs, "name"), ["shop-analytics"]);
    assert_eq!(pairs[0]["enabled"], true);
    assert_eq!(pairs[0]["state"], "idle");
    assert_success(&cli(&config, &["sync", "disable", "shop-analytics"]));
    assert_eq!(
        json(&config, &["sync", "show", "shop-analytics"])["enabled"],
        false
    );
    assert_success(&cli(&config, &["sync", "enable", "shop-analytics"]));
    let shown = cli(&config, &["sync", "show", "shop-analytics"]);
    assert_success(&shown);
    assert!(stdout(&shown).contains("repl:***@"), "{}", stdout(&shown));
    assert_usage_error(&config, &["sync", "show", "nothing"], "no pair `nothing`");

    assert_usage_error(
        &config,
        &["connection", "remove", "shop"],
        "used by pair `shop-analytics`",
    );
    assert_usage_error(&config, &["connection", "remove", "filed"], "declared in");
    assert_success(&cli(&config, &["sync", "remove", "shop-analytics"]));
    assert_success(&cli(&config, &["connection", "remove", "shop"]));
    assert_usage_error(
        &config,
        &["connection", "remove", "shop"],
        "no connection `shop`",
    );
    assert_eq!(
        column(&json(&config, &["connection", "list"]), "name"),
        ["analytics", "filed"]
    );
}

#[test]
fn works_without_a_configuration_file() {
    let (dir, _) = workspace("nofile", "");
    let missing = dir.0.join("absent.yaml");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_dbsync"))
        .args([
            "connection",
            "add",
            "local",
            "--url",
            "sqlite://data/app.db",
            "--config",
        ])
        .arg(&missing)
        .current_dir(&dir.0)
        .output()
        .unwrap();
    assert_success(&output);
    assert!(
        dir.0.join(".dbsync/state.db").exists(),
        "the default store was not created"
    );
}

/// Stops the service when a test ends early, so that no daemon outlives it.
struct Service<'a>(&'a Path);

impl Drop for Service<'_> {
    fn drop(&mut self) {
        let _ = run(self.0, &["service", "stop"]);
    }
}

#[test]
fn service_starts_as_a_daemon_reports_and_stops() {
    let (dir, config) = workspace("service", "");
    let not_running = cli(&config, &["service", "status"]);
    assert_eq!(
        not_running.status.code(),
        Some(1),
        "{}",
        stderr(&not_running)
    );
    assert!(
        stderr(&not_running).contains("not running"),
        "{}",
        stderr(&not_running)
    );
    assert_eq!(cli(&config, &["service", "stop"]).status.code(), Some(1));

    let started = cli(&config, &["service", "start", "--daemon"]);
    let _service = Service(&config);
    assert_success(&started);
    let status = json(&config, &["service", "status"]);
    assert_eq!(status["running"], true, "{status}");
    let pid = status["pid"].as_u64().unwrap();
    assert!(Path::new(&format!("/proc/{pid}")).exists());
    let again = cli(&config, &["service", "start", "--daemon"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains("already running"),
        "{}",
        stderr(&again)
    );

    let stopped = cli(&config, &["service", "stop"]);
    assert_success(&stopped);
    let pid_file = dir.0.join("state/dbsync.pid");
    assert!(!pid_file.exists());
    assert_eq!(cli(&config, &["service", "status"]).status.code(), Some(1));

    // A pid file left by a process that is gone is found stale and removed.
    let mut gone = std::process::Command::new("true").spawn().unwrap();
    let gone_pid = gone.id();
    gone.wait().unwrap();
    std::fs::write(
        &pid_file,
        format!("{{\"pid\":{gone_pid},\"started_at\":\"2026-01-01T00:00:00Z\",\"listen\":\"127.0.0.1:1\"}}"),
    )
    .unwrap();
    let stale = cli(&config, &["service", "status"]);
    assert_eq!(stale.status.code(), Some(1));
    assert!(stderr(&stale).contains("stale"), "{}", stderr(&stale));
    assert!(!pid_file.exists());
}

#[test]
fn service_start_in_the_foreground_is_stopped_by_service_stop() {
    let (dir, config) = workspace("foreground", "");
    let mut foreground = std::process::Command::new(env!("CARGO_BIN_EXE_dbsync"))
        .args(["service", "start", "--config"])
        .arg(&config)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let _service = Service(&config);
    let mut waited = 0;
    while !cli(&config, &["service", "status"]).status.success() {
        assert!(
            foreground.try_wait().unwrap().is_none(),
            "service start ended"
        );
        waited += 1;
        assert!(
            waited < 300,
            "service status never saw the foreground service"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_success(&cli(&config, &["service", "stop"]));
    assert!(foreground.wait().unwrap().success());
    assert!(!dir.0.join("state/dbsync.pid").exists());
}

#[test]
fn tests_a_connection_the_cli_added() {
    let sandbox = Sandbox::new("clitest");
    let config = sandbox.dir().join("cli.yaml");
    std::fs::write(&config, "").unwrap();
    let source = sandbox.binlog_account_url("clitest", PASSWORD);
    assert_success(&cli(
        &config,
        &["connection", "add", "src", "--url", &source],
    ));
    let tested = cli(&config, &["connection", "test", "src"]);
    assert_success(&tested);
    assert!(
        stdout(&tested).contains("connection `src`: ok"),
        "{}",
        stdout(&tested)
    );
    assert_usage_error(
        &config,
        &["connection", "test", "nothing"],
        "no connection `nothing`",
    );
}

#[test]
fn a_daemon_that_cannot_start_says_why() {
    let (dir, _) = workspace("badserve", "");
    // A state store on MySQL loads as configuration, but `serve` refuses it.
    let config = dir.0.join("mysql-state.yaml");
    std::fs::write(
        &config,
        format!(
            "state: mysql://u@127.0.0.1/state\nlogging:\n  dir: {}\n",
            dir.0.join("logs").display()
        ),
    )
    .unwrap();
    let output = cli(&config, &["service", "start", "--daemon"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("SQLite only"),
        "{}",
        stderr(&output)
    );
    assert!(!dir.0.join("logs/dbsync.pid").exists());
}

#[test]
fn status_watch_redraws_until_interrupted() {
    let (_dir, config) = workspace("watch", "");
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_dbsync"))
        .args(["status", "--watch", "--json", "--config"])
        .arg(&config)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(2500));
    let interrupted = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    let output = child.wait_with_output().unwrap();
    assert_success(&output);
    let snapshots: Vec<Value> = stdout(&output)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert!(snapshots.len() >= 2, "one redraw a second: {snapshots:?}");
}

#[test]
fn prints_shell_completions() {
    let output = crate::dbsync(&["completions", "bash"]);
    assert_success(&output);
    assert!(
        stdout(&output).contains("connection"),
        "{}",
        stdout(&output)
    );
}

#[tokio::test]
async fn status_shows_the_last_verify_of_each_pair() {
    let sandbox = Sandbox::new("clistatus");
    sandbox.source_sql(
        "CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(20));
         INSERT INTO items VALUES (1, 'one'), (2, 'two');",
    );
    assert_success(&sandbox.run_once());
    let never = cli(&sandbox.config, &["status"]);
    assert!(
        stdout(&never).contains("never verified"),
        "{}",
        stdout(&never)
    );
    assert_success(&cli(&sandbox.config, &["verify"]));
    let status = json(&sandbox.config, &["status"]);
    let verify = &status[0]["last_verify"];
    assert_eq!(verify["equal"], true, "{status}");
    assert_eq!(verify["tables"][0]["source_rows"], 2, "{status}");

    sandbox
        .target_client()
        .await
        .batch_execute("UPDATE public.items SET name = 'changed' WHERE id = 2")
        .await
        .unwrap();
    assert_eq!(cli(&sandbox.config, &["verify"]).status.code(), Some(3));
    let status = json(&sandbox.config, &["status"]);
    let verify = &status[0]["last_verify"];
    assert_eq!(verify["equal"], false, "{status}");
    assert_eq!(verify["tables"][0]["different"], 1, "{status}");
    let text = cli(&sandbox.config, &["status"]);
    assert!(
        stdout(&text).contains("DIFFERENT (0 missing, 0 extra, 1 different)"),
        "{}",
        stdout(&text)
    );
}

/// The seed 003 story: connections and a pair added by the CLI, the service started in
/// the background, rows moving in `status`, the service stopped.
#[tokio::test]
async fn cli_story_from_connection_add_to_service_stop() {
    let sandbox = Sandbox::new("climanage");
    sandbox.source_sql(
        "CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(20));
         INSERT INTO items VALUES (1, 'one'), (2, 'two'), (3, 'three');",
    );
    let source = sandbox.binlog_account_url("cli", PASSWORD);
    let config = sandbox.dir().join("cli.yaml");
    std::fs::write(
        &config,
        format!(
            "state: sqlite://{}\nserver:\n  listen: 127.0.0.1:{}\n",
            sandbox.dir().join("cli-state.db").display(),
            free_port()
        ),
    )
    .unwrap();
    let target = dbsync_testkit::postgres().url(&sandbox.target);
    assert_success(&cli(
        &config,
        &["connection", "add", "src", "--url", &source],
    ));
    assert_success(&cli(
        &config,
        &["connection", "add", "dst", "--url", &target],
    ));
    assert_success(&cli(&config, &["connection", "test", "src"]));
    assert_success(&cli(
        &config,
        &["sync", "add", "p", "--source", "src", "--target", "dst"],
    ));
    assert_success(&cli(&config, &["service", "start", "--daemon"]));
    let _service = Service(&config);

    let table = format!("{}.items", sandbox.source);
    wait_for_rows(&config, &table, 3).await;
    sandbox.source_sql("INSERT INTO items VALUES (4, 'four');");
    wait_for_rows(&config, &table, 4).await;
    assert_success(&cli(&config, &["status"]));
    assert_success(&cli(&config, &["service", "stop"]));
}

/// Waits until `status --json` shows `rows` synced into `table` of pair `p`.
async fn wait_for_rows(config: &Path, table: &str, rows: u64) {
    let mut last = Value::Null;
    for _ in 0..600 {
        last = json(config, &["status"]);
        let synced = last[0]["tables"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|t| t["table"] == table)
            .and_then(|t| t["rows_synced"].as_u64());
        if synced >= Some(rows) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("status never showed {rows} rows in {table}: {last}");
}
