//! PostgreSQL for dbsync.
//!
//! - [`schema`]: reads table schemas from `pg_catalog` into the core model.
//! - [`types`]: how native column types map onto [`dbsync_core::DataType`].
//! - [`target_type`] and [`target_table`]: the PostgreSQL table that receives a source
//!   table, with the type mapping of docs/type-mapping.md.
//! - [`preflight`]: what the target must allow before anything is written.
//! - [`session`]: source connections with the settings every reader relies on.
//! - [`source`] and [`poll`]: the copy's chunked reads and poll capture, as the
//!   pipeline of `dbsync-core` drives them.
//! - [`reader`]: a target table read back as the source's values, to compare them.
//! - [`writer`]: the copy's chunks and the stream's batches, each in one transaction
//!   with the checkpoints it moves; [`copy_format`] encodes their rows for binary COPY.

pub mod copy_format;
mod error;
mod param;
pub mod poll;
pub mod preflight;
pub mod reader;
pub mod schema;
pub mod session;
pub mod source;
mod sql;
pub mod target_table;
pub mod target_type;
pub mod types;
pub mod writer;
