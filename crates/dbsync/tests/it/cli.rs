//! The command tree of PRODUCT.md §5 and the exit codes of §6.

use crate::{dbsync, stderr, stdout};

#[test]
fn help_lists_every_command() {
    let output = dbsync(&["--help"]);
    assert_eq!(output.status.code(), Some(0));
    let help = stdout(&output);
    for command in [
        "connection",
        "sync",
        "run",
        "verify",
        "triggers",
        "schema",
        "conflicts",
        "service",
        "status",
        "serve",
        "demo",
    ] {
        assert!(
            help.lines()
                .any(|line| line.trim_start().starts_with(command)),
            "--help lacks {command}:\n{help}"
        );
    }
}

#[test]
fn version() {
    let output = dbsync(&["--version"]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        stdout(&output).trim(),
        format!("dbsync {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn unbuilt_commands_say_so_and_exit_2() {
    for args in [
        &["schema", "diff", "shop-analytics"][..],
        &["conflicts", "list"],
    ] {
        let output = dbsync(args);
        assert_eq!(output.status.code(), Some(2), "dbsync {args:?}");
        assert!(
            stdout(&output).is_empty(),
            "dbsync {args:?} printed to stdout"
        );
        let message = stderr(&output);
        assert_eq!(message.lines().count(), 1, "one sentence: {message}");
        assert!(message.contains("is not built yet"), "{message}");
    }
}

#[test]
fn bad_usage_exits_2() {
    for args in [
        &["bogus"][..],
        &["run", "--no-such-flag"],
        &["triggers", "install"],
    ] {
        let output = dbsync(args);
        assert_eq!(output.status.code(), Some(2), "dbsync {args:?}");
        assert!(
            stderr(&output).starts_with("error: "),
            "{}",
            stderr(&output)
        );
    }
}

#[test]
fn a_missing_config_file_is_named() {
    let output = dbsync(&["run", "--once", "--config", "/nonexistent/dbsync.yaml"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output).trim(),
        "error: /nonexistent/dbsync.yaml does not exist; create it, or name another file with --config or DBSYNC_CONFIG."
    );
}
