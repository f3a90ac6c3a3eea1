//! `dbsync verify` beside a pair that streams under a sysbench write load, and `dbsync
//! run --full` re-copying a pair whose target drifted, on every target engine.

use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use crate::support::{Daemon, Deadline, Replica, Sandbox, assert_success, run};

const ROWS: u64 = 10_000;

/// Keys sysbench never writes: its ids run from 1 to `ROWS`.
const PLANTED_ON_TARGET: i64 = 1_000_000;
const PLANTED_ON_SOURCE: i64 = 1_000_001;

/// sysbench `command` on the sandbox's source's table `sbtest1` of `ROWS` rows, with
/// `extra` arguments.
fn sysbench(sandbox: &Sandbox, command: &str, extra: &[String]) -> Command {
    let mut sysbench = Command::new("sysbench");
    sysbench
        .arg(command)
        .args(["--db-driver=mysql", "--mysql-host=127.0.0.1"])
        .arg(format!("--mysql-port={}", dbsync_testkit::mariadb().port()))
        .arg(format!("--mysql-user={}", dbsync_testkit::ADMIN_USER))
        .arg(format!("--mysql-db={}", sandbox.source))
        .args(["--tables=1", &format!("--table-size={ROWS}")])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    sysbench
}

/// A sysbench write load that ends when dropped.
struct Load(Child);

impl Load {
    fn start(sandbox: &Sandbox, seconds: u64, rate: u32) -> Load {
        let args = [
            "--threads=2".to_owned(),
            format!("--rate={rate}"),
            format!("--time={seconds}"),
        ];
        Load(
            sysbench(sandbox, "oltp_write_only", &args)
                .arg("run")
                .spawn()
                .expect("sysbench (Debian package sysbench)"),
        )
    }

    fn assert_running(&mut self) {
        if let Some(status) = self.0.try_wait().unwrap() {
            let mut stderr = String::new();
            if let Some(mut pipe) = self.0.stderr.take() {
                std::io::Read::read_to_string(&mut pipe, &mut stderr).unwrap();
            }
            panic!("sysbench ended early with {status}: {stderr}");
        }
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn exit_code(output: &Output) -> Option<i32> {
    output.status.code()
}

#[tokio::test]
async fn verify_under_a_sysbench_write_load_is_equal_and_finds_a_planted_difference() {
    let sandbox = Sandbox::new("verifylive");
    let prepared = sysbench(&sandbox, "oltp_common", &[])
        .arg("prepare")
        .output()
        .expect("sysbench (Debian package sysbench)");
    assert!(prepared.status.success(), "{prepared:?}");
    let mut daemon = Daemon::start(&sandbox.config, &sandbox.dir().join("run.log"));
    let client = sandbox.target_client().await;
    let copied = Deadline::new(60, "the copy of sbtest1");
    loop {
        let count = client
            .query_one("SELECT count(*) FROM public.sbtest1", &[])
            .await
            .map(|row| row.get::<_, i64>(0));
        if count.is_ok_and(|count| count == ROWS as i64) {
            break;
        }
        copied.tick(&mut daemon).await;
    }

    let mut load = Load::start(&sandbox, 60, 300);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let output = run(&sandbox.config, &["verify"]);
    load.assert_running();
    daemon.assert_running("after the verify");
    assert_success(&output);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("\tequal\t"), "{stdout}");

    // A row the stream never writes, on each side.
    client
        .batch_execute(&format!(
            "INSERT INTO public.sbtest1 (id, k, c, pad) VALUES ({PLANTED_ON_TARGET}, 1, 'planted', 'planted')"
        ))
        .await
        .unwrap();
    sandbox.source_sql(&format!(
        "SET SESSION sql_log_bin = 0; INSERT INTO sbtest1 (id, k, c, pad) VALUES ({PLANTED_ON_SOURCE}, 1, 'planted', 'planted');"
    ));
    let output = run(&sandbox.config, &["verify", "--json"]);
    load.assert_running();
    daemon.assert_running("after the second verify");
    assert_eq!(exit_code(&output), Some(3), "{output:?}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let table = &report["p"]["tables"][0];
    let keys = |kind: &str| {
        let first: Vec<&serde_json::Value> = table[kind]["first"]
            .as_array()
            .unwrap()
            .iter()
            .map(|key| &key[0]["value"])
            .collect();
        (table[kind]["count"].as_u64(), format!("{first:?}"))
    };
    let listed = |id: i64| (Some(1), format!("[Number({id})]"));
    assert_eq!(keys("extra"), listed(PLANTED_ON_TARGET), "{table}");
    assert_eq!(keys("missing"), listed(PLANTED_ON_SOURCE), "{table}");
    assert_eq!(table["different"]["count"], 0, "{table}");
}

/// A small table synced into `replica`, then changed on the source behind the
/// binlog's back: one row updated, one inserted, one deleted.
fn drifted(
    hint: &str,
    replica: impl FnOnce(&Sandbox) -> Replica,
) -> (Sandbox, Replica, std::path::PathBuf) {
    let sandbox = Sandbox::new(hint);
    sandbox.source_sql(
        "CREATE TABLE item (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL, KEY by_name (name));
         INSERT INTO item SELECT seq, CONCAT('item ', seq) FROM seq_1_to_2000;",
    );
    let replica = replica(&sandbox);
    let config = sandbox.write_config(
        "full.yaml",
        &dbsync_testkit::mariadb().replication_url(&sandbox.source),
        &replica.url(),
        &[],
        "",
    );
    assert_success(&run(&config, &["run", "--once"]));
    sandbox.source_sql(
        "SET SESSION sql_log_bin = 0;
         UPDATE item SET name = 'unseen' WHERE id = 7;
         INSERT INTO item VALUES (5000, 'unseen');
         DELETE FROM item WHERE id = 1500;",
    );
    (sandbox, replica, config)
}

enum Target {
    Postgres,
    Mysql,
    Sqlite,
}

#[tokio::test]
async fn run_full_copies_every_table_again_on_every_target_engine() {
    let replicas = [
        ("fullpg", Target::Postgres),
        ("fullmy", Target::Mysql),
        ("fulllite", Target::Sqlite),
    ];
    for (hint, replica) in replicas {
        let (sandbox, _replica, config) = drifted(hint, |sandbox| match replica {
            Target::Postgres => Replica::postgres(hint),
            Target::Mysql => Replica::mysql(hint),
            Target::Sqlite => Replica::sqlite(sandbox.dir(), hint),
        });
        let output = run(&config, &["verify"]);
        assert_eq!(exit_code(&output), Some(3), "{hint}: {output:?}");

        assert_success(&run(&config, &["run", "--full", "--once"]));
        assert_success(&run(&config, &["verify"]));

        // The checkpoints the copy left are where the stream resumes.
        sandbox.source_sql(
            "UPDATE item SET name = 'streamed' WHERE id = 8; DELETE FROM item WHERE id = 9;",
        );
        assert_success(&run(&config, &["run", "--once"]));
        let output = run(&config, &["verify"]);
        assert_success(&output);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            stdout.contains("1999 source rows, 1999 target rows"),
            "{hint}: {stdout}"
        );
    }
}
