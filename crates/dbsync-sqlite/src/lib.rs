//! SQLite for dbsync, as a target: edge replicas in one file.
//!
//! - [`target_type`] and [`target_table`]: the SQLite table that receives a source
//!   table, with the type mapping of docs/type-mapping.md ("SQLite targets").
//! - [`writer`]: the copy's chunks and the stream's batches, each in one transaction
//!   with the checkpoints it moves.
//! - [`reader`]: a target table read back as the source's values, to compare them.

mod error;
pub mod reader;
mod sql;
pub mod target_table;
pub mod target_type;
pub mod writer;
