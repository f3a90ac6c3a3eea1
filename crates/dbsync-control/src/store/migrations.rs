//! The state store's schema, migrated forward at every open and recorded in
//! `schema_migrations`.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use crate::error::{Error, ErrorKind, Result};
use crate::store::time::now_micros;

struct Migration {
    version: u32,
    name: &'static str,
    sql: &'static str,
}

/// In order; a released migration is never edited, a change is a new one.
const SQLITE: &[Migration] = &[
    Migration {
        version: 1,
        name: "initial",
        sql: include_str!("../../migrations/sqlite/0001_initial.sql"),
    },
    Migration {
        version: 2,
        name: "verifications",
        sql: include_str!("../../migrations/sqlite/0002_verifications.sql"),
    },
];

/// The schema version this build writes.
pub(crate) fn latest_version() -> u32 {
    SQLITE.last().map_or(0, |migration| migration.version)
}

/// Applies the migrations the file has not seen, each in its own transaction with its
/// record, so that a crash leaves the file at one version or the next, never between.
/// The write lock is taken before the version is read, so that two processes opening
/// a new file at once migrate it once.
pub(crate) fn migrate(connection: &mut Connection) -> Result<u32> {
    connection.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version     INTEGER PRIMARY KEY,
            name        TEXT NOT NULL,
            applied_at  INTEGER NOT NULL
        )",
    )?;
    for migration in SQLITE {
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let current = current_version(&transaction)?;
        if current > latest_version() {
            return Err(Error::new(
                ErrorKind::Store,
                format!(
                    "the state store is at schema version {current}, newer than the {} this dbsync knows; upgrade dbsync or point `state` at another file",
                    latest_version()
                ),
            ));
        }
        if migration.version > current {
            transaction.execute_batch(migration.sql)?;
            transaction.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
                (migration.version, migration.name, now_micros()),
            )?;
        }
        transaction.commit()?;
    }
    current_version(connection)
}

pub(crate) fn current_version(connection: &Connection) -> Result<u32> {
    let version: Option<u32> = connection
        .query_row("SELECT max(version) FROM schema_migrations", [], |row| {
            row.get(0)
        })
        .optional()?
        .flatten();
    Ok(version.unwrap_or(0))
}
