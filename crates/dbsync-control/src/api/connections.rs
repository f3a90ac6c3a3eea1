//! `/api/v1/connections`: the databases pairs read and write.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use dbsync_config::ConnectionUrl;
use serde::Deserialize;
use utoipa::ToSchema;

use super::AppState;
use super::error::{ApiError, ApiResult, ErrorBody, JsonBody};
use crate::store::ConnectionRecord;

/// A connection to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewConnection {
    /// `[a-z0-9_-]+`, as under `connections:` in `dbsync.yaml`.
    name: String,
    /// `mysql://`, `mariadb://`, `postgres://` or `sqlite://PATH`, with the password.
    #[schema(value_type = String, example = "mysql://repl:secret@127.0.0.1:3306/shop")]
    url: ConnectionUrl,
}

#[utoipa::path(get, path = "/api/v1/connections", tag = "connections",
    responses((status = 200, description = "The connections, by name; passwords masked.", body = [ConnectionRecord])))]
pub(crate) async fn list(State(state): State<AppState>) -> ApiResult<Vec<ConnectionRecord>> {
    Ok(Json(state.store.connections().await?))
}

#[utoipa::path(post, path = "/api/v1/connections", tag = "connections", request_body = NewConnection,
    responses(
        (status = 201, description = "Added; the password masked.", body = ConnectionRecord),
        (status = 400, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(crate) async fn create(
    State(state): State<AppState>,
    JsonBody(new): JsonBody<NewConnection>,
) -> Result<(StatusCode, Json<ConnectionRecord>), ApiError> {
    let record = state.store.create_connection(new.name, new.url).await?;
    Ok((StatusCode::CREATED, Json(record)))
}

#[utoipa::path(get, path = "/api/v1/connections/{name}", tag = "connections",
    params(("name" = String, Path, description = "The connection's name.")),
    responses((status = 200, body = ConnectionRecord), (status = 404, body = ErrorBody)))]
pub(crate) async fn get(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<ConnectionRecord> {
    Ok(Json(state.store.connection(name).await?))
}

#[utoipa::path(delete, path = "/api/v1/connections/{name}", tag = "connections",
    params(("name" = String, Path, description = "The connection's name.")),
    responses(
        (status = 204, description = "Removed."),
        (status = 404, body = ErrorBody),
        (status = 409, description = "A pair still uses it.", body = ErrorBody)))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.store.delete_connection(name).await?;
    Ok(StatusCode::NO_CONTENT)
}
