//! Seed 001's `/api/v1/sync/*`, `/api/v1/conflicts` and `/api/v1/config`, and the runs.
//!
//! Starting and stopping runs goes through the supervisor, which owns them.

use std::convert::Infallible;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::Stream;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::error::{ApiError, ApiResult, ErrorBody, JsonBody, QueryParams};
use super::pairs::Page;
use crate::events::Event;
use crate::lifecycle::RunId;
use crate::store::{Conflict, ConflictResolution, PairStatus, RunLogLine, RunRecord};

#[utoipa::path(get, path = "/api/v1/sync/status", tag = "sync",
    responses((status = 200, description = "Every pair with its state and latest run.", body = [PairStatus])))]
pub(crate) async fn status(State(state): State<AppState>) -> ApiResult<Vec<PairStatus>> {
    Ok(Json(state.store.status().await?))
}

#[utoipa::path(get, path = "/api/v1/sync/history", tag = "sync", params(Page),
    responses((status = 200, description = "Runs of every pair, newest first.", body = [RunRecord]),
        (status = 400, body = ErrorBody)))]
pub(crate) async fn history(
    State(state): State<AppState>,
    QueryParams(page): QueryParams<Page>,
) -> ApiResult<Vec<RunRecord>> {
    Ok(Json(state.store.history(page.limit()?).await?))
}

#[utoipa::path(get, path = "/api/v1/runs/{id}", tag = "sync",
    params(("id" = String, Path, description = "The run's id.")),
    responses((status = 200, body = RunRecord), (status = 404, body = ErrorBody)))]
pub(crate) async fn run(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<RunRecord> {
    Ok(Json(state.store.run(id).await?))
}

#[utoipa::path(get, path = "/api/v1/runs/{id}/logs", tag = "sync",
    params(("id" = String, Path, description = "The run's id.")),
    responses((status = 200, body = [RunLogLine]), (status = 404, body = ErrorBody)))]
pub(crate) async fn run_logs(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Vec<RunLogLine>> {
    Ok(Json(state.store.run_logs(id).await?))
}

#[utoipa::path(get, path = "/api/v1/conflicts", tag = "conflicts",
    responses((status = 200, description = "Unresolved conflicts, oldest first.", body = [Conflict])))]
pub(crate) async fn conflicts(State(state): State<AppState>) -> ApiResult<Vec<Conflict>> {
    Ok(Json(state.store.unresolved_conflicts().await?))
}

/// Which pair a start or stop is for.
#[derive(Debug, Deserialize, IntoParams)]
pub(crate) struct PairChoice {
    /// The pair's name; may be left out when the server has one pair.
    pair: Option<String>,
}

impl PairChoice {
    /// The pair named, or the only one.
    async fn resolve(self, state: &AppState) -> Result<String, ApiError> {
        if let Some(pair) = self.pair {
            return Ok(pair);
        }
        let pairs = state.store.pairs().await?;
        match &pairs[..] {
            [only] => Ok(only.name.clone()),
            _ => Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unprocessable",
                format!(
                    "the server has {} pairs; name one with `?pair=NAME`",
                    pairs.len()
                ),
            )),
        }
    }
}

/// A run a start or stop is about.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RunRef {
    pair: String,
    run: RunId,
}

#[utoipa::path(post, path = "/api/v1/sync/trigger", tag = "sync", params(PairChoice),
    responses(
        (status = 202, description = "The run started.", body = RunRef),
        (status = 404, body = ErrorBody),
        (status = 409, description = "It runs already, or is disabled.", body = ErrorBody),
        (status = 422, description = "No pair named, and the server has several.", body = ErrorBody)))]
pub(crate) async fn trigger(
    State(state): State<AppState>,
    QueryParams(choice): QueryParams<PairChoice>,
) -> Result<(StatusCode, Json<RunRef>), ApiError> {
    let pair = choice.resolve(&state).await?;
    let run = state.supervisor.start(pair.clone()).await?;
    Ok((StatusCode::ACCEPTED, Json(RunRef { pair, run })))
}

#[utoipa::path(post, path = "/api/v1/sync/stop", tag = "sync", params(PairChoice),
    responses(
        (status = 202, description = "The run is stopping; it ends `stopped` after its batch in flight.", body = RunRef),
        (status = 404, body = ErrorBody),
        (status = 409, description = "It is not running.", body = ErrorBody),
        (status = 422, description = "No pair named, and the server has several.", body = ErrorBody)))]
pub(crate) async fn stop(
    State(state): State<AppState>,
    QueryParams(choice): QueryParams<PairChoice>,
) -> Result<(StatusCode, Json<RunRef>), ApiError> {
    let pair = choice.resolve(&state).await?;
    let run = state.supervisor.stop(pair.clone()).await?;
    Ok((StatusCode::ACCEPTED, Json(RunRef { pair, run })))
}

#[utoipa::path(get, path = "/api/v1/sync/stream", tag = "sync",
    responses((status = 200, description = "Server-sent events: each `event:` is the `type` of its JSON `data:`.", content_type = "text/event-stream", body = Event)))]
pub(crate) async fn stream(
    State(state): State<AppState>,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let events = futures_util::stream::unfold(state.events.listen(), |mut listener| async move {
        let event = listener.next().await?;
        Some((Ok(sse_event(&event)), listener))
    });
    Sse::new(events).keep_alive(KeepAlive::default())
}

fn sse_event(event: &Event) -> SseEvent {
    let named = SseEvent::default().event(event.name());
    match serde_json::to_string(event) {
        Ok(data) => named.data(data),
        Err(error) => named.comment(format!("an event could not be written as JSON: {error}")),
    }
}

/// How a conflict is settled.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Resolution {
    /// Which version wins: `source`, `target`, or `custom` with `row`.
    resolution: ConflictResolution,
    /// The row to keep, for `custom` only.
    #[schema(value_type = Option<Object>)]
    row: Option<serde_json::Value>,
}

#[utoipa::path(post, path = "/api/v1/conflicts/{id}/resolve", tag = "conflicts",
    params(("id" = String, Path, description = "The conflict's id.")),
    request_body = Resolution,
    responses(
        (status = 200, description = "The choice recorded, and the conflict no longer listed as unresolved. The rows are written by the bidirectional engine, which this version does not have: one-way pairs record no conflicts.", body = Conflict),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "It is resolved already.", body = ErrorBody),
        (status = 422, description = "`row` without `custom`, or `custom` without `row`.", body = ErrorBody)))]
pub(crate) async fn resolve(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(choice): JsonBody<Resolution>,
) -> ApiResult<Conflict> {
    if (choice.resolution == ConflictResolution::Custom) != choice.row.is_some() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unprocessable",
            "send `row` exactly with the resolution `custom`: the row to keep",
        ));
    }
    Ok(Json(
        state
            .store
            .resolve_conflict(id, choice.resolution, choice.row)
            .await?,
    ))
}
