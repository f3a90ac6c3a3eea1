//! Conflicts of bidirectional pairs: rows changed on both sides since they were last in
//! step, kept until resolved (PRODUCT.md §4, `manual` resolution).

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Row, TransactionBehavior};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Store;
use super::json::{from_json, to_json};
use super::pairs;
use super::time::{from_micros, now_micros};
use crate::error::{Error, Result};

/// A conflict as the engine detects it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewConflict {
    pub table: String,
    /// The row's primary key values.
    pub key: serde_json::Value,
    /// The row as the source has it; unset when the source deleted it.
    pub source_row: Option<serde_json::Value>,
    /// The row as the target has it; unset when the target deleted it.
    pub target_row: Option<serde_json::Value>,
}

/// Which version a resolution keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConflictResolution {
    Source,
    Target,
    /// A row written by whoever resolved it.
    Custom,
}

impl ConflictResolution {
    fn as_str(self) -> &'static str {
        match self {
            ConflictResolution::Source => "source",
            ConflictResolution::Target => "target",
            ConflictResolution::Custom => "custom",
        }
    }

    fn parse(text: &str) -> Option<ConflictResolution> {
        match text {
            "source" => Some(ConflictResolution::Source),
            "target" => Some(ConflictResolution::Target),
            "custom" => Some(ConflictResolution::Custom),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Conflict {
    pub id: String,
    pub pair: String,
    pub table: String,
    #[schema(value_type = Object)]
    pub key: serde_json::Value,
    #[schema(value_type = Option<Object>)]
    pub source_row: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    pub target_row: Option<serde_json::Value>,
    pub detected_at: DateTime<Utc>,
    pub resolution: Option<ConflictResolution>,
    #[schema(value_type = Option<Object>)]
    pub resolved_row: Option<serde_json::Value>,
    pub resolved_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, pair, table_name, key, source_row, target_row, detected_at, resolution, resolved_row, resolved_at";

impl Store {
    pub async fn add_conflict(
        &self,
        pair: impl Into<String>,
        conflict: NewConflict,
    ) -> Result<Conflict> {
        let pair = pair.into();
        self.call(move |connection| {
            let id = uuid::Uuid::new_v4().to_string();
            pairs::insert_for_pair(
                connection,
                &pair,
                "INSERT INTO conflicts (id, pair, table_name, key, source_row, target_row, detected_at)
                 SELECT ?1, name, ?3, ?4, ?5, ?6, ?7 FROM pairs WHERE name = ?2",
                (
                    &id,
                    &pair,
                    &conflict.table,
                    to_json(&conflict.key)?,
                    conflict.source_row.as_ref().map(to_json).transpose()?,
                    conflict.target_row.as_ref().map(to_json).transpose()?,
                    now_micros(),
                ),
            )?;
            find(connection, &id)?.ok_or_else(|| missing(&id))
        })
        .await
    }

    /// The conflicts not resolved yet, oldest first (seed 001's `GET /api/v1/conflicts`).
    pub async fn unresolved_conflicts(&self) -> Result<Vec<Conflict>> {
        self.call(|connection| {
            let mut statement = connection.prepare(&format!(
                "SELECT {COLUMNS} FROM conflicts WHERE resolved_at IS NULL ORDER BY detected_at, id"
            ))?;
            let rows = statement.query_map([], read_raw)?;
            rows.map(|row| row?.parse()).collect()
        })
        .await
    }

    pub async fn conflict(&self, id: impl Into<String>) -> Result<Conflict> {
        let id = id.into();
        self.call(move |connection| find(connection, &id)?.ok_or_else(|| missing(&id)))
            .await
    }

    /// Records how conflict `id` was settled, once. Applying the chosen row to the
    /// databases is the engine's part; this is the record of it.
    pub async fn resolve_conflict(
        &self,
        id: impl Into<String>,
        resolution: ConflictResolution,
        resolved_row: Option<serde_json::Value>,
    ) -> Result<Conflict> {
        let id = id.into();
        self.call(move |connection| {
            let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let conflict = find(&transaction, &id)?.ok_or_else(|| missing(&id))?;
            if conflict.resolution.is_some() {
                return Err(Error::conflict(format!(
                    "conflict {id} is resolved already; it cannot be resolved twice"
                )));
            }
            transaction.execute(
                "UPDATE conflicts SET resolution = ?2, resolved_row = ?3, resolved_at = ?4 WHERE id = ?1",
                (
                    &id,
                    resolution.as_str(),
                    resolved_row.as_ref().map(to_json).transpose()?,
                    now_micros(),
                ),
            )?;
            let resolved = find(&transaction, &id)?.ok_or_else(|| missing(&id))?;
            transaction.commit()?;
            Ok(resolved)
        })
        .await
    }
}

fn missing(id: &str) -> Error {
    Error::not_found(format!(
        "there is no conflict `{id}`; `dbsync conflicts list` shows the unresolved ones"
    ))
}

struct RawConflict {
    id: String,
    pair: String,
    table: String,
    key: String,
    source_row: Option<String>,
    target_row: Option<String>,
    detected_at: i64,
    resolution: Option<String>,
    resolved_row: Option<String>,
    resolved_at: Option<i64>,
}

impl RawConflict {
    fn parse(self) -> Result<Conflict> {
        Ok(Conflict {
            key: from_json(&self.key)?,
            source_row: self.source_row.as_deref().map(from_json).transpose()?,
            target_row: self.target_row.as_deref().map(from_json).transpose()?,
            resolved_row: self.resolved_row.as_deref().map(from_json).transpose()?,
            resolution: self
                .resolution
                .as_deref()
                .and_then(ConflictResolution::parse),
            id: self.id,
            pair: self.pair,
            table: self.table,
            detected_at: from_micros(self.detected_at),
            resolved_at: self.resolved_at.map(from_micros),
        })
    }
}

fn read_raw(row: &Row<'_>) -> rusqlite::Result<RawConflict> {
    Ok(RawConflict {
        id: row.get(0)?,
        pair: row.get(1)?,
        table: row.get(2)?,
        key: row.get(3)?,
        source_row: row.get(4)?,
        target_row: row.get(5)?,
        detected_at: row.get(6)?,
        resolution: row.get(7)?,
        resolved_row: row.get(8)?,
        resolved_at: row.get(9)?,
    })
}

fn find(connection: &rusqlite::Connection, id: &str) -> Result<Option<Conflict>> {
    connection
        .query_row(
            &format!("SELECT {COLUMNS} FROM conflicts WHERE id = ?1"),
            [id],
            read_raw,
        )
        .optional()?
        .map(RawConflict::parse)
        .transpose()
}
