//! Checks that a PostgreSQL database can be a pair's target, before anything is
//! written.

use dbsync_core::{Error, ErrorKind, Result};
use tokio_postgres::Client;

use crate::error::driver_error;

/// Checks that the account can create the pair's tables in `schema`: CREATE on the
/// schema when it exists, CREATE on the database to make it otherwise.
pub async fn check_target(client: &Client, schema: &str) -> Result<()> {
    let row = client
        .query_one(
            "SELECT current_database(), current_user,
                    EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1),
                    CASE WHEN EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)
                         THEN has_schema_privilege($1, 'CREATE, USAGE')
                         ELSE has_database_privilege(current_database(), 'CREATE') END",
            &[&schema],
        )
        .await
        .map_err(|e| driver_error("checking the target's privileges", e))?;
    let (database, user, schema_exists, allowed): (String, String, bool, bool) =
        (row.get(0), row.get(1), row.get(2), row.get(3));
    if allowed {
        return Ok(());
    }
    let fix = if schema_exists {
        format!("GRANT CREATE, USAGE ON SCHEMA \"{schema}\" TO \"{user}\"")
    } else {
        format!("GRANT CREATE ON DATABASE \"{database}\" TO \"{user}\"")
    };
    Err(Error::new(
        ErrorKind::Privilege,
        format!(
            "the target account {user} cannot create tables in schema {schema} of {database}; run {fix}"
        ),
    ))
}
