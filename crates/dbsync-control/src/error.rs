//! The control plane's error: what went wrong in terms of how a caller answers it.

use std::fmt;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, in the terms the REST API answers with (404, 409, 422, 500, 503) and the
/// command line reports.
///
/// Not `dbsync_core::ErrorKind`: those kinds say whether an engine retries; these say
/// whose mistake it is and what state the request met.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The named connection, pair, run or conflict does not exist.
    NotFound,
    /// The request is sound but the state refuses it: the name is taken, the pair is
    /// already running, the connection is still used by a pair.
    Conflict,
    /// The request names something wrong (an unknown connection in a pair, a bad URL).
    Invalid,
    /// The state store failed (disk, a corrupt file, a newer schema).
    Store,
    /// Nothing runs pairs in this process, or it is shutting down.
    Unavailable,
}

/// An error with its kind and one sentence that names the thing and the fix.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::NotFound, message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Conflict, message)
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Invalid, message)
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl From<rusqlite::Error> for Error {
    fn from(error: rusqlite::Error) -> Self {
        Error::new(
            ErrorKind::Store,
            format!("the state store failed: {error}; check the state file and its disk"),
        )
    }
}
