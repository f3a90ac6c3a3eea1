//! Sync pairs: the dbsync-config [`Pair`] by name, as `dbsync.yaml` has them.

use chrono::{DateTime, Utc};
use dbsync_config::Pair;
use rusqlite::{OptionalExtension, Row, TransactionBehavior};
use serde::Serialize;
use utoipa::ToSchema;

use super::Store;
use super::json::to_json;
use super::time::{from_micros, now_micros};
use super::validate::check_with;
use crate::error::{Error, ErrorKind, Result};

/// A stored pair.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PairRecord {
    pub name: String,
    /// Whether the server runs it; the same as `definition.enabled`, which the
    /// configuration's YAML leaves out when true.
    pub enabled: bool,
    /// The pair as `dbsync.yaml` writes it under `pairs.<name>`.
    #[schema(value_type = Object)]
    pub definition: Pair,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "name, definition, created_at, updated_at";

impl Store {
    /// Adds a pair; refused when the name is taken, and invalid when it names unknown
    /// connections or breaks another rule of the configuration file.
    pub async fn create_pair(&self, name: impl Into<String>, pair: Pair) -> Result<PairRecord> {
        let name = name.into();
        self.call(move |connection| {
            let transaction =
                connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
            if find(&transaction, &name)?.is_some() {
                return Err(Error::conflict(format!(
                    "pair `{name}` exists already; remove it first or choose another name"
                )));
            }
            check_with(&transaction, |config| {
                config.pairs.insert(name.clone(), pair.clone());
            })?;
            let now = now_micros();
            transaction.execute(
                "INSERT INTO pairs (name, source, target, definition, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
                (&name, &pair.source, &pair.target, to_json(&pair)?, now),
            )?;
            let record = find(&transaction, &name)?;
            transaction.commit()?;
            record.ok_or_else(|| missing(&name))
        })
        .await
    }

    pub async fn pairs(&self) -> Result<Vec<PairRecord>> {
        self.call(|connection| {
            let mut statement =
                connection.prepare(&format!("SELECT {COLUMNS} FROM pairs ORDER BY name"))?;
            let rows = statement.query_map([], read_raw)?;
            rows.map(|row| row?.parse()).collect()
        })
        .await
    }

    pub async fn pair(&self, name: impl Into<String>) -> Result<PairRecord> {
        let name = name.into();
        self.call(move |connection| find(connection, &name)?.ok_or_else(|| missing(&name)))
            .await
    }

    /// Enables or disables a pair (seed 003's `sync enable|disable`); a run going on is
    /// not stopped by it.
    pub async fn set_pair_enabled(
        &self,
        name: impl Into<String>,
        enabled: bool,
    ) -> Result<PairRecord> {
        let name = name.into();
        self.call(move |connection| {
            let transaction =
                connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut record = find(&transaction, &name)?.ok_or_else(|| missing(&name))?;
            record.definition.enabled = enabled;
            transaction.execute(
                "UPDATE pairs SET definition = ?2, updated_at = ?3 WHERE name = ?1",
                (&name, to_json(&record.definition)?, now_micros()),
            )?;
            let record = find(&transaction, &name)?;
            transaction.commit()?;
            record.ok_or_else(|| missing(&name))
        })
        .await
    }

    /// Removes a pair with its history, table state, dead letters and conflicts; refused
    /// while it runs.
    pub async fn delete_pair(&self, name: impl Into<String>) -> Result<()> {
        let name = name.into();
        self.call(move |connection| {
            let transaction =
                connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let running: Option<String> = transaction
                .query_row(
                    "SELECT id FROM runs WHERE pair = ?1 AND state = 'running'",
                    [&name],
                    |row| row.get(0),
                )
                .optional()?;
            if let Some(run) = running {
                return Err(Error::conflict(format!(
                    "pair `{name}` is running (run {run}); stop it before removing it"
                )));
            }
            if transaction.execute("DELETE FROM pairs WHERE name = ?1", [&name])? == 0 {
                return Err(missing(&name));
            }
            transaction.commit()?;
            Ok(())
        })
        .await
    }
}

pub(super) fn missing(name: &str) -> Error {
    Error::not_found(format!(
        "there is no pair `{name}`; `dbsync sync list` shows the pairs"
    ))
}

/// Runs `insert`, an `INSERT ... SELECT ... FROM pairs WHERE name = ?1`: it writes a row
/// only when pair `pair` exists, so that a missing pair is one answer, not a foreign-key
/// failure.
pub(super) fn insert_for_pair(
    connection: &rusqlite::Connection,
    pair: &str,
    insert: &str,
    params: impl rusqlite::Params,
) -> Result<()> {
    if connection.execute(insert, params)? == 0 {
        return Err(missing(pair));
    }
    Ok(())
}

/// A stored definition; one written by another dbsync version that this one cannot read
/// names the pair.
pub(super) fn parse_definition(name: &str, definition: &str) -> Result<Pair> {
    serde_json::from_str(definition).map_err(|error| {
        Error::new(
            ErrorKind::Store,
            format!("the state store holds pair `{name}` in a shape this dbsync cannot read ({error}); remove and add the pair again"),
        )
    })
}

struct RawPair {
    name: String,
    definition: String,
    created_at: i64,
    updated_at: i64,
}

impl RawPair {
    fn parse(self) -> Result<PairRecord> {
        let definition = parse_definition(&self.name, &self.definition)?;
        Ok(PairRecord {
            name: self.name,
            enabled: definition.enabled,
            definition,
            created_at: from_micros(self.created_at),
            updated_at: from_micros(self.updated_at),
        })
    }
}

fn read_raw(row: &Row<'_>) -> rusqlite::Result<RawPair> {
    Ok(RawPair {
        name: row.get(0)?,
        definition: row.get(1)?,
        created_at: row.get(2)?,
        updated_at: row.get(3)?,
    })
}

fn find(connection: &rusqlite::Connection, name: &str) -> Result<Option<PairRecord>> {
    connection
        .query_row(
            &format!("SELECT {COLUMNS} FROM pairs WHERE name = ?1"),
            [name],
            read_raw,
        )
        .optional()?
        .map(RawPair::parse)
        .transpose()
}
