//! Seed 001's `GET|PUT /api/v1/config`: the connections and pairs of the state store, in
//! the shape of `dbsync.yaml`'s `connections:` and `pairs:`.
//!
//! A PUT changes the same state as the command line and the file: it adds what the
//! store lacks and replaces what it holds under the same name (as `dbsync serve` does
//! with the file at start); it removes nothing.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use dbsync_config::{Config, Connection, MASK, Pair};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::AppState;
use super::error::{ApiError, ApiResult, ErrorBody, JsonBody};

/// Connections (passwords masked on the way out) and pairs, by name.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Declared {
    #[serde(default)]
    #[schema(value_type = Object, example = json!({"shop": {"url": "mysql://repl:***@127.0.0.1:3306/shop"}}))]
    connections: BTreeMap<String, Connection>,
    #[serde(default)]
    #[schema(value_type = Object, example = json!({"shop-analytics": {"source": "shop", "target": "analytics"}}))]
    pairs: BTreeMap<String, Pair>,
}

async fn declared(state: &AppState) -> Result<Declared, ApiError> {
    let connections = state
        .store
        .connections()
        .await?
        .into_iter()
        .map(|record| (record.name, Connection { url: record.url }))
        .collect();
    let pairs = state
        .store
        .pairs()
        .await?
        .into_iter()
        .map(|record| (record.name, record.definition))
        .collect();
    Ok(Declared { connections, pairs })
}

#[utoipa::path(get, path = "/api/v1/config", tag = "config",
    responses((status = 200, description = "Passwords masked.", body = Declared)))]
pub(crate) async fn get(State(state): State<AppState>) -> ApiResult<Declared> {
    Ok(Json(declared(&state).await?))
}

#[utoipa::path(put, path = "/api/v1/config", tag = "config", request_body = Declared,
    responses(
        (status = 200, description = "The whole configuration after the change; passwords masked.", body = Declared),
        (status = 400, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(crate) async fn put(
    State(state): State<AppState>,
    JsonBody(change): JsonBody<Declared>,
) -> ApiResult<Declared> {
    // A connection sent back as GET gave it would replace its password by the mask.
    if let Some(name) = change.connections.iter().find_map(|(name, connection)| {
        (connection.url.password().map(|p| p.expose()) == Some(MASK)).then_some(name)
    }) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unprocessable",
            format!(
                "connection `{name}` has the mask `{MASK}` as its password; send its real password, or leave the connection out to keep it"
            ),
        ));
    }
    let config = Config {
        connections: change.connections,
        pairs: change.pairs,
        ..Config::default()
    };
    state.store.declare(&config).await?;
    state.supervisor.reload();
    Ok(Json(declared(&state).await?))
}
