//! The state store: connections, pairs, runs and their logs, per-table state, dead
//! letters, conflicts and verify results, in one SQLite file by default.
//!
//! [`Store`] is the one type whose methods are the operations; its callers (the REST
//! API, the command line, the engines' progress) never see SQL. Each operation is one
//! closure over a connection run on tokio's blocking pool, so that SQLite's blocking I/O
//! never stalls the server's threads. A MySQL or PostgreSQL backend would keep these
//! methods and dispatch on the backend inside [`Store::call`]'s callers.

mod changes;
mod conflicts;
mod connections;
mod dead_letters;
mod declared;
mod json;
mod migrations;
mod pairs;
mod retention;
mod runs;
mod stats;
mod tables;
mod time;
mod updates;
mod validate;
mod verifications;

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use dbsync_config::ConnectionUrl;
use rusqlite::Connection;

use crate::error::{Error, ErrorKind, Result};

pub use changes::ChangeMark;
pub use conflicts::{Conflict, ConflictResolution, NewConflict};
pub use connections::ConnectionRecord;
pub use dead_letters::{DeadLetter, NewDeadLetter};
pub use pairs::PairRecord;
pub use retention::Cleaned;
pub use runs::{LogLevel, PairStatus, RunLogLine, RunRecord};
pub use stats::Stats;
pub use tables::{TableState, TableStatus, TableUpdate};
pub use verifications::{VerificationRecord, VerifiedTable};

/// The state store. Cheap to clone: clones share one connection.
#[derive(Debug, Clone)]
pub struct Store {
    connection: Arc<Mutex<Connection>>,
}

/// How long a write waits for another process (the CLI beside `dbsync serve`) to release
/// the file before it fails.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

impl Store {
    /// Opens the store `state` names (PRODUCT.md §6), creating and migrating it as needed.
    pub async fn open(state: &ConnectionUrl) -> Result<Store> {
        match state.sqlite_path() {
            Some(path) => Store::open_sqlite(path).await,
            None => Err(Error::invalid(format!(
                "`state` is a {} URL, but the state store runs on SQLite only for now; set `state` to sqlite://PATH",
                state.engine()
            ))),
        }
    }

    /// Opens (or creates) the SQLite file at `path` and applies its pending migrations.
    pub async fn open_sqlite(path: impl Into<PathBuf>) -> Result<Store> {
        let path = path.into();
        let connection = tokio::task::spawn_blocking(move || open_file(&path))
            .await
            .map_err(lost_task)??;
        Ok(Store {
            connection: Arc::new(Mutex::new(connection)),
        })
    }

    /// The schema version of the file, after the migrations of [`Store::open`].
    pub async fn schema_version(&self) -> Result<u32> {
        self.call(|connection| migrations::current_version(connection))
            .await
    }

    /// The schema version this build migrates files to.
    pub fn latest_schema_version() -> u32 {
        migrations::latest_version()
    }

    /// Runs `operation` on the blocking pool with the connection.
    async fn call<T: Send + 'static>(
        &self,
        operation: impl FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let connection = Arc::clone(&self.connection);
        tokio::task::spawn_blocking(move || {
            // A panic in another operation rolled its transaction back when its
            // `Transaction` dropped, so the connection is sound to go on with.
            let mut connection = connection.lock().unwrap_or_else(PoisonError::into_inner);
            operation(&mut connection)
        })
        .await
        .map_err(lost_task)?
    }
}

fn open_file(path: &Path) -> Result<Connection> {
    if let Some(directory) = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
    {
        std::fs::create_dir_all(directory).map_err(|error| {
            Error::new(
                ErrorKind::Store,
                format!(
                    "the state store's directory {} could not be created: {error}; create it or set `state` to another path",
                    directory.display()
                ),
            )
        })?;
    }
    create_private(path)?;
    let mut connection = Connection::open(path)?;
    connection.busy_timeout(BUSY_TIMEOUT)?;
    // WAL lets readers (the CLI's `status`) go on while the server writes.
    connection.pragma_update(None, "journal_mode", "wal")?;
    connection.pragma_update(None, "foreign_keys", true)?;
    migrations::migrate(&mut connection)?;
    Ok(connection)
}

/// Creates the file readable by its owner only before SQLite opens it: it holds the
/// connections' passwords. SQLite gives its `-wal` and `-shm` files the same mode.
fn create_private(path: &Path) -> Result<()> {
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map(drop).map_err(|error| {
        Error::new(
            ErrorKind::Store,
            format!(
                "the state store {} could not be opened: {error}; check its permissions or set `state` to another path",
                path.display()
            ),
        )
    })
}

fn lost_task(error: tokio::task::JoinError) -> Error {
    Error::new(
        ErrorKind::Store,
        format!("a state store operation stopped before it finished: {error}"),
    )
}
