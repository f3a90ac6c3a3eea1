//! Real servers for dbsync's tests, benches and demo.
//!
//! Each process gets private servers, started on first use in a scratch directory on
//! free ports and shared by all its tests: a MariaDB configured as a binlog source
//! ([`MariaDb::shared`]), a second MariaDB as a MySQL target
//! ([`MariaDb::shared_target`]) and a PostgreSQL with logical replication
//! ([`Postgres::shared`]). Each test creates databases of its own on them. Nothing
//! outlives the process: see the `guardian` module for how that holds even when the
//! process is killed.
//!
//! ```no_run
//! let mariadb = dbsync_testkit::mariadb();
//! let database = mariadb.create_database("orders").unwrap();
//! mariadb.execute(Some(&database), "CREATE TABLE t (id INT PRIMARY KEY)").unwrap();
//! let url = mariadb.url(&database);
//! ```
//!
//! [`Proxy`] sits between dbsync and a server to cut or delay connections.

mod binaries;
mod dataset;
mod error;
mod expected;
mod guardian;
mod mariadb;
mod postgres;
mod program;
mod proxy;

use std::os::unix::fs::MetadataExt;
use std::sync::atomic::{AtomicUsize, Ordering};

pub use dataset::{Dataset, Dialect, datasets_dir};
pub use error::{Error, Result};
pub use expected::assert_expected;
pub use mariadb::{ADMIN_USER, MariaDb, REPLICATION_PASSWORD, REPLICATION_USER};
pub use postgres::{Postgres, SUPERUSER};
pub use program::process_alive;
pub use proxy::Proxy;

/// This process's MariaDB source server; panics with the reason and the fix when it
/// cannot be started, which is what a test wants.
pub fn mariadb() -> &'static MariaDb {
    MariaDb::shared().unwrap_or_else(|e| panic!("{e}"))
}

/// This process's second MariaDB, a MySQL/MariaDB target; panics like [`mariadb`].
pub fn mariadb_target() -> &'static MariaDb {
    MariaDb::shared_target().unwrap_or_else(|e| panic!("{e}"))
}

/// This process's MariaDB with binary logging off; panics like [`mariadb`].
pub fn mariadb_without_binlog() -> &'static MariaDb {
    MariaDb::shared_without_binlog().unwrap_or_else(|e| panic!("{e}"))
}

/// This process's PostgreSQL server; panics like [`mariadb`].
pub fn postgres() -> &'static Postgres {
    Postgres::shared().unwrap_or_else(|e| panic!("{e}"))
}

/// A database name that starts with `hint` (lower-cased, non-alphanumerics replaced by
/// `_`) and ends with a number unique within this process.
fn unique_name(hint: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(1);
    let hint: String = hint
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .take(40)
        .collect();
    format!("{hint}_{}", NEXT.fetch_add(1, Ordering::SeqCst))
}

/// Whether this process runs as root (the owner of `/proc/self` is its effective user).
fn is_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|meta| meta.uid() == 0)
}
