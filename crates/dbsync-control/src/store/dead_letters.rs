//! Dead letters: rows a pair with `on_error: skip` could not apply, kept to be looked at
//! and replayed, never dropped silently.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::Store;
use super::json::{from_json, to_json};
use super::pairs;
use super::time::{from_micros, now_micros};
use crate::error::Result;

/// A row that could not be applied, as the engine reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDeadLetter {
    pub table: String,
    /// The row's primary key values.
    pub key: serde_json::Value,
    /// The row image that failed; unset for a delete.
    pub row: Option<serde_json::Value>,
    pub error: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DeadLetter {
    pub id: i64,
    pub pair: String,
    pub table: String,
    #[schema(value_type = Object)]
    pub key: serde_json::Value,
    #[schema(value_type = Option<Object>)]
    pub row: Option<serde_json::Value>,
    pub error: String,
    pub at: DateTime<Utc>,
}

impl Store {
    pub async fn add_dead_letter(
        &self,
        pair: impl Into<String>,
        letter: NewDeadLetter,
    ) -> Result<()> {
        let pair = pair.into();
        self.call(move |connection| {
            pairs::insert_for_pair(
                connection,
                &pair,
                "INSERT INTO dead_letters (pair, table_name, key, row_image, error, at)
                 SELECT name, ?2, ?3, ?4, ?5, ?6 FROM pairs WHERE name = ?1",
                (
                    &pair,
                    &letter.table,
                    to_json(&letter.key)?,
                    letter.row.as_ref().map(to_json).transpose()?,
                    &letter.error,
                    now_micros(),
                ),
            )?;
            Ok(())
        })
        .await
    }

    /// The dead letters of `pair`, oldest first.
    pub async fn dead_letters(&self, pair: impl Into<String>) -> Result<Vec<DeadLetter>> {
        let pair = pair.into();
        self.pair(pair.clone()).await?;
        self.call(move |connection| {
            let mut statement = connection.prepare(
                "SELECT id, pair, table_name, key, row_image, error, at
                 FROM dead_letters WHERE pair = ?1 ORDER BY id",
            )?;
            let rows = statement.query_map([&pair], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, String>(3)?,
                    row.get::<_, Option<String>>(4)?,
                    row.get::<_, String>(5)?,
                    row.get::<_, i64>(6)?,
                ))
            })?;
            rows.map(|row| {
                let (id, pair, table, key, image, error, at) = row?;
                Ok(DeadLetter {
                    id,
                    pair,
                    table,
                    key: from_json(&key)?,
                    row: image.as_deref().map(from_json).transpose()?,
                    error,
                    at: from_micros(at),
                })
            })
            .collect()
        })
        .await
    }
}
