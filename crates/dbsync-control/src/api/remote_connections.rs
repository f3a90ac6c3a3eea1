//! Seed 002's `/api/sync/connections`: a remote MySQL database, given by its parts, and
//! the local database it is synced into.
//!
//! Each is two connections of the store: `ID` for the remote database and `ID-local`
//! for `local_db_name`, on the local MySQL (localhost:3306, the same account), which
//! the CLI can change. `ID` is the name lower-cased, with dashes for other characters.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use dbsync_config::ConnectionUrl;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::AppState;
use super::error::{ApiError, ApiResult, ErrorBody, JsonBody};
use crate::store::ConnectionRecord;

/// A remote database as seed 002 describes it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RemoteConnection {
    /// Its id is this name, lower-cased, with dashes for other characters.
    #[schema(example = "Production DB")]
    name: String,
    host: String,
    /// 3306 when left out.
    port: Option<u16>,
    username: String,
    password: Option<String>,
    database: String,
    /// The local database it is synced into, on localhost:3306.
    local_db_name: Option<String>,
    /// Requires TLS to the remote database.
    #[serde(default)]
    ssl: bool,
}

/// A remote database as stored; the password is never returned.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct RemoteConnectionView {
    /// What the other endpoints call it (`connection_id`).
    id: String,
    host: Option<String>,
    port: Option<u16>,
    username: Option<String>,
    has_password: bool,
    database: Option<String>,
    local_db_name: Option<String>,
    ssl: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// The id seed 002 names a connection by: `Production DB` is `production-db`.
pub(crate) fn id_of(name: &str) -> Result<String, ApiError> {
    let mut id = String::new();
    for c in name.trim().chars() {
        if c.is_ascii_alphanumeric() {
            id.push(c.to_ascii_lowercase());
        } else if !id.ends_with('-') {
            id.push('-');
        }
    }
    let id = id.trim_matches('-').to_owned();
    if id.is_empty() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unprocessable",
            format!(
                "the connection name `{name}` has no letter or digit; give it a name like `Production DB`"
            ),
        ));
    }
    Ok(id)
}

pub(crate) fn local_id(id: &str) -> String {
    format!("{id}-local")
}

/// Percent-encodes what may not stand in a URL's user or password as it is.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl RemoteConnection {
    /// The URLs of the remote and of the local database.
    fn urls(&self) -> Result<(ConnectionUrl, Option<ConnectionUrl>), ApiError> {
        let account = match &self.password {
            Some(password) => format!("{}:{}", encode(&self.username), encode(password)),
            None => encode(&self.username),
        };
        let tls = if self.ssl { "?ssl-mode=REQUIRED" } else { "" };
        let port = self.port.unwrap_or(3306);
        let remote = parse(&format!(
            "mysql://{account}@{}:{port}/{}{tls}",
            self.host, self.database
        ))?;
        let local = self
            .local_db_name
            .as_ref()
            .map(|local| parse(&format!("mysql://{account}@localhost:3306/{local}")))
            .transpose()?;
        Ok((remote, local))
    }
}

/// A URL built from the request's parts; the error never quotes it (it holds the
/// password).
fn parse(url: &str) -> Result<ConnectionUrl, ApiError> {
    ConnectionUrl::parse(url).map_err(|error| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unprocessable",
            format!("the host, port, database or local_db_name do not make a database URL: {error}; correct them"),
        )
    })
}

fn view(remote: ConnectionRecord, local: Option<ConnectionRecord>) -> RemoteConnectionView {
    let url = &remote.url;
    RemoteConnectionView {
        host: url.host().map(str::to_owned),
        port: url.port_or_default(),
        username: url.user().map(str::to_owned),
        has_password: url.password().is_some(),
        database: url.database().map(str::to_owned),
        local_db_name: local.and_then(|local| local.url.database().map(str::to_owned)),
        ssl: url.param("ssl-mode").is_some(),
        id: remote.name,
        created_at: remote.created_at,
        updated_at: remote.updated_at,
    }
}

async fn find(state: &AppState, id: String) -> Result<RemoteConnectionView, ApiError> {
    let local = state.store.connection(local_id(&id)).await.ok();
    Ok(view(state.store.connection(id).await?, local))
}

#[utoipa::path(get, path = "/api/sync/connections", tag = "seed 002",
    responses((status = 200, description = "Every connection but the local ones.", body = [RemoteConnectionView])))]
