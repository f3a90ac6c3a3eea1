//! The shape of `dbsync.yaml` (PRODUCT §6): what each key holds and its default.
//!
//! Every struct refuses unknown keys, so that a misspelled key is an error rather than a
//! setting silently left at its default.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::connection_url::ConnectionUrl;
use crate::error::ConfigError;
use crate::pair::Pair;
use crate::secret::{Secret, expose_secrets};

/// The whole configuration file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where dbsync keeps its own state (runs, positions for display, conflicts,
    /// dead letters): an embedded SQLite file unless a team shares a MySQL or PostgreSQL one.
    pub state: ConnectionUrl,
    /// The databases, by name.
    pub connections: BTreeMap<String, Connection>,
    /// The sync pairs, by name.
    pub pairs: BTreeMap<String, Pair>,
    pub server: Server,
    pub logging: Logging,
    /// How many tables are copied or applied at once, over all pairs (seed 001's
    /// `sync.workers`, seed 002's `max_concurrency`).
    pub workers: u32,
    /// Retry of transient failures (a lost connection, a deadlock).
    pub retry: Retry,
    /// The longest a run started by the scheduler, the API or `--once` may take before it
    /// is stopped (seed 002's `job_timeout`); unset, no limit.
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "crate::duration::option"
    )]
    pub job_timeout: Option<Duration>,
    pub history: History,
    pub scheduler: Scheduler,
}

/// A database dbsync reads or writes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Connection {
    /// Engine, host, port, user, password, database and driver parameters (seed 002's
    /// `ssl: true` is `?ssl-mode=REQUIRED` or `?sslmode=require`).
    pub url: ConnectionUrl,
}

/// The long-running server behind the REST API and the dashboard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Server {
    /// `host:port` to listen on (seed 001's `host` and `port`).
    pub listen: String,
    /// The bearer token every request but `/health` must carry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_token: Option<Secret>,
    /// Origins the dashboard may call the API from.
    pub cors_origins: Vec<String>,
    /// How long reading a request may take (seed 001).
    #[serde(with = "crate::duration")]
    pub read_timeout: Duration,
    /// How long writing an answer may take (seed 001); the SSE stream is exempt.
    #[serde(with = "crate::duration")]
    pub write_timeout: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Logging {
    pub level: LogLevel,
    pub format: LogFormat,
    /// A directory for log files (combined and error-only) besides stdout; unset, none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogLevel {
    Error,
    Warn,
    #[default]
    Info,
    Debug,
    Trace,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// For people at a terminal.
    #[default]
    Text,
    /// One JSON object a line, for log collectors.
    Json,
}

/// Retry of transient failures (seed 000's `retry`, seed 002's `retry_attempts` and
/// `retry_delay`, seed 003's max retries and retry delay).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Retry {
    /// Retries after the first failure; 0 fails at once.
    pub attempts: u32,
    /// The wait before the first retry.
    #[serde(with = "crate::duration")]
    pub delay: Duration,
    pub backoff: Backoff,
    /// The longest wait between two retries, however many there were.
    #[serde(with = "crate::duration")]
    pub max_delay: Duration,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Backoff {
    /// The wait doubles after each failed retry, up to `max_delay`.
    #[default]
    Exponential,
    /// The wait stays `delay`.
    Fixed,
}

/// Run history (seed 002's `cleanup_age`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct History {
    /// Runs, their logs and resolved conflicts older than this are deleted.
    #[serde(with = "crate::duration")]
    pub retention: Duration,
}

/// The cron scheduler of pairs with a `schedule` (seed 001's `scheduler`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Scheduler {
    /// `false` keeps every pair's `schedule` but starts no run by it.
    pub enabled: bool,
}

/// The configuration file when neither `--config` nor `DBSYNC_CONFIG` names one.
pub const DEFAULT_CONFIG_PATH: &str = "dbsync.yaml";

/// The environment variable that names the configuration file.
pub const CONFIG_PATH_VARIABLE: &str = "DBSYNC_CONFIG";

/// The embedded state store's file when `state` is not set.
pub const DEFAULT_STATE_PATH: &str = ".dbsync/state.db";

impl Default for Config {
    fn default() -> Self {
        Config {
            state: ConnectionUrl::sqlite(DEFAULT_STATE_PATH),
            connections: BTreeMap::new(),
            pairs: BTreeMap::new(),
            server: Server::default(),
            logging: Logging::default(),
            workers: 8,
            retry: Retry::default(),
            job_timeout: None,
            history: History::default(),
            scheduler: Scheduler::default(),
        }
    }
}

impl Default for Server {
    fn default() -> Self {
        Server {
            // Loopback: the API is reachable from elsewhere only when the file says so.
            listen: "127.0.0.1:8080".to_owned(),
            auth_token: None,
            cors_origins: Vec::new(),
            read_timeout: Duration::from_secs(30),
            write_timeout: Duration::from_secs(30),
        }
    }
}

impl Default for Logging {
    fn default() -> Self {
        Logging {
            level: LogLevel::Info,
            format: LogFormat::Text,
            dir: None,
        }
    }
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            attempts: 3,
            delay: Duration::from_secs(5),
            backoff: Backoff::Exponential,
            max_delay: Duration::from_secs(300),
        }
    }
}

impl Default for History {
    fn default() -> Self {
        History {
            retention: Duration::from_secs(30 * 86_400),
        }
    }
}

impl Default for Scheduler {
    fn default() -> Self {
        Scheduler { enabled: true }
    }
}

impl Config {
    /// The file's YAML with every secret masked (`***`): for `GET /api/v1/config`, the
    /// dashboard and `--json` output.
    pub fn to_yaml(&self) -> Result<String, ConfigError> {
        serde_saphyr::to_string(self).map_err(|error| {
            ConfigError::new(format!(
                "the configuration could not be written as YAML: {error}."
            ))
        })
    }

    /// The file's YAML with secrets as they were written: a `${VAR}` reference stays a
    /// reference, a literal password stays the password. For writing the file back after
    /// `PUT /api/v1/config` or `dbsync connection add`; never for display.
    pub fn to_yaml_exposing_secrets(&self) -> Result<String, ConfigError> {
        expose_secrets(|| self.to_yaml())
    }
}

pub(crate) fn yes() -> bool {
    true
}

pub(crate) fn is_true(value: &bool) -> bool {
    *value
}
