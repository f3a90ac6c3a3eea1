//! `dbsync connection test NAME`: connect with a connection of the configuration and
//! check what the pairs using it need, without writing anything.

use std::path::Path;

use dbsync_config::{Config, ConnectionUrl, Engine};
use mysql_async::prelude::Queryable;

use crate::connection::{mysql_options, postgres_config};
use crate::failure::{Exit, Failure};

pub(crate) async fn test(config_path: &Path, name: &str) -> Result<(), Failure> {
    let config = super::load_config(config_path)?;
    let connection = config.connections.get(name).ok_or_else(|| {
        let known: Vec<&str> = config.connections.keys().map(String::as_str).collect();
        Failure::new(
            Exit::Usage,
            format!(
                "there is no connection `{name}` in {}; the connections are: {}.",
                config_path.display(),
                known.join(", ")
            ),
        )
    })?;
    let url = &connection.url;
    let report = match url.engine() {
        Engine::MySql => test_mysql(&config, name, url).await?,
        Engine::PostgreSql => test_postgres(&config, name, url).await?,
        Engine::Sqlite => return Err(Failure::not_built("connection test (SQLite)")),
    };
    println!("connection `{name}`: ok; {report}");
    Ok(())
}

/// Connects, and for a source of binlog pairs runs the pre-flight checks of `run`.
async fn test_mysql(config: &Config, name: &str, url: &ConnectionUrl) -> Result<String, Failure> {
    let mut conn = dbsync_mysql::session::connect(mysql_options(url), &format!("`{name}`")).await?;
    let version: Option<String> = conn.query_first("SELECT VERSION()").await.map_err(|e| {
        Failure::runtime(format!(
            "reading the server version of `{name}` failed: {e}."
        ))
    })?;
    let is_source = config.pairs.values().any(|pair| pair.source == name);
    let database = url.database().unwrap_or_default();
    let checked = if is_source {
        dbsync_mysql::preflight::check_binlog_source(&mut conn, database).await?;
        "; ready as a binlog source (binlog ROW, full row images, replication privileges)"
    } else {
        ""
    };
    conn.disconnect().await.ok();
    Ok(format!(
        "MySQL/MariaDB {}{checked}",
        version.unwrap_or_default()
    ))
}

/// Connects, and for a target checks it may create tables in each pair's schema.
async fn test_postgres(
    config: &Config,
    name: &str,
    url: &ConnectionUrl,
) -> Result<String, Failure> {
    let (client, connection) = postgres_config(url).connect(tokio_postgres::NoTls).await.map_err(|e| {
        Failure::new(Exit::Usage, format!("connecting to `{name}` failed: {e}; check the host, port, user and password in its URL."))
    })?;
    tokio::spawn(connection);
    let version: String = client
        .query_one("SHOW server_version", &[])
        .await
        .map_err(|e| {
            Failure::runtime(format!(
                "reading the server version of `{name}` failed: {e}."
            ))
        })?
        .get(0);
    let mut schemas = Vec::new();
    for pair in config.pairs.values().filter(|pair| pair.target == name) {
        let schema = pair
            .effective_identifier_case(Engine::PostgreSql)
            .apply(&pair.target_schema)
            .into_owned();
        dbsync_postgres::preflight::check_target(&client, &schema).await?;
        schemas.push(schema);
    }
    let checked = if schemas.is_empty() {
        String::new()
    } else {
        format!("; may create tables in {}", schemas.join(", "))
    };
    Ok(format!("PostgreSQL {version}{checked}"))
}
