//! Prometheus metrics of the engines' work, served at `/metrics` and `/api/v1/metrics`.
//!
//! [`Metrics`] owns its own recorder rather than installing the `metrics` crate's global
//! one, so that each server (and each test) has its own series, and an engine records
//! through the handle it is given rather than through process-wide state.

use std::sync::Arc;
use std::time::Duration;

use dbsync_core::ChangeOp;
use metrics::{Key, Label, Level, Metadata, Recorder, Unit};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};

const ROWS_APPLIED: &str = "dbsync_rows_applied_total";
const LAG: &str = "dbsync_lag_seconds";
const BATCH_DURATION: &str = "dbsync_batch_duration_seconds";
const ERRORS: &str = "dbsync_errors_total";
const QUEUE_DEPTH: &str = "dbsync_queue_depth";
const COPY_ROWS: &str = "dbsync_copy_rows";
const COPY_ROWS_ESTIMATED: &str = "dbsync_copy_rows_estimated";
const CONFLICTS: &str = "dbsync_conflicts_total";

/// Batch durations from 1 ms to about 65 s, doubling.
const BATCH_BUCKETS: [f64; 17] = [
    0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024, 2.048, 4.096,
    8.192, 16.384, 32.768, 65.536,
];

/// The operation of an applied row, a label of `dbsync_rows_applied_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    Insert,
    Update,
    /// A streamed insert or update, once the batch is compacted: the target writes the
    /// key's last row either way, and which it was is no longer known.
    Upsert,
    Delete,
    Truncate,
}

impl Operation {
    fn as_str(self) -> &'static str {
        match self {
            Operation::Insert => "insert",
            Operation::Update => "update",
            Operation::Upsert => "upsert",
            Operation::Delete => "delete",
            Operation::Truncate => "truncate",
        }
    }
}

impl From<&ChangeOp> for Operation {
    fn from(op: &ChangeOp) -> Self {
        match op {
            ChangeOp::Insert { .. } => Operation::Insert,
            ChangeOp::Update { .. } => Operation::Update,
            ChangeOp::Delete { .. } => Operation::Delete,
            ChangeOp::Truncate => Operation::Truncate,
        }
    }
}

/// The metrics of one server. Cheap to clone: clones record into the same series.
#[derive(Clone)]
pub struct Metrics {
    recorder: Arc<PrometheusRecorder>,
    handle: PrometheusHandle,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(BATCH_DURATION.to_owned()), &BATCH_BUCKETS)
            .expect("the batch duration buckets are a constant, non-empty list")
            .build_recorder();
        let handle = recorder.handle();
        let metrics = Metrics {
            recorder: Arc::new(recorder),
            handle,
        };
        metrics.describe();
        metrics
    }

    fn describe(&self) {
        let counters = [
            (
                ROWS_APPLIED,
                "Rows applied to targets, by pair, table and operation.",
            ),
            (
                ERRORS,
                "Errors by pair, table and kind; transient ones are retried.",
            ),
            (
                CONFLICTS,
                "Rows changed on both sides of a bidirectional pair.",
            ),
        ];
        for (name, help) in counters {
            self.recorder
                .describe_counter(name.into(), None, help.into());
        }
        let gauges = [
            (
                LAG,
                Some(Unit::Seconds),
                "How far a table's applied changes are behind the source.",
            ),
            (
                QUEUE_DEPTH,
                None,
                "Changes captured and waiting to be applied, by pair.",
            ),
            (COPY_ROWS, None, "Rows copied by a table's initial copy."),
            (
                COPY_ROWS_ESTIMATED,
                None,
                "Rows the source estimates a table holds, for copy progress.",
            ),
        ];
        for (name, unit, help) in gauges {
            self.recorder.describe_gauge(name.into(), unit, help.into());
        }
        self.recorder.describe_histogram(
            BATCH_DURATION.into(),
            Some(Unit::Seconds),
            "Time to apply one batch to a target, by pair and table.".into(),
        );
    }

    /// `rows` rows of `operation` applied to `table` of `pair`.
    pub fn rows_applied(&self, pair: &str, table: &str, operation: Operation, rows: u64) {
        let key = key(
            ROWS_APPLIED,
            &[
                ("pair", pair),
                ("table", table),
                ("operation", operation.as_str()),
            ],
        );
        self.recorder
            .register_counter(&key, &METADATA)
            .increment(rows);
    }

    /// How far `table` of `pair` is behind its source: now minus the commit time of the
    /// last change applied.
    pub fn lag(&self, pair: &str, table: &str, lag: Duration) {
        let key = key(LAG, &[("pair", pair), ("table", table)]);
        self.recorder
            .register_gauge(&key, &METADATA)
            .set(lag.as_secs_f64());
    }

    /// One batch applied to `table` of `pair` in `duration`.
    pub fn batch_applied(&self, pair: &str, table: &str, duration: Duration) {
        let key = key(BATCH_DURATION, &[("pair", pair), ("table", table)]);
        self.recorder
            .register_histogram(&key, &METADATA)
            .record(duration.as_secs_f64());
    }

    /// An error on `table` of `pair`; `kind` is a `dbsync_core::ErrorKind`.
    pub fn error(&self, pair: &str, table: &str, kind: dbsync_core::ErrorKind) {
        let kind = format!("{kind:?}").to_ascii_lowercase();
        let key = key(ERRORS, &[("pair", pair), ("table", table), ("kind", &kind)]);
        self.recorder.register_counter(&key, &METADATA).increment(1);
    }

    /// Changes of `pair` captured and not applied yet.
    pub fn queue_depth(&self, pair: &str, changes: u64) {
        let key = key(QUEUE_DEPTH, &[("pair", pair)]);
        self.recorder
            .register_gauge(&key, &METADATA)
            .set(changes as f64);
    }

    /// The initial copy of `table` of `pair` is at `copied` rows of about `estimated`,
    /// when the source gave an estimate.
    pub fn copy_progress(&self, pair: &str, table: &str, copied: u64, estimated: Option<u64>) {
        let labels = [("pair", pair), ("table", table)];
        self.recorder
            .register_gauge(&key(COPY_ROWS, &labels), &METADATA)
            .set(copied as f64);
        if let Some(estimated) = estimated {
            self.recorder
                .register_gauge(&key(COPY_ROWS_ESTIMATED, &labels), &METADATA)
                .set(estimated as f64);
        }
    }

    /// A conflict detected on `table` of `pair`.
    pub fn conflict(&self, pair: &str, table: &str) {
        let key = key(CONFLICTS, &[("pair", pair), ("table", table)]);
        self.recorder.register_counter(&key, &METADATA).increment(1);
    }

    /// The Prometheus text exposition of every series.
    pub fn render(&self) -> String {
        self.handle.render()
    }
}

const METADATA: Metadata<'static> = Metadata::new(module_path!(), Level::INFO, None);

fn key(name: &'static str, labels: &[(&'static str, &str)]) -> Key {
    Key::from_parts(
        name,
        labels
            .iter()
            .map(|(label, value)| Label::new(*label, (*value).to_owned()))
            .collect::<Vec<_>>(),
    )
}
