//! Turning SQLite errors into dbsync's kinds: what to retry, what to report.

use std::path::Path;

use dbsync_core::{Error, ErrorKind};
use rusqlite::ErrorCode;

/// Wraps a SQLite error, naming what was being done, with the kind that decides
/// whether it is retried.
pub(crate) fn driver_error(doing: &str, error: rusqlite::Error) -> Error {
    let kind = match error.sqlite_error_code() {
        // Another connection holds the write lock past the busy timeout: another lane
        // or process writes the same file.
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => ErrorKind::Retryable,
        Some(ErrorCode::DiskFull | ErrorCode::SystemIoFailure | ErrorCode::CannotOpen) => {
            ErrorKind::Io
        }
        _ => ErrorKind::Query,
    };
    Error::new(kind, format!("{doing}: {error}"))
}

/// Why the target file at `path` cannot be opened for writing, with the fix, as one
/// sentence; a configuration error, since the path is the user's to correct.
pub(crate) fn unwritable(path: &Path, error: &rusqlite::Error) -> Error {
    let fix = match error.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => "point the target at a SQLite file or a new path",
        _ => {
            "make the file and its directory writable for the user dbsync runs as, or choose another path"
        }
    };
    Error::new(
        ErrorKind::Config,
        format!(
            "the SQLite target {} cannot be written ({error}); {fix}",
            path.display()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(code: i32) -> rusqlite::Error {
        rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), None)
    }

    #[test]
    fn busy_is_retried_and_full_disks_are_io() {
        let kind = |code| driver_error("writing", failure(code)).kind();
        assert_eq!(kind(rusqlite::ffi::SQLITE_BUSY), ErrorKind::Retryable);
        assert_eq!(kind(rusqlite::ffi::SQLITE_LOCKED), ErrorKind::Retryable);
        assert_eq!(kind(rusqlite::ffi::SQLITE_FULL), ErrorKind::Io);
        assert_eq!(kind(rusqlite::ffi::SQLITE_CONSTRAINT), ErrorKind::Query);
    }
}
