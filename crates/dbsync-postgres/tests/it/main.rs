//! dbsync-postgres against a real PostgreSQL from the testkit.

mod schema;
