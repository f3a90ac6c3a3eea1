//! Trigger capture: what the triggers cost the source's writers, and the lag of a pair
//! that captures by them under that load.

use std::process::{Command, Stdio};

use dbsync_core::CopyProgress;

use crate::measure::median;
use crate::scenario::{Bench, percentile, stop, sysbench_tps, wait_for};

pub(crate) struct TriggerFigures {
    pub(crate) tps_without: f64,
    pub(crate) tps_with: f64,
    pub(crate) lag_p50_ms: f64,
    pub(crate) lag_p99_ms: f64,
    pub(crate) lag_max_ms: f64,
    pub(crate) probes: usize,
}

impl Bench {
    /// sysbench oltp_write_only flat out for `seconds` without triggers; then with
    /// dbsync's triggers installed and a pair to PostgreSQL consuming them, again flat
    /// out, timing probe rows from source to target meanwhile.
    pub(crate) async fn trigger_capture(&self, seconds: u64) -> TriggerFigures {
        let tps_without = sysbench_tps(self.sysbench(seconds, None));

        let target = self
            .postgres
            .create_database("triggers")
            .expect("a target database");
        // Installing triggers takes the TRIGGER privilege: the admin user, not the
        // replication user of the binlog path.
        let config = self.pair_config_from(
            &target,
            &self.mariadb.url(&self.source),
            &self.postgres.url(&target),
            "capture: triggers",
        );
        let triggers = |action: &str| {
            let status = Command::new(&self.dbsync)
                .args(["triggers", action, "bench", "--config"])
                .arg(&config)
                .stdout(Stdio::null())
                .status()
                .expect("running dbsync triggers");
            assert!(status.success(), "dbsync triggers {action} failed");
        };
        triggers("install");
        let mut dbsync = Command::new(&self.dbsync)
            .args(["run", "--config"])
            .arg(&config)
            .env("DBSYNC_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("starting dbsync run");
        let (client, connection) =
            tokio_postgres::connect(&self.postgres.url(&target), tokio_postgres::NoTls)
                .await
                .expect("connecting to the target");
        tokio::spawn(connection);
        wait_for(&client, &mut dbsync, "sbtest1", |c| {
            matches!(c.copy, CopyProgress::Done { .. })
        })
        .await;
        let (mut lags, tps_with) = self.lag(&client, &mut dbsync, seconds, None).await;
        stop(dbsync);
        triggers("remove");
        TriggerFigures {
            tps_without,
            tps_with,
            lag_p50_ms: median(&mut lags),
            lag_p99_ms: percentile(&mut lags, 0.99),
            lag_max_ms: lags.last().copied().unwrap_or(f64::NAN),
            probes: lags.len(),
        }
    }
}
