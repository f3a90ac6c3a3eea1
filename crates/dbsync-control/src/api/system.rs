//! Seed 002's `/api/sync/status` and `/api/sync/stats`: the sync system as a whole.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use super::AppState;
use super::error::ApiResult;
use crate::lifecycle::PairState;
use crate::store::Stats;

/// Whether the sync system is healthy: its store answers and no pair's latest run failed.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SystemStatus {
    /// `ok`, or `degraded` when a pair's latest run failed.
    status: &'static str,
    schema_version: u32,
    pairs: usize,
    running: usize,
    /// The pairs whose latest run failed.
    failed: Vec<String>,
}

#[utoipa::path(get, path = "/api/sync/status", tag = "seed 002",
    responses((status = 200, body = SystemStatus)))]
pub(crate) async fn status(State(state): State<AppState>) -> ApiResult<SystemStatus> {
    let pairs = state.store.status().await?;
    let failed: Vec<String> = pairs
        .iter()
        .filter(|pair| pair.state == PairState::Failed)
        .map(|pair| pair.pair.clone())
        .collect();
    Ok(Json(SystemStatus {
        status: if failed.is_empty() { "ok" } else { "degraded" },
        schema_version: state.store.schema_version().await?,
        running: pairs
            .iter()
            .filter(|pair| pair.state == PairState::Running)
            .count(),
        pairs: pairs.len(),
        failed,
    }))
}

#[utoipa::path(get, path = "/api/sync/stats", tag = "seed 002",
    responses((status = 200, body = Stats)))]
pub(crate) async fn stats(State(state): State<AppState>) -> ApiResult<Stats> {
    Ok(Json(state.store.stats().await?))
}
