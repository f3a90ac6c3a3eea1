//! `dbsync`: the command line, wiring the engine crates together.

mod cli;
mod command;
mod compare;
mod connection;
mod endpoint;
mod failure;
mod logging;
mod pair_run;
mod pair_sync;
mod probe;
mod progress;
mod signal;
mod supervisor;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("dbsync could not start its async runtime: {e}.");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(command::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("error: {failure}");
            failure.exit_code()
        }
    }
}
