//! No server outlives its test process: not when a test panics, not when the process
//! is killed. Each test runs `child_with_servers` in a child process of this same test
//! binary and watches what is left when the child is gone.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use dbsync_testkit::process_alive;

const MODE: &str = "DBSYNC_TESTKIT_CHILD_MODE";

/// Starts both kinds of server, reports them on stdout, then does what `MODE` says.
#[test]
#[ignore = "run in a child process by the other lifecycle tests"]
fn child_with_servers() {
    let mariadb = dbsync_testkit::mariadb();
    let postgres = dbsync_testkit::postgres();
    let scratch = mariadb.dir().parent().unwrap();
    println!(
        "SERVERS {} {} {}",
        mariadb.pid(),
        postgres.pid(),
        scratch.display()
    );
    match std::env::var(MODE).as_deref() {
        Ok("panic") => panic!("a test panics while its servers run"),
        Ok("hang") => loop {
            std::thread::sleep(Duration::from_secs(60));
        },
        _ => {}
    }
}

struct ChildServers {
    process: Child,
    mariadb_pid: u32,
    postgres_pid: u32,
    scratch: PathBuf,
}

fn start_child(mode: &str) -> ChildServers {
    let mut process = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "lifecycle::child_with_servers",
            "--ignored",
            "--nocapture",
        ])
        .env(MODE, mode)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(process.stdout.take().unwrap());
    let report = stdout
        .lines()
        .map(Result::unwrap)
        .find_map(|line| line.strip_prefix("SERVERS ").map(str::to_owned))
        .expect("the child reports its servers");
    let fields: Vec<&str> = report.splitn(3, ' ').collect();
    let child = ChildServers {
        process,
        mariadb_pid: fields[0].parse().unwrap(),
        postgres_pid: fields[1].parse().unwrap(),
        scratch: PathBuf::from(fields[2]),
    };
    assert!(process_alive(child.mariadb_pid) && process_alive(child.postgres_pid));
    assert!(child.scratch.is_dir());
    child
}

/// Live processes whose command line mentions `dir`: every server process of ours,
/// including PostgreSQL's backends, names its directory.
fn processes_mentioning(dir: &Path) -> Vec<u32> {
    let needle = dir.to_string_lossy().into_owned();
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            String::from_utf8_lossy(&cmdline).contains(&needle) && process_alive(*pid)
        })
        .collect()
}

fn assert_nothing_left(child: &ChildServers) {
    assert!(
        !process_alive(child.mariadb_pid),
        "MariaDB {} still runs",
        child.mariadb_pid
    );
    assert!(
        !process_alive(child.postgres_pid),
        "PostgreSQL {} still runs",
        child.postgres_pid
    );
    assert_eq!(processes_mentioning(&child.scratch), Vec::<u32>::new());
    assert!(
        !child.scratch.exists(),
        "{} was not removed",
        child.scratch.display()
    );
}

#[test]
fn servers_are_gone_as_soon_as_a_panicking_test_process_exits() {
    let mut child = start_child("panic");
    let status = child.process.wait().unwrap();
    assert_eq!(
        status.code(),
        Some(101),
        "the child test should have failed"
    );
    // No waiting: the exit hook stops the servers before the process is gone.
    assert_nothing_left(&child);
}

#[test]
fn servers_are_stopped_when_the_test_process_is_killed() {
    let mut child = start_child("hang");
    child.process.kill().unwrap();
    child.process.wait().unwrap();
    // Killed, the process ran no code of its own: the guardian cleans up, shortly after.
    let deadline = Instant::now() + Duration::from_secs(30);
    while (process_alive(child.mariadb_pid)
        || process_alive(child.postgres_pid)
        || child.scratch.exists())
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_nothing_left(&child);
}