pub(crate) async fn list(State(state): State<AppState>) -> ApiResult<Vec<RemoteConnectionView>> {
    let all = state.store.connections().await?;
    let local = |name: &str| {
        all.iter()
            .find(|record| record.name == local_id(name))
            .cloned()
    };
    let views = all
        .iter()
        .filter(|record| !record.name.ends_with("-local"))
        .map(|record| view(record.clone(), local(&record.name)))
        .collect();
    Ok(Json(views))
}

#[utoipa::path(post, path = "/api/sync/connections", tag = "seed 002", request_body = RemoteConnection,
    responses(
        (status = 201, body = RemoteConnectionView),
        (status = 400, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(crate) async fn create(
    State(state): State<AppState>,
    JsonBody(new): JsonBody<RemoteConnection>,
) -> Result<(StatusCode, Json<RemoteConnectionView>), ApiError> {
    let id = id_of(&new.name)?;
    let (remote, local) = new.urls()?;
    let remote = state.store.create_connection(id.clone(), remote).await?;
    let local = match local {
        Some(url) => match state.store.create_connection(local_id(&id), url).await {
            Ok(local) => Some(local),
            Err(error) => {
                // All or nothing: the remote half goes with the refusal.
                state.store.delete_connection(id).await?;
                return Err(error.into());
            }
        },
        None => None,
    };
    Ok((StatusCode::CREATED, Json(view(remote, local))))
}

#[utoipa::path(get, path = "/api/sync/connections/{id}", tag = "seed 002",
    params(("id" = String, Path, description = "The connection's id.")),
    responses((status = 200, body = RemoteConnectionView), (status = 404, body = ErrorBody)))]
pub(crate) async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<RemoteConnectionView> {
    Ok(Json(find(&state, id).await?))
}

#[utoipa::path(put, path = "/api/sync/connections/{id}", tag = "seed 002", request_body = RemoteConnection,
    params(("id" = String, Path, description = "The connection's id; the name in the body must give the same.")),
    responses(
        (status = 200, body = RemoteConnectionView),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(crate) async fn update(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(changed): JsonBody<RemoteConnection>,
) -> ApiResult<RemoteConnectionView> {
    if id_of(&changed.name)? != id {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unprocessable",
            format!(
                "the name `{}` does not give the id `{id}`; a connection cannot be renamed, add a new one instead",
                changed.name
            ),
        ));
    }
    let (remote, local) = changed.urls()?;
    state.store.update_connection(id.clone(), remote).await?;
    if let Some(url) = local {
        match state
            .store
            .update_connection(local_id(&id), url.clone())
            .await
        {
            Err(error) if error.kind() == crate::error::ErrorKind::NotFound => {
                state.store.create_connection(local_id(&id), url).await?;
            }
            other => {
                other?;
            }
        }
    }
    state.supervisor.reload();
    Ok(Json(find(&state, id).await?))
}

#[utoipa::path(delete, path = "/api/sync/connections/{id}", tag = "seed 002",
    params(("id" = String, Path, description = "The connection's id.")),
    responses(
        (status = 204, description = "Removed, with its local connection."),
        (status = 404, body = ErrorBody),
        (status = 409, description = "A sync configuration still uses it.", body = ErrorBody)))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.store.delete_connection(id.clone()).await?;
    match state.store.delete_connection(local_id(&id)).await {
        Err(error) if error.kind() != crate::error::ErrorKind::NotFound => Err(error.into()),
        _ => Ok(StatusCode::NO_CONTENT),
    }
}

/// What a connection test found.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ConnectionTest {
    id: String,
    /// The engine and version that answered.
    #[schema(example = "MySQL/MariaDB 11.4.2")]
    server: String,
}

#[utoipa::path(post, path = "/api/sync/connections/{id}/test", tag = "seed 002",
    params(("id" = String, Path, description = "The connection's id.")),
    responses(
        (status = 200, description = "The remote database answered.", body = ConnectionTest),
        (status = 404, body = ErrorBody),
        (status = 422, description = "It did not answer; the message says why.", body = ErrorBody)))]
pub(crate) async fn test(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<ConnectionTest> {
    let record = state.store.connection(id).await?;
    let server = state
        .supervisor
        .test(record.name.clone(), record.url)
        .await?;
    Ok(Json(ConnectionTest {
        id: record.name,
        server,
    }))
}
