//! Turning driver errors into dbsync's kinds: what to retry, what to report.

use dbsync_core::{Error, ErrorKind};
use tokio_postgres::error::SqlState;

/// SQLSTATEs that mean "try again": serialization failure, deadlock, lock not available
/// (`NOWAIT` or `lock_timeout`).
const RETRYABLE: [SqlState; 3] = [
    SqlState::T_R_SERIALIZATION_FAILURE,
    SqlState::T_R_DEADLOCK_DETECTED,
    SqlState::LOCK_NOT_AVAILABLE,
];
/// SQLSTATEs that mean the account may not do this. A rejected password is here too,
/// as MySQL's "access denied" is in dbsync-mysql: PostgreSQL answers 28P01 to an
/// unknown user as well, so it cannot tell a wrong password from a missing account, and
/// either way it is fixed on the account, not by retrying.
const PRIVILEGE: [SqlState; 3] = [
    SqlState::INSUFFICIENT_PRIVILEGE,
    SqlState::INVALID_AUTHORIZATION_SPECIFICATION,
    SqlState::INVALID_PASSWORD,
];
/// SQLSTATEs the server sends as it drops or refuses the session (shutdown, restart,
/// still starting up): the connection is lost, not the query wrong.
const CONNECTION_LOST: [SqlState; 3] = [
    SqlState::ADMIN_SHUTDOWN,
    SqlState::CRASH_SHUTDOWN,
    SqlState::CANNOT_CONNECT_NOW,
];

/// Wraps a driver error, naming what was being done, with the kind that decides
/// whether it is retried.
pub(crate) fn driver_error(doing: &str, error: tokio_postgres::Error) -> Error {
    // For what a user fixes in the URL, the server's words and the fix make the
    // whole sentence.
    let fix = match error.code() {
        Some(code) if *code == SqlState::INVALID_PASSWORD => {
            Some("check the user and password in the connection URL")
        }
        Some(code) if *code == SqlState::INVALID_CATALOG_NAME => {
            Some("check the database name in the connection URL")
        }
        None if doing.starts_with("connecting") => {
            Some("check the host and port in the connection URL, and that the server runs")
        }
        _ => None,
    };
    let kind = kind(error.code());
    match (fix, error.as_db_error()) {
        (Some(fix), Some(db)) => {
            Error::new(kind, format!("{doing} failed: {}; {fix}", db.message()))
        }
        (Some(fix), None) => Error::new(kind, format!("{doing} failed: {error}; {fix}")),
        // tokio-postgres displays a server error as "db error"; the server's words
        // are what says what went wrong.
        (None, Some(db)) => {
            let detail = db.detail().map(|d| format!(" ({d})")).unwrap_or_default();
            Error::new(kind, format!("{doing}: {}{detail}", db.message()))
        }
        (None, None) => Error::new(kind, doing).with_source(error),
    }
}

/// An error without a server error is the driver's: a closed connection or failed I/O.
fn kind(code: Option<&SqlState>) -> ErrorKind {
    match code {
        None => ErrorKind::Connection,
        Some(code) if RETRYABLE.contains(code) => ErrorKind::Retryable,
        Some(code) if PRIVILEGE.contains(code) => ErrorKind::Privilege,
        // The URL names a database that is not there.
        Some(code) if *code == SqlState::INVALID_CATALOG_NAME => ErrorKind::Config,
        // Class 08 is "connection exception".
        Some(code) if CONNECTION_LOST.contains(code) || code.code().starts_with("08") => {
            ErrorKind::Connection
        }
        Some(_) => ErrorKind::Query,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlstates_decide_the_kind() {
        let cases = [
            ("40001", ErrorKind::Retryable),
            ("40P01", ErrorKind::Retryable),
            ("55P03", ErrorKind::Retryable),
            ("42501", ErrorKind::Privilege),
            ("28000", ErrorKind::Privilege),
            ("28P01", ErrorKind::Privilege),
            ("57P01", ErrorKind::Connection),
            ("08006", ErrorKind::Connection),
            ("3D000", ErrorKind::Config),
            ("42P01", ErrorKind::Query),
            ("23505", ErrorKind::Query),
        ];
        for (code, expected) in cases {
            assert_eq!(kind(Some(&SqlState::from_code(code))), expected, "{code}");
        }
        assert_eq!(kind(None), ErrorKind::Connection);
    }
}
