//! Seed 002's `/api/sync/jobs`: a job is a run of a sync configuration's pair, started
//! and stopped through the supervisor.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;

use super::AppState;
use super::error::{ApiError, ApiResult, ErrorBody, JsonBody, QueryParams};
use super::pairs::Page;
use crate::error::Error;
use crate::lifecycle::RunState;
use crate::store::{RunLogLine, RunRecord};

/// A job to start.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewJob {
    /// The sync configuration's id.
    config_id: String,
}

#[utoipa::path(get, path = "/api/sync/jobs", tag = "seed 002", params(Page),
    responses((status = 200, description = "Jobs of every configuration, newest first.", body = [RunRecord]),
        (status = 400, body = ErrorBody)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    QueryParams(page): QueryParams<Page>,
) -> ApiResult<Vec<RunRecord>> {
    Ok(Json(state.store.history(page.limit()?).await?))
}

#[utoipa::path(post, path = "/api/sync/jobs", tag = "seed 002", request_body = NewJob,
    responses(
        (status = 201, description = "Started; `pair` is the configuration's id.", body = RunRecord),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "A job of the configuration is running, or it is disabled.", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub(crate) async fn start(
    State(state): State<AppState>,
    JsonBody(new): JsonBody<NewJob>,
) -> Result<(StatusCode, Json<RunRecord>), ApiError> {
    let run = state.supervisor.start(new.config_id).await?;
    Ok((
        StatusCode::CREATED,
        Json(state.store.run(run.as_str()).await?),
    ))
}

#[utoipa::path(get, path = "/api/sync/jobs/{id}", tag = "seed 002",
    params(("id" = String, Path, description = "The job's id.")),
    responses((status = 200, body = RunRecord), (status = 404, body = ErrorBody)))]
pub(crate) async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<RunRecord> {
    Ok(Json(state.store.run(id).await?))
}

#[utoipa::path(post, path = "/api/sync/jobs/{id}/stop", tag = "seed 002",
    params(("id" = String, Path, description = "The job's id.")),
    responses(
        (status = 202, description = "Stopping; it ends `stopped` after its batch in flight.", body = RunRecord),
        (status = 404, body = ErrorBody),
        (status = 409, description = "It is not running.", body = ErrorBody)))]
pub(crate) async fn stop(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<RunRecord>), ApiError> {
    let run = state.store.run(id.clone()).await?;
    if run.state != RunState::Running {
        return Err(Error::conflict(format!(
            "job {id} is not running: it ended {}",
            run.state.as_str()
        ))
        .into());
    }
    state.supervisor.stop(run.pair.clone()).await?;
    Ok((StatusCode::ACCEPTED, Json(run)))
}

#[utoipa::path(get, path = "/api/sync/jobs/{id}/logs", tag = "seed 002",
    params(("id" = String, Path, description = "The job's id.")),
    responses((status = 200, body = [RunLogLine]), (status = 404, body = ErrorBody)))]
pub(crate) async fn logs(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Vec<RunLogLine>> {
    Ok(Json(state.store.run_logs(id).await?))
}
