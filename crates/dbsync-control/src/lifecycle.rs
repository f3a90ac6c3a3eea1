//! The lifecycle of a pair's runs: idle -> running -> completed | failed | stopped.
//!
//! The types carry the rules. A run starts only through [`Store::start_run`], which
//! refuses a second run of the same pair and hands out the one [`ActiveRun`]; a run ends
//! only through [`Store::finish_run`], which consumes it with an [`Outcome`]. A finished
//! run cannot be finished again or go back to running: nothing can name it as active.
//!
//! [`Store::start_run`]: crate::Store::start_run
//! [`Store::finish_run`]: crate::Store::finish_run

use std::fmt;

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{Error, ErrorKind, Result};

/// A run's identifier: a UUID, unique over all pairs.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, ToSchema)]
#[serde(transparent)]
pub struct RunId(String);

impl RunId {
    pub(crate) fn generate() -> RunId {
        RunId(uuid::Uuid::new_v4().to_string())
    }

    pub(crate) fn from_stored(id: String) -> RunId {
        RunId(id)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a run is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    Running,
    Completed,
    Failed,
    Stopped,
}

impl RunState {
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Running => "running",
            RunState::Completed => "completed",
            RunState::Failed => "failed",
            RunState::Stopped => "stopped",
        }
    }

    pub(crate) fn parse(text: &str) -> Result<RunState> {
        Ok(match text {
            "running" => RunState::Running,
            "completed" => RunState::Completed,
            "failed" => RunState::Failed,
            "stopped" => RunState::Stopped,
            other => {
                return Err(Error::new(
                    ErrorKind::Store,
                    format!(
                        "the state store holds a run in the unknown state `{other}`; upgrade dbsync"
                    ),
                ));
            }
        })
    }
}

/// A pair's state as `status` shows it: idle before its first run, then its latest run's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PairState {
    Idle,
    Running,
    Completed,
    Failed,
    Stopped,
}

impl From<Option<RunState>> for PairState {
    fn from(latest: Option<RunState>) -> Self {
        match latest {
            None => PairState::Idle,
            Some(RunState::Running) => PairState::Running,
            Some(RunState::Completed) => PairState::Completed,
            Some(RunState::Failed) => PairState::Failed,
            Some(RunState::Stopped) => PairState::Stopped,
        }
    }
}

/// How a run ends: the only transitions out of running.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It did what it was asked (`--once` caught up, a full copy finished).
    Completed,
    /// It stopped on an error, in one sentence that names the thing and the fix.
    Failed { error: String },
    /// It was asked to stop (API, CLI, SIGTERM) and did.
    Stopped,
}

impl Outcome {
    pub fn state(&self) -> RunState {
        match self {
            Outcome::Completed => RunState::Completed,
            Outcome::Failed { .. } => RunState::Failed,
            Outcome::Stopped => RunState::Stopped,
        }
    }

    pub(crate) fn error(&self) -> Option<&str> {
        match self {
            Outcome::Failed { error } => Some(error),
            Outcome::Completed | Outcome::Stopped => None,
        }
    }
}

/// A run the store recorded as running: held by whoever runs the pair, and given back to
/// [`crate::Store::finish_run`] to end it. Neither `Clone` nor constructible outside this
/// crate, so that each run ends once.
#[derive(Debug)]
#[must_use = "a run stays `running` in the store until it is given to Store::finish_run"]
pub struct ActiveRun {
    id: RunId,
    pair: String,
    started_at: DateTime<Utc>,
}

impl ActiveRun {
    pub(crate) fn new(id: RunId, pair: String, started_at: DateTime<Utc>) -> Self {
        ActiveRun {
            id,
            pair,
            started_at,
        }
    }

    pub fn id(&self) -> &RunId {
        &self.id
    }

    pub fn pair(&self) -> &str {
        &self.pair
    }

    pub fn started_at(&self) -> DateTime<Utc> {
        self.started_at
    }
}
