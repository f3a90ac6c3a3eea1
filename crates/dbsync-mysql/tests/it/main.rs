//! dbsync-mysql against a real MariaDB from the testkit.

mod schema;
mod snapshot;
