//! Seed 002's `/api/sync/configs`: a sync configuration is a pair from a remote
//! connection (`connection_id`) into its local database (`ID-local`, see
//! `remote_connections`). Its id is its name, lower-cased, with dashes.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use dbsync_config::{Capture, ConflictResolution, Glob, Pair, TableOptions, TableRule};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::error::{ApiError, ApiResult, ErrorBody, JsonBody, QueryParams};
use super::remote_connections::{id_of, local_id};
use crate::store::PairRecord;

/// A sync configuration as seed 002 describes it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SyncConfig {
    /// The remote connection's id, the source.
    connection_id: String,
    #[schema(example = "User Data Sync")]
    name: String,
    /// `incremental` (the default) follows changes; `full` copies the tables whole.
    #[serde(default)]
    sync_mode: SyncMode,
    #[serde(default = "yes")]
    enabled: bool,
    /// Every table of the remote database when left out.
    #[serde(default)]
    tables: Vec<SyncTable>,
    #[serde(default)]
    options: SyncOptions,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum SyncMode {
    #[default]
    Incremental,
    Full,
}

impl SyncMode {
    fn capture(self) -> Option<Capture> {
        match self {
            SyncMode::Incremental => None,
            SyncMode::Full => Some(Capture::Snapshot),
        }
    }

    fn of(capture: Option<Capture>) -> SyncMode {
        match capture {
            Some(Capture::Snapshot) => SyncMode::Full,
            _ => SyncMode::Incremental,
        }
    }
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SyncTable {
    source_table: String,
    /// The source's name when left out.
    target_table: Option<String>,
    /// The configuration's when left out.
    sync_mode: Option<SyncMode>,
    #[serde(default = "yes")]
    enabled: bool,
}

#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SyncOptions {
    batch_size: Option<u32>,
    /// Tables copied at once; the server's `workers` setting decides it for every pair,
    /// so a value here is reported back as not applied.
    #[serde(skip_serializing_if = "Option::is_none")]
    max_concurrency: Option<u32>,
    /// Compression of the remote connection: `?compress=true` on its URL; a value here
    /// is reported back as not applied.
    #[serde(skip_serializing_if = "Option::is_none")]
    enable_compression: Option<bool>,
    conflict_resolution: Option<SeedResolution>,
}

/// Seed 002's names for who wins a conflict.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum SeedResolution {
    /// The remote (source) side wins.
    Overwrite,
    LastWriteWins,
    TargetPriority,
    Manual,
}

impl From<SeedResolution> for ConflictResolution {
    fn from(resolution: SeedResolution) -> Self {
        match resolution {
            SeedResolution::Overwrite => ConflictResolution::SourcePriority,
            SeedResolution::LastWriteWins => ConflictResolution::LastWriteWins,
            SeedResolution::TargetPriority => ConflictResolution::TargetPriority,
            SeedResolution::Manual => ConflictResolution::Manual,
        }
    }
}

impl From<ConflictResolution> for SeedResolution {
    fn from(resolution: ConflictResolution) -> Self {
        match resolution {
            ConflictResolution::SourcePriority => SeedResolution::Overwrite,
            ConflictResolution::LastWriteWins => SeedResolution::LastWriteWins,
            ConflictResolution::TargetPriority => SeedResolution::TargetPriority,
            ConflictResolution::Manual => SeedResolution::Manual,
        }
    }
}

/// A sync configuration as stored.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SyncConfigView {
    /// What the jobs call it (`config_id`).
    id: String,
    connection_id: String,
    sync_mode: SyncMode,
    enabled: bool,
    tables: Vec<SyncTable>,
    options: SyncOptions,
    /// Settings of the request this server does not apply as asked, and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    not_applied: Vec<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl SyncConfig {
    /// The pair it describes, and what of it is not applied.
    fn pair(&self) -> Result<(Pair, Vec<String>), ApiError> {
        let mut pair = Pair::new(&self.connection_id, local_id(&self.connection_id));
        pair.enabled = self.enabled;
        pair.capture = self.sync_mode.capture();
        if let Some(batch_size) = self.options.batch_size {
            pair.batch_size = batch_size;
        }
        if let Some(resolution) = self.options.conflict_resolution {
            pair.conflict_resolution = resolution.into();
        }
        // Without tables, every table of the database, as `Pair::new` selects.
        if !self.tables.is_empty() {
            pair.tables.clear();
        }
        for table in &self.tables {
            let name = Glob::parse(&table.source_table).map_err(|error| {
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "unprocessable",
                    format!("tables: `{}` {error}", table.source_table),
                )
            })?;
            let mut options = TableOptions::new(name);
            options.target = table.target_table.clone();
            options.capture = table.sync_mode.and_then(SyncMode::capture);
            options.enabled = table.enabled;
            pair.tables.push(TableRule::Table(options));
        }
        let mut not_applied = Vec::new();
        if let Some(concurrency) = self.options.max_concurrency {
            not_applied.push(format!("options.max_concurrency {concurrency}: the server's `workers` setting sets it for every pair"));
        }
        if let Some(compression) = self.options.enable_compression {
            not_applied.push(format!("options.enable_compression {compression}: compression is a setting of the connection, `?compress=true` on its URL"));
        }
        Ok((pair, not_applied))
    }
}

