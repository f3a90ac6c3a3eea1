//! MySQL and MariaDB for dbsync.
//!
//! - [`schema`]: reads table schemas from `information_schema` into the core model.
//! - [`types`]: how native column types map onto [`dbsync_core::DataType`].
//! - [`flavor`]: which server we talk to, since MySQL and MariaDB differ in places.
//! - [`session`]: connections with the settings every reader and writer relies on.
//! - [`snapshot`]: the initial copy's reads, in primary-key chunks.
//! - [`binlog`]: the stream of row changes, read from the binlog as a replica.
//! - [`preflight`]: what the source must allow before anything is written.
//! - [`source`] and [`capture`]: the copy's reads and the binlog stream, as the
//!   pipeline of `dbsync-core` drives them.
//! - [`poll`]: poll capture, for sources without a binlog to read.

pub mod binlog;
pub mod capture;
mod error;
pub mod flavor;
pub mod poll;
pub mod preflight;
mod protocol_value;
pub mod schema;
pub mod session;
pub mod snapshot;
pub mod source;
mod sql;
pub mod types;

pub use flavor::Flavor;
