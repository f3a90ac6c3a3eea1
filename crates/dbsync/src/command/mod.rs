//! One module per command that is built; the rest say so.

mod completions;
mod connection;
mod demo;
mod history;
mod listing;
mod prompt;
mod run;
mod serve;
mod service;
mod state;
mod status;
mod sync;
mod triggers;
mod verify;

use std::path::Path;

use dbsync_config::{Config, Pair};

use crate::cli::{Cli, Command, ConnectionCommand, ServiceCommand, SyncCommand};
use crate::failure::{Exit, Failure};

pub(crate) async fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Demo { source, target } => demo::run(source, target).await,
        Command::Run(args) => run::run(&cli.config, args).await,
        Command::Serve => serve::run(&cli.config).await,
        Command::Connection(command) => match command {
            ConnectionCommand::Add { name, url } => {
                connection::add(&cli.config, name, url, cli.json).await
            }
            ConnectionCommand::List => connection::list(&cli.config, cli.json).await,
            ConnectionCommand::Test { name } => connection::test(&cli.config, &name).await,
            ConnectionCommand::Remove { name } => connection::remove(&cli.config, &name).await,
        },
        Command::Sync(command) => match command {
            SyncCommand::Add(args) => sync::add(&cli.config, args, cli.json).await,
            SyncCommand::List => sync::list(&cli.config, cli.json).await,
            SyncCommand::Show { pair } => sync::show(&cli.config, &pair, cli.json).await,
            SyncCommand::Enable { pair } => sync::set_enabled(&cli.config, &pair, true).await,
            SyncCommand::Disable { pair } => sync::set_enabled(&cli.config, &pair, false).await,
            SyncCommand::Remove { pair } => sync::remove(&cli.config, &pair).await,
        },
        Command::Service(command) => match command {
            ServiceCommand::Start { daemon } => service::start(&cli.config, daemon).await,
            ServiceCommand::Stop => service::stop(&cli.config).await,
            ServiceCommand::Restart => service::restart(&cli.config).await,
            ServiceCommand::Status => service::status(&cli.config, cli.json).await,
        },
        Command::Status { watch } => status::run(&cli.config, watch, cli.json).await,
        Command::Completions { shell } => {
            completions::run(shell);
            Ok(())
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
