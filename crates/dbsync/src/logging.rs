//! Logs: tracing to stderr, in the configured level and format.

use dbsync_config::{LogFormat, LogLevel, Logging};
use tracing_subscriber::EnvFilter;

/// Installs the subscriber; `DBSYNC_LOG` (a tracing filter) overrides the level.
pub(crate) fn init(logging: &Logging) {
    let level = match logging.level {
        LogLevel::Error => "error",
        LogLevel::Warn => "warn",
        LogLevel::Info => "info",
        LogLevel::Debug => "debug",
        LogLevel::Trace => "trace",
    };
    let filter = EnvFilter::try_from_env("DBSYNC_LOG").unwrap_or_else(|_| EnvFilter::new(level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second initialization (tests that run two commands in one process) keeps the
    // first subscriber, which is what they want.
    let _ = match logging.format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}
