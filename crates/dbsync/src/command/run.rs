//! `dbsync run`: copy what is not copied yet, then follow the source.

use std::path::Path;

use tokio::sync::watch;

use crate::cli::RunArgs;
use crate::failure::{Exit, Failure};
use crate::pair_sync::{PairSync, Until};

pub(crate) async fn run(config_path: &Path, args: RunArgs) -> Result<(), Failure> {
    if args.full || args.repair || args.repair_missing {
        return Err(Failure::not_built("run --full/--repair/--repair-missing"));
    }
    let config = super::load_config(config_path)?;
    crate::logging::init(&config.logging);
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
        syncs.push(PairSync::new(name, pair, &config)?);
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
    let runs = syncs.iter().map(|sync| sync.run(until, stop.clone()));
    let results = futures_util::future::join_all(runs).await;
    // The first failure is the command's (stderr, exit code); the others are logged.
    let mut failures = syncs
        .iter()
        .zip(results)
        .filter_map(|(sync, result)| Some((sync.name(), result.err()?)));
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
