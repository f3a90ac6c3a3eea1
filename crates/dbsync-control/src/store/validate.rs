//! The store's connections and pairs checked as the configuration file's are: the same
//! names, the same rules, the same messages, whether a pair came from `dbsync.yaml`, the
//! command line or the API.

use std::collections::BTreeMap;

use dbsync_config::{Config, Connection as ConfiguredConnection, Pair};
use rusqlite::Connection;

use crate::error::{Error, Result};

/// The connections and pairs of the store as a configuration, with `change` applied.
pub(super) fn check_with(connection: &Connection, change: impl FnOnce(&mut Config)) -> Result<()> {
    let mut config = Config {
        connections: connections(connection)?,
        pairs: pairs(connection)?,
        ..Config::default()
    };
    change(&mut config);
    config
        .validate()
        .map_err(|error| Error::invalid(error.to_string()))
}

fn connections(connection: &Connection) -> Result<BTreeMap<String, ConfiguredConnection>> {
    let mut statement = connection.prepare("SELECT name, url FROM connections")?;
    let rows = statement.query_map([], |row| Ok((row.get::<_, String>(0)?, row.get(1)?)))?;
    rows.map(|row| {
        let (name, url): (String, String) = row?;
        Ok((
            name.clone(),
            ConfiguredConnection {
                url: super::connections::parse_url(&name, &url)?,
            },
        ))
    })
    .collect()
}

fn pairs(connection: &Connection) -> Result<BTreeMap<String, Pair>> {
    let mut statement = connection.prepare("SELECT name, definition FROM pairs")?;
    let rows = statement.query_map([], |row| Ok((row.get::<_, String>(0)?, row.get(1)?)))?;
    rows.map(|row| {
        let (name, definition): (String, String) = row?;
        Ok((
            name.clone(),
            super::pairs::parse_definition(&name, &definition)?,
        ))
    })
    .collect()
}
