//! The `dbsync` binary as a user runs it.

mod api_schemathesis;
mod api_seed002;
mod bad_input;
mod cli;
mod cli_manage;
mod connection_test;
mod demo;
mod poll_capture;
mod recovery;
mod serve;
mod support;
mod sync_pair;
mod targets;
mod trigger_capture;
mod type_families;
mod verify;
mod verify_live;
mod verify_types;

use std::process::{Command, Output};

fn dbsync(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dbsync"))
        .args(args)
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}
