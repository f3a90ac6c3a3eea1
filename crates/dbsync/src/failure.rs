//! How a command ends badly: the exit code scripts rely on (PRODUCT.md §6) and one
//! sentence for stderr.

use std::fmt;
use std::process::ExitCode;

use dbsync_core::ErrorKind;

#[derive(Debug)]
pub(crate) struct Failure {
    exit: Exit,
    message: String,
}

/// The exit codes of the command contract; success is 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exit {
    /// Something failed while running.
    Runtime = 1,
    /// The command line or the configuration is wrong, or a server is not set up
    /// for syncing: the user has something to fix before trying again.
    Usage = 2,
    /// `verify` found differences between source and target.
    Differences = 3,
}

impl Failure {
    pub(crate) fn new(exit: Exit, message: impl Into<String>) -> Self {
        Failure {
            exit,
            message: message.into(),
        }
    }

    pub(crate) fn runtime(message: impl Into<String>) -> Self {
        Failure::new(Exit::Runtime, message)
    }

    /// A command of PRODUCT.md §5 that this build does not have yet.
    pub(crate) fn not_built(command: &str) -> Self {
        Failure::new(
            Exit::Usage,
            format!("`dbsync {command}` is not built yet in this version of dbsync."),
        )
    }

    pub(crate) fn exit(&self) -> Exit {
        self.exit
    }

    pub(crate) fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.exit as u8)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<dbsync_core::Error> for Failure {
    fn from(error: dbsync_core::Error) -> Self {
        let exit = match error.kind() {
            ErrorKind::Config | ErrorKind::SourceSetting | ErrorKind::Privilege => Exit::Usage,
            _ => Exit::Runtime,
        };
        Failure::new(exit, error.to_string())
    }
}

impl From<dbsync_testkit::Error> for Failure {
    fn from(error: dbsync_testkit::Error) -> Self {
        Failure::new(Exit::Runtime, error.to_string())
    }
}

impl From<dbsync_control::Error> for Failure {
    fn from(error: dbsync_control::Error) -> Self {
        // An unknown or taken name, or a rule broken, is the user's to fix.
        let exit = match error.kind() {
            dbsync_control::ErrorKind::Store => Exit::Runtime,
            _ => Exit::Usage,
        };
        Failure::new(exit, error.to_string())
    }
}
