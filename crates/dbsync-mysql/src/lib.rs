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
//! - [`triggers`], [`audit_log`] and [`trigger_capture`]: capture without the binlog,
//!   through triggers that record each row change in `sync_audit_log`.
//! - [`target_type`] and [`target_table`]: the MySQL table that receives a source
//!   table, with the type mapping of docs/type-mapping.md.
//! - [`writer`]: the copy's chunks and the stream's batches, each in one transaction
//!   with the checkpoints it moves.
//! - [`poll`]: poll capture, for sources without a binlog to read.
//! - [`reader`]: a source's or a target's rows by key range, for verify, and
//!   [`consistent_read`]: a source's rows held still while verify checks them again.

pub mod audit_log;
pub mod binlog;
pub mod capture;
mod checkpoint_store;
pub mod consistent_read;
mod error;
pub mod flavor;
mod infile_format;
mod multi_row;
pub mod poll;
pub mod preflight;
mod protocol_value;
pub mod reader;
mod record_id;
pub mod schema;
pub mod session;
pub mod snapshot;
pub mod source;
mod sql;
pub mod target_table;
pub mod target_type;
pub mod trigger_capture;
pub mod triggers;
pub mod types;
pub mod writer;

pub use flavor::Flavor;
