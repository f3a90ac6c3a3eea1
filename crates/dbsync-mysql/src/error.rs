//! Turning driver errors into dbsync's kinds: what to retry, what to report.

use dbsync_core::{Error, ErrorKind};

/// Server error codes that mean "try again": deadlock, lock wait timeout.
const RETRYABLE: [u16; 2] = [1213, 1205];
/// Server error codes that mean a missing privilege.
const PRIVILEGE: [u16; 6] = [1044, 1045, 1142, 1143, 1227, 1370];

/// Wraps a driver error, naming what was being done, with the kind that decides
/// whether it is retried.
pub(crate) fn driver_error(doing: &str, error: mysql_async::Error) -> Error {
    let kind = match &error {
        mysql_async::Error::Server(server) if RETRYABLE.contains(&server.code) => {
            ErrorKind::Retryable
        }
        mysql_async::Error::Server(server) if PRIVILEGE.contains(&server.code) => {
            ErrorKind::Privilege
        }
        // Unknown database: the URL names one that is not there.
        mysql_async::Error::Server(server) if server.code == 1049 => ErrorKind::Config,
        mysql_async::Error::Server(_) => ErrorKind::Query,
        mysql_async::Error::Io(_) | mysql_async::Error::Driver(_) => ErrorKind::Connection,
        mysql_async::Error::Url(_) => ErrorKind::Config,
        mysql_async::Error::Other(_) => ErrorKind::Query,
    };
    // For what a user fixes in the URL, the server's words and the fix make the
    // whole sentence.
    let fix = match &error {
        mysql_async::Error::Server(server) if server.code == 1045 => Some((
            server.message.clone(),
            "check the user and password in the connection URL",
        )),
        mysql_async::Error::Server(server) if server.code == 1049 => Some((
            server.message.clone(),
            "check the database name in the connection URL",
        )),
        mysql_async::Error::Io(io) => Some((
            io.to_string(),
            "check the host and port in the connection URL, and that the server runs",
        )),
        _ => None,
    };
    match fix {
        Some((said, fix)) => Error::new(kind, format!("{doing} failed: {said}; {fix}")),
        None => Error::new(kind, doing).with_source(error),
    }
}
