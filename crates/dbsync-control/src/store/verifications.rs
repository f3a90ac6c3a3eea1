//! Verify results (issue 5): what each `dbsync verify` found of a pair, kept as history
//! and shown by `dbsync status`.

use chrono::{DateTime, Utc};
use dbsync_core::verify::{TableReport, VerifyReport};
use rusqlite::{OptionalExtension, Row, TransactionBehavior};
use serde::Serialize;
use utoipa::ToSchema;

use super::Store;
use super::json::{from_json, to_json};
use super::pairs;
use super::time::{from_micros, now_micros};
use crate::error::Result;

/// One table of a verify: its rows on each side and how many keys differ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct VerifiedTable {
    /// The source table, as `database.table`.
    pub table: String,
    pub source_rows: u64,
    pub target_rows: u64,
    /// Keys the source has and the target lacks.
    pub missing: u64,
    /// Keys the target has and the source lacks.
    pub extra: u64,
    /// Keys on both sides whose rows differ.
    pub different: u64,
}

impl VerifiedTable {
    pub fn is_equal(&self) -> bool {
        self.missing == 0 && self.extra == 0 && self.different == 0
    }
}

impl From<&TableReport> for VerifiedTable {
    fn from(report: &TableReport) -> Self {
        VerifiedTable {
            table: report.table.to_string(),
            source_rows: report.source_rows,
            target_rows: report.target_rows,
            missing: report.missing.count,
            extra: report.extra.count,
            different: report.different.count,
        }
    }
}

/// A verify of one pair as the history keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct VerificationRecord {
    pub id: i64,
    pub pair: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    /// Whether every table was equal: the verify's exit code 0 rather than 3.
    pub equal: bool,
    pub tables: Vec<VerifiedTable>,
    /// The report as `dbsync verify --json` prints it, with the first keys that differ.
    #[schema(value_type = Object)]
    pub report: serde_json::Value,
}

const COLUMNS: &str = "id, pair, started_at, finished_at, report";

impl Store {
    /// Records that a verify of `pair` started at `started_at` ended now and found
    /// `found` (after its repair, if it repaired); `report` is the whole report to keep.
    pub async fn record_verification(
        &self,
        pair: impl Into<String>,
        started_at: DateTime<Utc>,
        found: &VerifyReport,
        report: &serde_json::Value,
    ) -> Result<VerificationRecord> {
        let pair = pair.into();
        let tables: Vec<VerifiedTable> = found.tables.iter().map(VerifiedTable::from).collect();
        let report = to_json(report)?;
        self.call(move |connection| {
            let transaction =
                connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
            pairs::insert_for_pair(
                &transaction,
                &pair,
                "INSERT INTO verifications (pair, started_at, finished_at, equal, report)
                 SELECT name, ?2, ?3, ?4, ?5 FROM pairs WHERE name = ?1",
                (
                    &pair,
                    started_at.timestamp_micros(),
                    now_micros(),
                    tables.iter().all(VerifiedTable::is_equal),
                    &report,
                ),
            )?;
            let id = transaction.last_insert_rowid();
            for table in &tables {
                transaction.execute(
                    "INSERT INTO verification_tables
                     (verification, table_name, source_rows, target_rows, missing, extra, different)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    (
                        id,
                        &table.table,
                        stored(table.source_rows),
                        stored(table.target_rows),
                        stored(table.missing),
                        stored(table.extra),
                        stored(table.different),
                    ),
                )?;
            }
            let record = find(&transaction, id)?;
            transaction.commit()?;
            record.ok_or_else(|| pairs::missing(&pair))
        })
        .await
    }

    /// The verifies of `pair`, newest first, at most `limit`.
    pub async fn verifications(
        &self,
        pair: impl Into<String>,
        limit: u32,
    ) -> Result<Vec<VerificationRecord>> {
        let pair = pair.into();
        self.pair(pair.clone()).await?;
        self.call(move |connection| {
            let mut statement = connection.prepare(&format!(
                "SELECT {COLUMNS} FROM verifications WHERE pair = ?1
                 ORDER BY finished_at DESC, id DESC LIMIT ?2"
            ))?;
            let raws = statement
                .query_map((&pair, limit), read_raw)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            raws.into_iter().map(|raw| raw.parse(connection)).collect()
        })
        .await
    }

    /// The latest verify of `pair`, if it was ever verified.
    pub async fn last_verification(
        &self,
        pair: impl Into<String>,
    ) -> Result<Option<VerificationRecord>> {
        Ok(self.verifications(pair, 1).await?.into_iter().next())
    }
}

fn stored(count: u64) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}

struct RawVerification {
    id: i64,
    pair: String,
    started_at: i64,
    finished_at: i64,
    report: String,
}

impl RawVerification {
    fn parse(self, connection: &rusqlite::Connection) -> Result<VerificationRecord> {
        let mut statement = connection.prepare(
            "SELECT table_name, source_rows, target_rows, missing, extra, different
             FROM verification_tables WHERE verification = ?1 ORDER BY table_name",
        )?;
        let count = |row: &Row<'_>, index| {
            row.get::<_, i64>(index)
                .map(|count| u64::try_from(count).unwrap_or_default())
        };
        let tables = statement
            .query_map([self.id], |row| {
                Ok(VerifiedTable {
                    table: row.get(0)?,
                    source_rows: count(row, 1)?,
                    target_rows: count(row, 2)?,
                    missing: count(row, 3)?,
                    extra: count(row, 4)?,
                    different: count(row, 5)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(VerificationRecord {
            id: self.id,
            pair: self.pair,
            started_at: from_micros(self.started_at),
            finished_at: from_micros(self.finished_at),
            equal: tables.iter().all(VerifiedTable::is_equal),
            tables,
            report: from_json(&self.report)?,
        })
    }
}

fn read_raw(row: &Row<'_>) -> rusqlite::Result<RawVerification> {
    Ok(RawVerification {
        id: row.get(0)?,
        pair: row.get(1)?,
        started_at: row.get(2)?,
        finished_at: row.get(3)?,
        report: row.get(4)?,
    })
}

fn find(connection: &rusqlite::Connection, id: i64) -> Result<Option<VerificationRecord>> {
    connection
        .query_row(
            &format!("SELECT {COLUMNS} FROM verifications WHERE id = ?1"),
            [id],
            read_raw,
        )
        .optional()?
        .map(|raw| raw.parse(connection))
        .transpose()
}
