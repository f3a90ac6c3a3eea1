//! Connections: the databases pairs read and write, by name.

use chrono::{DateTime, Utc};
use dbsync_config::ConnectionUrl;
use rusqlite::{OptionalExtension, Row, TransactionBehavior};
use serde::Serialize;
use utoipa::ToSchema;

use super::Store;
use super::time::{from_micros, now_micros};
use super::validate::check_with;
use crate::error::{Error, Result};

/// A stored connection. Its URL serializes and prints with the password masked
/// (`mysql://repl:***@host/shop`); [`ConnectionUrl::expose`] gives it to a driver.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ConnectionRecord {
    pub name: String,
    #[schema(value_type = String, example = "mysql://repl:***@127.0.0.1:3306/shop")]
    pub url: ConnectionUrl,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "name, url, created_at, updated_at";

impl Store {
    /// Adds a connection; refused when the name is taken or breaks the configuration's
    /// rules (names are `[a-z0-9_-]+`).
    pub async fn create_connection(
        &self,
        name: impl Into<String>,
        url: ConnectionUrl,
    ) -> Result<ConnectionRecord> {
        let name = name.into();
        self.call(move |connection| {
            let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
            if find(&transaction, &name)?.is_some() {
                return Err(Error::conflict(format!(
                    "connection `{name}` exists already; remove it first or choose another name"
                )));
            }
            check_with(&transaction, |config| {
                config.connections.insert(
                    name.clone(),
                    dbsync_config::Connection { url: url.clone() },
                );
            })?;
            let now = now_micros();
            transaction.execute(
                "INSERT INTO connections (name, url, created_at, updated_at) VALUES (?1, ?2, ?3, ?3)",
                (&name, url.expose(), now),
            )?;
            let record = find(&transaction, &name)?;
            transaction.commit()?;
            record.ok_or_else(|| missing(&name))
        })
        .await
    }

    pub async fn connections(&self) -> Result<Vec<ConnectionRecord>> {
        self.call(|connection| {
            let mut statement =
                connection.prepare(&format!("SELECT {COLUMNS} FROM connections ORDER BY name"))?;
            let rows = statement.query_map([], read_raw)?;
            rows.map(|row| row?.parse()).collect()
        })
        .await
    }

    pub async fn connection(&self, name: impl Into<String>) -> Result<ConnectionRecord> {
        let name = name.into();
        self.call(move |connection| find(connection, &name)?.ok_or_else(|| missing(&name)))
            .await
    }

    /// Removes a connection; refused while a pair reads or writes it.
    pub async fn delete_connection(&self, name: impl Into<String>) -> Result<()> {
        let name = name.into();
        self.call(move |connection| {
            let transaction =
                connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let user: Option<String> = transaction
                .query_row(
                    "SELECT name FROM pairs WHERE source = ?1 OR target = ?1 ORDER BY name LIMIT 1",
                    [&name],
                    |row| row.get(0),
                )
                .optional()?;
            if let Some(pair) = user {
                return Err(Error::conflict(format!(
                    "connection `{name}` is used by pair `{pair}`; remove the pair first"
                )));
            }
            if transaction.execute("DELETE FROM connections WHERE name = ?1", [&name])? == 0 {
                return Err(missing(&name));
            }
            transaction.commit()?;
            Ok(())
        })
        .await
    }
}

fn missing(name: &str) -> Error {
    Error::not_found(format!(
        "there is no connection `{name}`; `dbsync connection list` shows the connections"
    ))
}

/// A row as stored, before its URL is parsed.
struct RawConnection {
    name: String,
    url: String,
    created_at: i64,
    updated_at: i64,
}

impl RawConnection {
    fn parse(self) -> Result<ConnectionRecord> {
        Ok(ConnectionRecord {
            url: parse_url(&self.name, &self.url)?,
            name: self.name,
            created_at: from_micros(self.created_at),
            updated_at: from_micros(self.updated_at),
        })
    }
}

fn read_raw(row: &Row<'_>) -> rusqlite::Result<RawConnection> {
    Ok(RawConnection {
        name: row.get(0)?,
        url: row.get(1)?,
        created_at: row.get(2)?,
        updated_at: row.get(3)?,
    })
}

fn find(connection: &rusqlite::Connection, name: &str) -> Result<Option<ConnectionRecord>> {
    connection
        .query_row(
            &format!("SELECT {COLUMNS} FROM connections WHERE name = ?1"),
            [name],
            read_raw,
        )
        .optional()?
        .map(RawConnection::parse)
        .transpose()
}

/// A stored URL; the error names the connection but never quotes the URL, which holds
/// the password.
pub(super) fn parse_url(name: &str, url: &str) -> Result<ConnectionUrl> {
    ConnectionUrl::parse(url).map_err(|error| {
        Error::new(
            crate::error::ErrorKind::Store,
            format!("the state store holds connection `{name}` with a URL that {error}; remove and add the connection again"),
        )
    })
}
