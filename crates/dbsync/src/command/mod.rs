//! One module per command that is built; the rest say so.

mod connection;
mod demo;
mod run;

use crate::cli::{Cli, Command, ConnectionCommand};
use crate::failure::Failure;

pub(crate) async fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Demo { source, target } => demo::run(source, target).await,
        Command::Run(args) => run::run(&cli.config, args).await,
        Command::Connection(ConnectionCommand::Test { name }) => {
            connection::test(&cli.config, &name).await
        }
        other => Err(Failure::not_built(other.name())),
    }
}
