//! `dbsync run`: copy what is not copied yet, then follow the source; with `--full`,
//! every target table is emptied and copied again first. With `--repair`
//! or `--repair-missing`, each pair first catches up, then is verified and repaired,
//! then follows the source (unless `--once`).

use std::path::Path;

use dbsync_config::Pair;
use dbsync_core::Result;
use dbsync_core::verify::RepairScope;
use tokio::sync::watch;

use crate::cli::RunArgs;
use crate::failure::{Exit, Failure};
use crate::pair_sync::{PairSync, Until};

pub(crate) async fn run(config_path: &Path, args: RunArgs) -> Result<(), Failure> {
    let repair = match (args.repair, args.repair_missing) {
        (true, true) => {
            return Err(Failure::new(
                Exit::Usage,
                "--repair already inserts the missing rows; give either --repair or --repair-missing.",
            ));
        }
        (true, false) => Some(RepairScope::Everything),
        (false, true) => Some(RepairScope::MissingOnly),
        (false, false) => None,
    };
    let config = super::load_config(config_path)?;
    crate::logging::init(&config.logging)?;
    let names = super::pair_names(&config, &args.pairs);
    if names.is_empty() {
        return Err(Failure::new(
            Exit::Usage,
            format!(
                "{} defines no enabled pair; add one under `pairs`.",
                config_path.display()
            ),
        ));
    }
    let mut syncs = Vec::new();
    for name in &names {
        let pair = super::find_pair(&config, config_path, name)?;
        syncs.push((PairSync::new(name, pair, &config)?, pair));
    }

    let (stop_tx, stop) = watch::channel(false);
    tokio::spawn(async move {
        crate::signal::shutdown().await;
        tracing::info!("stopping: finishing the batch in flight");
        let _ = stop_tx.send(true);
    });
    let until = if args.once {
        Until::CaughtUp
    } else {
        Until::Stopped
    };
    let runs = syncs
        .iter()
        .map(|(sync, pair)| run_pair(sync, pair, until, args.full, repair, stop.clone()));
    let results = futures_util::future::join_all(runs).await;
    // The first failure is the command's (stderr, exit code); the others are logged.
    let mut failures = syncs
        .iter()
        .zip(results)
        .filter_map(|((sync, _), result)| Some((sync.name(), result.err()?)));
    let first = failures.next();
    for (pair, error) in failures {
        tracing::error!(pair, "{error}");
    }
    match first {
        None => Ok(()),
        Some((pair, error)) if names.len() > 1 => {
            let failure = Failure::from(error);
            Err(Failure::new(
                failure.exit(),
                format!("pair `{pair}`: {failure}"),
            ))
        }
        Some((_, error)) => Err(Failure::from(error)),
    }
}

/// Runs `sync` until `until`; when `full`, every target table is emptied first and
/// copied again; with a `repair` scope, it first catches up, then is verified and
/// repaired, so that what is repaired is what the stream did not fix.
async fn run_pair(
    sync: &PairSync,
    pair: &Pair,
    until: Until,
    full: bool,
    repair: Option<RepairScope>,
    stop: watch::Receiver<bool>,
) -> Result<()> {
    if full {
        sync.reset().await?;
    }
    let Some(scope) = repair else {
        return sync.run(until, stop).await;
    };
    sync.run(Until::CaughtUp, stop.clone()).await?;
    if *stop.borrow() {
        return Ok(());
    }
    let (source, _, tables) = sync.read_source_tables().await?;
    let check = super::verify::check_pair(sync, pair, source, &tables, Some(scope)).await?;
    for (table, done) in check.repaired() {
        tracing::info!(
            pair = sync.name(),
            %table,
            "repaired: {} rows written, {} deleted",
            done.upserted,
            done.deleted
        );
    }
    for note in check.notes() {
        tracing::warn!(pair = sync.name(), "{note}");
    }
    if !check.is_equal() {
        tracing::warn!(
            pair = sync.name(),
            "the target still differs from its source after the repair; `dbsync verify` lists the keys"
        );
    }
    match until {
        Until::CaughtUp => Ok(()),
        Until::Stopped => sync.run(until, stop).await,
    }
}
