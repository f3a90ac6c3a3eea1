//! One module per command that is built; the rest say so.

mod demo;
mod run;

use crate::cli::{Cli, Command};
use crate::failure::Failure;

pub(crate) async fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Demo => demo::run().await,
        Command::Run(args) => run::run(&cli.config, args).await,
        other => Err(Failure::not_built(other.name())),
    }
}
