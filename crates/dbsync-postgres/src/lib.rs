//! PostgreSQL for dbsync.
//!
//! - [`schema`]: reads table schemas from `pg_catalog` into the core model.
//! - [`types`]: how native column types map onto [`dbsync_core::DataType`].

mod error;
pub mod schema;
pub mod types;
