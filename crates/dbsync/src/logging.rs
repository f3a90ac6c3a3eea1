//! Logs: tracing to stderr, in the configured level and format, and with `logging.dir`
//! to `combined.log` (every line) and `error.log` (errors only) there too. A run's lines
//! carry its span, `run{pair=... run=...}`, so that each names its run.

use std::fs::{File, OpenOptions};
use std::path::Path;
use std::sync::Mutex;

use dbsync_config::{LogFormat, LogLevel, Logging};
use tracing::Subscriber;
use tracing::level_filters::LevelFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::failure::{Exit, Failure};

/// Installs the subscriber; `DBSYNC_LOG` (a tracing filter) overrides the level. Fails
/// when a log file cannot be opened.
pub(crate) fn init(logging: &Logging) -> Result<(), Failure> {
    let level = match logging.level {
        LogLevel::Error => "error",
        LogLevel::Warn => "warn",
        LogLevel::Info => "info",
        LogLevel::Debug => "debug",
        LogLevel::Trace => "trace",
    };
    let filter = EnvFilter::try_from_env("DBSYNC_LOG").unwrap_or_else(|_| EnvFilter::new(level));
    let files = match &logging.dir {
        Some(dir) => Some((open(dir, "combined.log")?, open(dir, "error.log")?)),
        None => None,
    };
    let format = logging.format;
    let (combined, errors) = match files {
        Some((combined, errors)) => (
            Some(layer(format, Mutex::new(combined), false)),
            Some(layer(format, Mutex::new(errors), false).with_filter(LevelFilter::ERROR)),
        ),
        None => (None, None),
    };
    // A second initialization (tests that run two commands in one process) keeps the
    // first subscriber, which is what they want.
    let _ = tracing_subscriber::registry()
        .with(
            layer(format, std::io::stderr, true)
                .and_then(combined)
                .with_filter(filter),
        )
        .with(errors)
        .try_init();
    Ok(())
}

/// A formatting layer in `format` to `writer`.
fn layer<S, W>(format: LogFormat, writer: W, ansi: bool) -> Box<dyn Layer<S> + Send + Sync>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(writer)
        .with_ansi(ansi);
    match format {
        LogFormat::Json => layer.json().boxed(),
        LogFormat::Text => layer.boxed(),
    }
}

fn open(dir: &Path, file: &str) -> Result<File, Failure> {
    let path = dir.join(file);
    std::fs::create_dir_all(dir)
        .and_then(|()| OpenOptions::new().create(true).append(true).open(&path))
        .map_err(|e| {
            Failure::new(
                Exit::Usage,
                format!(
                    "the log file {} cannot be opened: {e}; create the directory or change logging.dir.",
                    path.display()
                ),
            )
        })
}
