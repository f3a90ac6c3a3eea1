//! `/api/v1/pairs`: sync pairs, their runs and their tables.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use dbsync_config::Pair;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::error::{ApiError, ApiResult, ErrorBody, JsonBody, QueryParams};
use crate::store::{PairRecord, RunRecord, TableState};

/// A pair to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewPair {
    /// `[a-z0-9_-]+`, as under `pairs:` in `dbsync.yaml`.
    name: String,
    /// The pair as `dbsync.yaml` writes it under `pairs.<name>`.
    #[schema(value_type = Object, example = json!({"source": "shop", "target": "analytics"}))]
    definition: Pair,
}

#[derive(Debug, Deserialize, IntoParams)]
pub(crate) struct Page {
    /// At most this many runs, newest first (default 50, at most 1000).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
}

impl Page {
    pub(crate) fn limit(&self) -> Result<u32, ApiError> {
        match self.limit.unwrap_or(50) {
            limit @ 1..=1000 => Ok(limit),
            limit => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_request",
                format!("`limit` is {limit}; ask for 1 to 1000 runs"),
            )),
        }
    }
}

#[utoipa::path(get, path = "/api/v1/pairs", tag = "pairs",
    responses((status = 200, body = [PairRecord])))]
pub(crate) async fn list(State(state): State<AppState>) -> ApiResult<Vec<PairRecord>> {
    Ok(Json(state.store.pairs().await?))
}

#[utoipa::path(post, path = "/api/v1/pairs", tag = "pairs", request_body = NewPair,
    responses(
        (status = 201, body = PairRecord),
        (status = 400, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(crate) async fn create(
    State(state): State<AppState>,
    JsonBody(new): JsonBody<NewPair>,
) -> Result<(StatusCode, Json<PairRecord>), ApiError> {
    let record = state.store.create_pair(new.name, new.definition).await?;
    state.supervisor.reload();
    Ok((StatusCode::CREATED, Json(record)))
}

#[utoipa::path(get, path = "/api/v1/pairs/{name}", tag = "pairs",
    params(("name" = String, Path, description = "The pair's name.")),
    responses((status = 200, body = PairRecord), (status = 404, body = ErrorBody)))]
pub(crate) async fn get(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<PairRecord> {
    Ok(Json(state.store.pair(name).await?))
}

#[utoipa::path(delete, path = "/api/v1/pairs/{name}", tag = "pairs",
    params(("name" = String, Path, description = "The pair's name.")),
    responses(
        (status = 204, description = "Removed with its history."),
        (status = 404, body = ErrorBody),
        (status = 409, description = "It is running.", body = ErrorBody)))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.store.delete_pair(name).await?;
    state.supervisor.reload();
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/pairs/{name}/enable", tag = "pairs",
    params(("name" = String, Path, description = "The pair's name.")),
    responses((status = 200, body = PairRecord), (status = 404, body = ErrorBody)))]
pub(crate) async fn enable(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<PairRecord> {
    let record = state.store.set_pair_enabled(name, true).await?;
    state.supervisor.reload();
    Ok(Json(record))
}

#[utoipa::path(post, path = "/api/v1/pairs/{name}/disable", tag = "pairs",
    params(("name" = String, Path, description = "The pair's name.")),
    responses((status = 200, body = PairRecord), (status = 404, body = ErrorBody)))]
pub(crate) async fn disable(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<PairRecord> {
    let record = state.store.set_pair_enabled(name, false).await?;
    state.supervisor.reload();
    Ok(Json(record))
}

#[utoipa::path(get, path = "/api/v1/pairs/{name}/runs", tag = "pairs",
    params(("name" = String, Path, description = "The pair's name."), Page),
    responses((status = 200, body = [RunRecord]), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(crate) async fn runs(
    State(state): State<AppState>,
    Path(name): Path<String>,
    QueryParams(page): QueryParams<Page>,
) -> ApiResult<Vec<RunRecord>> {
    Ok(Json(state.store.runs(name, page.limit()?).await?))
}

#[utoipa::path(get, path = "/api/v1/pairs/{name}/tables", tag = "pairs",
    params(("name" = String, Path, description = "The pair's name.")),
    responses((status = 200, body = [TableState]), (status = 404, body = ErrorBody)))]
pub(crate) async fn tables(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<Vec<TableState>> {
    Ok(Json(state.store.table_states(name).await?))
}
