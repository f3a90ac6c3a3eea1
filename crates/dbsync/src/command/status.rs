//! `dbsync status [--watch] [--json]`: each pair's state, latest run and last verify, and
//! each of its tables' status, rows, rate and last error, from the state store that
//! `dbsync serve` writes.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use dbsync_control::{PairState, RunRecord, Store, TableState, VerificationRecord};
use serde::Serialize;

use super::listing::{Columns, print_json};
use super::state::State;
use super::sync::state_text;
use crate::failure::Failure;

/// How often `--watch` redraws.
const REFRESH: Duration = Duration::from_secs(1);

pub(crate) async fn run(config_path: &Path, watch: bool, json: bool) -> Result<(), Failure> {
    let state = State::open(config_path).await?;
    if !watch {
        let pairs = snapshot(&state.store, None).await?;
        return show(&pairs, json);
    }
    let terminal = std::io::stdout().is_terminal();
    let mut previous: Option<Sample> = None;
    let shutdown = crate::signal::shutdown();
    tokio::pin!(shutdown);
    loop {
        let pairs = snapshot(&state.store, previous.as_ref()).await?;
        if terminal && !json {
            // Clear the screen and go home: a redraw in place.
            print!("\x1b[2J\x1b[H");
        }
        show(&pairs, json)?;
        previous = Some(Sample::of(&pairs));
        tokio::select! {
            () = &mut shutdown => return Ok(()),
            () = tokio::time::sleep(REFRESH) => {}
        }
    }
}

/// A pair as `status` shows it.
#[derive(Debug, Serialize)]
struct PairView {
    pair: String,
    enabled: bool,
    state: PairState,
    latest_run: Option<RunRecord>,
    /// Rows per second over the latest run.
    rate: Option<f64>,
    tables: Vec<TableView>,
    last_verify: Option<VerificationRecord>,
}

#[derive(Debug, Serialize)]
struct TableView {
    #[serde(flatten)]
    state: TableState,
    /// Rows per second since the previous refresh of `--watch`; unset on the first.
    rate: Option<f64>,
    /// Seconds since the engine last reported on the table (a commit, a state change).
    seconds_since_update: i64,
}

/// Every pair and table as the store holds them now; `previous`, the last refresh's,
/// gives the tables' rates.
async fn snapshot(store: &Store, previous: Option<&Sample>) -> Result<Vec<PairView>, Failure> {
    let now = Utc::now();
    let mut pairs = Vec::new();
    for status in store.status().await? {
        let tables = store
            .table_states(status.pair.clone())
            .await?
            .into_iter()
            .map(|state| TableView {
                rate: previous.and_then(|sample| sample.rate(&status.pair, &state)),
                seconds_since_update: (now - state.updated_at).num_seconds(),
                state,
            })
            .collect();
        pairs.push(PairView {
            rate: status
                .latest_run
                .as_ref()
                .and_then(|run| run_rate(run, now)),
            last_verify: store.last_verification(status.pair.clone()).await?,
            pair: status.pair,
            enabled: status.enabled,
            state: status.state,
            latest_run: status.latest_run,
            tables,
        });
    }
    Ok(pairs)
}

/// Rows per second over `run`, up to its end or `now`.
fn run_rate(run: &RunRecord, now: DateTime<Utc>) -> Option<f64> {
    let seconds = (run.ended_at.unwrap_or(now) - run.started_at).as_seconds_f64();
    (seconds > 0.0).then(|| run.rows as f64 / seconds)
}

/// The tables' row counts at one refresh, for the next one's rates.
#[derive(Debug)]
struct Sample {
    at: Instant,
    rows: HashMap<(String, String), u64>,
}

impl Sample {
    fn of(pairs: &[PairView]) -> Sample {
        Sample {
            at: Instant::now(),
            rows: pairs
                .iter()
                .flat_map(|pair| {
                    pair.tables.iter().map(|table| {
                        (
                            (pair.pair.clone(), table.state.table.clone()),
                            table.state.rows_synced,
                        )
                    })
                })
                .collect(),
        }
    }

    fn rate(&self, pair: &str, table: &TableState) -> Option<f64> {
        let before = self.rows.get(&(pair.to_owned(), table.table.clone()))?;
        let seconds = self.at.elapsed().as_secs_f64();
        (seconds > 0.0).then(|| table.rows_synced.saturating_sub(*before) as f64 / seconds)
    }
}

fn show(pairs: &[PairView], json: bool) -> Result<(), Failure> {
    if json {
        return print_json(&pairs);
    }
    if pairs.is_empty() {
        println!("no pairs yet; `dbsync sync add` or the configuration file adds them.");
        return Ok(());
    }
    for pair in pairs {
        println!("{}", pair_line(pair));
        if let Some(error) = pair.latest_run.as_ref().and_then(|run| run.error.as_ref()) {
            println!("  error: {error}");
        }
        if pair.tables.is_empty() {
            continue;
        }
        let mut columns =
            Columns::new(&["  table", "status", "rows", "rate", "updated", "last error"]);
        for table in &pair.tables {
            columns.push(vec![
                format!("  {}", table.state.table),
                table.state.status.as_str().to_owned(),
                table.state.rows_synced.to_string(),
                table.rate.map(rate_text).unwrap_or_else(|| "-".to_owned()),
                format!("{}s ago", table.seconds_since_update),
                table.state.last_error.clone().unwrap_or_default(),
            ]);
        }
        print!("{}", columns.render());
    }
    Ok(())
}

/// `pair: state, enabled; run: rows, rate; verify: result`.
fn pair_line(pair: &PairView) -> String {
    let mut line = format!(
        "{}: {}{}",
        pair.pair,
        state_text(pair.state),
        if pair.enabled { "" } else { " (disabled)" }
    );
    if let Some(run) = &pair.latest_run {
        line.push_str(&format!(
            "; run {} since {}: {} rows",
            run.id,
            run.started_at.format("%Y-%m-%d %H:%M:%S UTC"),
            run.rows
        ));
        if let Some(rate) = pair.rate {
            line.push_str(&format!(", {}", rate_text(rate)));
        }
    }
    match &pair.last_verify {
        None => line.push_str("; never verified"),
        Some(verify) => {
            let (missing, extra, different) = verify.tables.iter().fold((0, 0, 0), |sum, t| {
                (sum.0 + t.missing, sum.1 + t.extra, sum.2 + t.different)
            });
            let found = if verify.equal {
                "equal".to_owned()
            } else {
                format!("DIFFERENT ({missing} missing, {extra} extra, {different} different)")
            };
            line.push_str(&format!(
                "; verified {}: {found}",
                verify.finished_at.format("%Y-%m-%d %H:%M:%S UTC")
            ));
        }
    }
    line
}

fn rate_text(rate: f64) -> String {
    format!("{rate:.0} rows/s")
}
