//! Whether a database answers: connect, ask its version, disconnect. For the API's
//! connection test, which must not wait on the pairs.

use dbsync_config::{ConnectionUrl, Engine};
use mysql_async::prelude::Queryable;

use crate::connection::{mysql_options, postgres_config};
use crate::failure::Failure;

/// The engine and version answering at `url`, the database of connection `name`.
pub(crate) async fn probe(name: &str, url: &ConnectionUrl) -> Result<String, Failure> {
    match url.engine() {
        Engine::MySql => {
            let mut conn =
                dbsync_mysql::session::connect(mysql_options(url), &format!("`{name}`")).await?;
            let version: Option<String> =
                conn.query_first("SELECT VERSION()").await.map_err(|e| {
                    Failure::runtime(format!("`{name}` answered but not its version: {e}."))
                })?;
            conn.disconnect().await.ok();
            Ok(format!("MySQL/MariaDB {}", version.unwrap_or_default()))
        }
        Engine::PostgreSql => {
            let (client, connection) = postgres_config(url)
                .connect(tokio_postgres::NoTls)
                .await
                .map_err(|e| Failure::runtime(format!("connecting to `{name}` failed: {e}; check the host, port, user and password.")))?;
            tokio::spawn(connection);
            let version: String = client
                .query_one("SHOW server_version", &[])
                .await
                .map_err(|e| {
                    Failure::runtime(format!("`{name}` answered but not its version: {e}."))
                })?
                .get(0);
            Ok(format!("PostgreSQL {version}"))
        }
        Engine::Sqlite => Err(Failure::runtime(format!(
            "connection `{name}` is a SQLite file, which is opened (and created) by the pair that writes it; there is no server to test."
        ))),
    }
}
