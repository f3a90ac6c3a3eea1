//! Opening connections the way every part of dbsync needs them.

use mysql_async::{Conn, Opts, OptsBuilder};

use dbsync_core::{Error, ErrorKind, Result};

use crate::error::driver_error;

/// Session settings that make values mean the same on every connection: `TIMESTAMP`s
/// read and written in UTC, text in utf8mb4 whatever the column's character set, and
/// no sql_mode that would reject a value the source already holds (zero dates).
const SESSION_SETUP: &str = "SET time_zone = '+00:00', NAMES utf8mb4, \
     SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION,NO_BACKSLASH_ESCAPES'";

/// The connection options for `url` as dbsync uses them; see [`options`].
pub fn options_from_url(url: &str) -> Result<Opts> {
    let opts = Opts::from_url(url).map_err(|e| {
        Error::new(
            ErrorKind::Config,
            format!("the MySQL URL is not valid: {e}"),
        )
    })?;
    Ok(options(OptsBuilder::from_opts(opts)))
}

/// `builder` with the settings every dbsync connection needs.
///
/// `prefer_socket` is off: mysql_async otherwise switches a connection to 127.0.0.1
/// over to the server's Unix socket, silently bypassing whatever listens on the port
/// (a TCP proxy, an SSH tunnel).
pub fn options(builder: OptsBuilder) -> Opts {
    builder
        .prefer_socket(false)
        .init(vec![SESSION_SETUP])
        .into()
}

/// Connects to `opts`; `what` names the server in the error ("the source").
pub async fn connect(opts: Opts, what: &str) -> Result<Conn> {
    Conn::new(opts)
        .await
        .map_err(|e| driver_error(&format!("connecting to {what}"), e))
}
