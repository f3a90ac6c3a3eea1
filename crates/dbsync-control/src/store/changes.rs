//! Whether another process changed the store: how `dbsync serve` notices the pairs and
//! connections the command line adds, changes or removes.

use super::Store;
use crate::error::Result;

/// A mark of the store's content as other processes left it; it differs from an earlier
/// mark exactly when another process committed a change since.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChangeMark(i64);

impl Store {
    /// The current [`ChangeMark`]: SQLite's `data_version`, one cheap read that moves
    /// with every commit of another connection, never with this process's own (which
    /// knows what it changed).
    pub async fn change_mark(&self) -> Result<ChangeMark> {
        self.call(|connection| {
            let version = connection.query_row("PRAGMA data_version", [], |row| row.get(0))?;
            Ok(ChangeMark(version))
        })
        .await
    }
}
