//! One module per command that is built; the rest say so.

mod connection;
mod demo;
mod run;
mod serve;
mod triggers;
mod verify;

use std::path::Path;

use dbsync_config::{Config, Pair};

use crate::cli::{Cli, Command, ConnectionCommand};
use crate::failure::{Exit, Failure};

pub(crate) async fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Demo { source, target } => demo::run(source, target).await,
        Command::Run(args) => run::run(&cli.config, args).await,
        Command::Serve => serve::run(&cli.config).await,
        Command::Connection(ConnectionCommand::Test { name }) => {
            connection::test(&cli.config, &name).await
        }
        Command::Triggers(command) => triggers::run(&cli.config, command).await,
        Command::Verify(args) => verify::run(&cli.config, args).await,
        other => Err(Failure::not_built(other.name())),
    }
}

/// The configuration at `path`; a bad one is a usage error.
fn load_config(path: &Path) -> Result<Config, Failure> {
    Config::load(path).map_err(|e| Failure::new(Exit::Usage, e.to_string()))
}

/// Pair `name` of `config`, loaded from `path`; one sentence listing the pairs when
/// there is none of that name.
fn find_pair<'a>(config: &'a Config, path: &Path, name: &str) -> Result<&'a Pair, Failure> {
    config.pairs.get(name).ok_or_else(|| {
        let known: Vec<&str> = config.pairs.keys().map(String::as_str).collect();
        Failure::new(
            Exit::Usage,
            format!(
                "there is no pair `{name}` in {}; the pairs are: {}.",
                path.display(),
                known.join(", ")
            ),
        )
    })
}

/// The pairs named, or every enabled pair of `config` when none is.
fn pair_names(config: &Config, named: &[String]) -> Vec<String> {
    if !named.is_empty() {
        return named.to_vec();
    }
    config
        .pairs
        .iter()
        .filter(|(_, pair)| pair.enabled)
        .map(|(name, _)| name.clone())
        .collect()
}
