//! The one error type of dbsync's libraries.

use std::error::Error as StdError;
use std::fmt;

use crate::table_schema::TableName;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, in terms of what to do about it.
///
/// Transient kinds are retried with backoff; definite kinds stop the table (or the
/// pair) and are shown to the user with the fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A connection failed or was lost.
    Connection,
    /// The server asked to retry: deadlock, lock wait timeout, serialization failure.
    Retryable,
    /// The configuration or the command line is wrong.
    Config,
    /// A server setting prevents syncing (binlog off, wrong binlog format ...).
    SourceSetting,
    /// The account lacks a privilege.
    Privilege,
    /// A type, event or value that dbsync cannot carry exactly.
    Unsupported,
    /// Source and target schemas disagree.
    SchemaMismatch,
    /// A value or event that is malformed.
    InvalidData,
    /// A query failed for another reason the server reported.
    Query,
    /// Local I/O failed.
    Io,
}

impl ErrorKind {
    /// Whether retrying the same work later may succeed.
    pub fn is_transient(self) -> bool {
        matches!(self, ErrorKind::Connection | ErrorKind::Retryable)
    }
}

/// An error with its kind, a message that names the thing and the fix, the table it
/// concerns if any, and its cause.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    table: Option<TableName>,
    source: Option<Box<dyn StdError + Send + Sync>>,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            table: None,
            source: None,
        }
    }

    pub fn with_table(mut self, table: TableName) -> Self {
        self.table = Some(table);
        self
    }

    pub fn with_source(mut self, source: impl StdError + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub fn table(&self) -> Option<&TableName> {
        self.table.as_ref()
    }

    pub fn is_transient(&self) -> bool {
        self.kind.is_transient()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(table) = &self.table {
            write!(f, "table {table}: ")?;
        }
        f.write_str(&self.message)?;
        if let Some(source) = &self.source {
            write!(f, ": {source}")?;
        }
        Ok(())
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|source| source as &(dyn StdError + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_names_the_table_and_the_cause() {
        let io = std::io::Error::other("connection reset by peer");
        let error = Error::new(ErrorKind::Connection, "lost the binlog connection")
            .with_table(TableName::new("shop", "orders"))
            .with_source(io);
        assert_eq!(
            error.to_string(),
            "table shop.orders: lost the binlog connection: connection reset by peer"
        );
        assert!(error.is_transient());
        assert!(!ErrorKind::Privilege.is_transient());
    }
}
