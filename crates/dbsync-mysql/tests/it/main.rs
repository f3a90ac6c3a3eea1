//! dbsync-mysql against a real MariaDB from the testkit.

mod binlog;
mod poll;
mod schema;
mod snapshot;
mod trigger_capture;
mod triggers;
mod verify;
mod writer;
