//! The error of loading or checking a configuration: one sentence that names the file,
//! the line, the key path and the fix.

use std::fmt;

use crate::key_path::KeyPath;

/// What is wrong with a configuration, where, and how to fix it.
///
/// Its `Display` is one sentence such as
/// `dbsync.yaml line 7: pairs.shop-analytics.source names connection `shopp`, which is not
/// defined under `connections`; define it or fix the name.` It never holds a secret: values
/// of passwords, tokens and URLs are not quoted in messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    origin: Option<String>,
    line: Option<usize>,
    column: Option<usize>,
    key_path: Option<KeyPath>,
    message: String,
}

impl ConfigError {
    /// An error whose `message` is already a whole sentence (it names the key path itself).
    pub(crate) fn new(message: impl Into<String>) -> Self {
        ConfigError {
            origin: None,
            line: None,
            column: None,
            key_path: None,
            message: message.into(),
        }
    }

    pub(crate) fn at_path(mut self, key_path: KeyPath) -> Self {
        self.key_path = Some(key_path);
        self
    }

    pub(crate) fn at_line(mut self, line: usize) -> Self {
        self.line = Some(line);
        self
    }

    pub(crate) fn at_column(mut self, column: usize) -> Self {
        self.column = Some(column);
        self
    }

    /// Sets where the configuration came from (a file name, `config`, or an environment
    /// variable), unless a more precise origin is already known.
    pub(crate) fn in_origin(mut self, origin: impl Into<String>) -> Self {
        if self.origin.is_none() {
            self.origin = Some(origin.into());
        }
        self
    }

    /// The file (as given), `config` for text that came from no file, or
    /// `environment variable NAME` for a value an override set.
    pub fn origin(&self) -> Option<&str> {
        self.origin.as_deref()
    }

    /// The line, from 1, where the value is written.
    pub fn line(&self) -> Option<usize> {
        self.line
    }

    /// The column, from 1; only malformed YAML has one.
    pub fn column(&self) -> Option<usize> {
        self.column
    }

    /// The key path of the value at fault, such as `pairs.shop-analytics.source`.
    pub fn key_path(&self) -> Option<&KeyPath> {
        self.key_path.as_ref()
    }

    /// The sentence without the origin and line.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.origin, self.line, self.column) {
            (Some(origin), Some(line), Some(column)) => {
                write!(f, "{origin} line {line}, column {column}: ")?
            }
            (Some(origin), Some(line), None) => write!(f, "{origin} line {line}: ")?,
            (Some(origin), None, _) => write!(f, "{origin}: ")?,
            (None, Some(line), _) => write!(f, "line {line}: ")?,
            (None, None, _) => {}
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}

/// The binary and the control plane report every error as a `dbsync_core::Error`; a bad
/// configuration is the user's to fix, so its kind is `Config` (exit code 2, HTTP 400).
impl From<ConfigError> for dbsync_core::Error {
    fn from(error: ConfigError) -> Self {
        dbsync_core::Error::new(dbsync_core::ErrorKind::Config, error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_origin_line_and_column() {
        let error = ConfigError::new("pairs.a.source names connection `x`.")
            .at_line(7)
            .in_origin("dbsync.yaml")
            .in_origin("ignored: the first origin stays");
        assert_eq!(
            error.to_string(),
            "dbsync.yaml line 7: pairs.a.source names connection `x`."
        );
        let syntax = ConfigError::new("malformed YAML.")
            .at_line(3)
            .at_column(5)
            .in_origin("dbsync.yaml");
        assert_eq!(
            syntax.to_string(),
            "dbsync.yaml line 3, column 5: malformed YAML."
        );
        let core: dbsync_core::Error = syntax.into();
        assert_eq!(core.kind(), dbsync_core::ErrorKind::Config);
        assert_eq!(
            core.to_string(),
            "dbsync.yaml line 3, column 5: malformed YAML."
        );
    }
}
