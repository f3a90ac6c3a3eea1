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
        mysql_async::Error::Server(_) => ErrorKind::Query,
        mysql_async::Error::Io(_) | mysql_async::Error::Driver(_) => ErrorKind::Connection,
        mysql_async::Error::Url(_) => ErrorKind::Config,
        mysql_async::Error::Other(_) => ErrorKind::Query,
    };
    Error::new(kind, doing).with_source(error)
}
