//! `dbsync connection add|list|test|remove`: the databases pairs read and write, in the
//! state store beside those the configuration file declares. `test` connects and checks
//! what the pairs using the connection need, without writing anything.

use std::path::Path;

use dbsync_config::{Config, ConnectionUrl, Engine};
use dbsync_control::ConnectionRecord;
use mysql_async::prelude::Queryable;
use serde::Serialize;

use super::listing::{Columns, print_json};
use super::prompt::or_ask;
use super::state::{Kind, State};
use crate::connection::{mysql_options, postgres_config};
use crate::failure::{Exit, Failure};

pub(crate) async fn add(
    config_path: &Path,
    name: Option<String>,
    url: Option<String>,
    json: bool,
) -> Result<(), Failure> {
    let state = State::open(config_path).await?;
    let name = or_ask(name, "connection add", "NAME", "Connection name")?;
    let url = or_ask(
        url,
        "connection add",
        "--url",
        "URL (mysql://user:password@host:3306/database, postgres://..., sqlite://PATH)",
    )?;
    let url = ConnectionUrl::parse(&url).map_err(|error| {
        Failure::new(
            Exit::Usage,
            format!("the URL of connection `{name}` {error}."),
        )
    })?;
    let record = state.store.create_connection(name, url).await?;
    if json {
        return print_json(&Listed::new(&state, &record));
    }
    println!("added connection `{}`: {}", record.name, record.url);
    Ok(())
}

pub(crate) async fn list(config_path: &Path, json: bool) -> Result<(), Failure> {
    let state = State::open(config_path).await?;
    let records = state.store.connections().await?;
    let listed: Vec<Listed<'_>> = records
        .iter()
        .map(|record| Listed::new(&state, record))
        .collect();
    if json {
        return print_json(&listed);
    }
    let mut columns = Columns::new(&["name", "engine", "url", "declared in"]);
    for connection in &listed {
        columns.push(vec![
            connection.record.name.clone(),
            connection.record.url.engine().to_string(),
            connection.record.url.to_string(),
            connection.declared_in.to_owned(),
        ]);
    }
    print!("{}", columns.render());
    Ok(())
}

pub(crate) async fn remove(config_path: &Path, name: &str) -> Result<(), Failure> {
    let state = State::open(config_path).await?;
    state.refuse_declared(Kind::Connection, name)?;
    state.store.delete_connection(name).await?;
    println!("removed connection `{name}`");
    Ok(())
}

/// A connection as listed: its URL masked, and whether the file or the command line
/// declares it.
#[derive(Debug, Serialize)]
struct Listed<'a> {
    #[serde(flatten)]
    record: &'a ConnectionRecord,
    declared_in: &'static str,
}

impl<'a> Listed<'a> {
    fn new(state: &State, record: &'a ConnectionRecord) -> Self {
        Listed {
            record,
            declared_in: state.declared_in(Kind::Connection, &record.name),
        }
    }
}

/// Tests connection `name` of the file, or else of the state store, with the pairs of
/// the same place.
pub(crate) async fn test(config_path: &Path, name: &str) -> Result<(), Failure> {
    let file = super::state::load_config_or_empty(config_path)?;
    let config = if file.connections.contains_key(name) {
        file
    } else {
        State::open(config_path).await?.as_config().await?
    };
    let connection = config.connections.get(name).ok_or_else(|| {
        let known: Vec<&str> = config.connections.keys().map(String::as_str).collect();
        Failure::new(
            Exit::Usage,
            format!(
                "there is no connection `{name}` in {} or the state store; the connections are: {}.",
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
