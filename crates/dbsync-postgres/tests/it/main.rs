//! dbsync-postgres against a real PostgreSQL from the testkit.

mod poll;
mod schema;
mod source;