fn view(record: PairRecord, not_applied: Vec<String>) -> SyncConfigView {
    let pair = record.definition;
    SyncConfigView {
        id: record.name,
        connection_id: pair.source,
        sync_mode: SyncMode::of(pair.capture),
        enabled: pair.enabled,
        tables: pair
            .tables
            .into_iter()
            .map(|rule| match rule {
                TableRule::Glob(glob) => SyncTable {
                    source_table: glob.pattern().to_owned(),
                    target_table: None,
                    sync_mode: None,
                    enabled: !glob.is_exclusion(),
                },
                TableRule::Table(options) => SyncTable {
                    source_table: options.name.as_str().to_owned(),
                    target_table: options.target,
                    sync_mode: options.capture.map(|capture| SyncMode::of(Some(capture))),
                    enabled: options.enabled,
                },
            })
            .collect(),
        options: SyncOptions {
            batch_size: Some(pair.batch_size),
            max_concurrency: None,
            enable_compression: None,
            conflict_resolution: Some(pair.conflict_resolution.into()),
        },
        not_applied,
        created_at: record.created_at,
        updated_at: record.updated_at,
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub(crate) struct ByConnection {
    /// Only the configurations of this connection.
    connection_id: Option<String>,
}

#[utoipa::path(get, path = "/api/sync/configs", tag = "seed 002", params(ByConnection),
    responses((status = 200, body = [SyncConfigView]), (status = 400, body = ErrorBody)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    QueryParams(filter): QueryParams<ByConnection>,
) -> ApiResult<Vec<SyncConfigView>> {
    let views = state
        .store
        .pairs()
        .await?
        .into_iter()
        .filter(|record| {
            filter
                .connection_id
                .as_ref()
                .is_none_or(|connection| &record.definition.source == connection)
        })
        .map(|record| view(record, Vec::new()))
        .collect();
    Ok(Json(views))
}

#[utoipa::path(post, path = "/api/sync/configs", tag = "seed 002", request_body = SyncConfig,
    responses(
        (status = 201, body = SyncConfigView),
        (status = 400, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(crate) async fn create(
    State(state): State<AppState>,
    JsonBody(new): JsonBody<SyncConfig>,
) -> Result<(StatusCode, Json<SyncConfigView>), ApiError> {
    let id = id_of(&new.name)?;
    let (pair, not_applied) = new.pair()?;
    let record = state.store.create_pair(id, pair).await?;
    state.supervisor.reload();
    Ok((StatusCode::CREATED, Json(view(record, not_applied))))
}

#[utoipa::path(get, path = "/api/sync/configs/{id}", tag = "seed 002",
    params(("id" = String, Path, description = "The configuration's id.")),
    responses((status = 200, body = SyncConfigView), (status = 404, body = ErrorBody)))]
pub(crate) async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<SyncConfigView> {
    Ok(Json(view(state.store.pair(id).await?, Vec::new())))
}

#[utoipa::path(put, path = "/api/sync/configs/{id}", tag = "seed 002", request_body = SyncConfig,
    params(("id" = String, Path, description = "The configuration's id.")),
    responses(
        (status = 200, description = "Changed; a job running restarts with the change.", body = SyncConfigView),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(crate) async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(changed): JsonBody<SyncConfig>,
) -> ApiResult<SyncConfigView> {
    let (pair, not_applied) = changed.pair()?;
    let record = state.store.update_pair(id, pair).await?;
    state.supervisor.reload();
    Ok(Json(view(record, not_applied)))
}

#[utoipa::path(delete, path = "/api/sync/configs/{id}", tag = "seed 002",
    params(("id" = String, Path, description = "The configuration's id.")),
    responses(
        (status = 204, description = "Removed with its jobs."),
        (status = 404, body = ErrorBody),
        (status = 409, description = "A job of it is running.", body = ErrorBody)))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.store.delete_pair(id).await?;
    state.supervisor.reload();
    Ok(StatusCode::NO_CONTENT)
}
