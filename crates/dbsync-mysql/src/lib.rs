//! MySQL and MariaDB for dbsync.
//!
//! - [`schema`]: reads table schemas from `information_schema` into the core model.
//! - [`types`]: how native column types map onto [`dbsync_core::DataType`].
//! - [`flavor`]: which server we talk to, since MySQL and MariaDB differ in places.
//! - [`session`]: connections with the settings every reader and writer relies on.
//! - [`snapshot`]: the initial copy's reads, in primary-key chunks.

mod error;
pub mod flavor;
mod protocol_value;
pub mod schema;
pub mod session;
pub mod snapshot;
mod sql;
pub mod types;

pub use flavor::Flavor;
