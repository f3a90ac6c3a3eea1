//! The REST API (PRODUCT.md §7) over the state store and the metrics.
//!
//! Routes and their OpenAPI description come from the same `#[utoipa::path]`
//! annotations through `utoipa_axum`'s router, so that `/api/v1/openapi.json` cannot
//! drift from what is served.

mod auth;
mod config;
mod configs;
mod connections;
mod error;
mod jobs;
mod pairs;
mod remote_connections;
mod sync;
mod system;

use std::future::Future;

use axum::Json;
use axum::extract::State;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Router, middleware};
use serde::Serialize;
use tokio::net::TcpListener;
use tower_http::cors::CorsLayer;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::control::Control;
use crate::error::{Error, Result};
use crate::events::Events;
use error::ApiError;

type AppState = Control;

#[derive(OpenApi)]
#[openapi(
    info(title = "dbsync", description = "The REST API of `dbsync serve` (PRODUCT.md §7)."),
    modifiers(&BearerToken),
    security(("bearer" = [])),
)]
struct ApiDoc;

struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        openapi
            .components
            .get_or_insert_default()
            .add_security_scheme(
                "bearer",
                SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
            );
    }
}

/// The API's router over `control`, with the settings of `server:`
/// (bearer token, CORS origins). Without `auth_token` every route is open: for a server
/// on loopback, as seed 002's examples call it.
pub fn router(control: Control, server: &dbsync_config::Server) -> Result<Router> {
    let (api, openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(connections::list, connections::create))
        .routes(routes!(connections::get, connections::delete))
        .routes(routes!(pairs::list, pairs::create))
        .routes(routes!(pairs::get, pairs::delete))
        .routes(routes!(pairs::enable))
        .routes(routes!(pairs::disable))
        .routes(routes!(pairs::runs))
        .routes(routes!(pairs::tables))
        .routes(routes!(sync::status))
        .routes(routes!(sync::history))
        .routes(routes!(sync::trigger))
        .routes(routes!(sync::stop))
        .routes(routes!(sync::stream))
        .routes(routes!(sync::run))
        .routes(routes!(sync::run_logs))
        .routes(routes!(sync::conflicts))
        .routes(routes!(sync::resolve))
        .routes(routes!(config::get, config::put))
        .routes(routes!(metrics_text))
        .routes(routes!(
            remote_connections::list,
            remote_connections::create
        ))
        .routes(routes!(
            remote_connections::get,
            remote_connections::update,
            remote_connections::delete
        ))
        .routes(routes!(remote_connections::test))
        .routes(routes!(configs::list, configs::create))
        .routes(routes!(configs::get, configs::update, configs::delete))
        .routes(routes!(jobs::list, jobs::start))
        .routes(routes!(jobs::get))
        .routes(routes!(jobs::stop))
        .routes(routes!(jobs::logs))
        .routes(routes!(system::status))
        .routes(routes!(system::stats))
        .split_for_parts();
    let mut protected = api
        .route("/metrics", get(metrics_text))
        .route(
            "/api/v1/openapi.json",
            get(move || async move { Json(openapi) }),
        )
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed);
    match server.auth_token.clone() {
        Some(token) => {
            protected = protected.layer(middleware::from_fn_with_state(token, auth::require_token));
        }
        None => tracing::warn!(
            "server.auth_token is not set: the API answers anyone who can reach {}; set a token before listening beyond loopback",
            server.listen
        ),
    }
    let router = Router::new()
        .route("/health", get(health))
        .merge(protected)
        .with_state(control)
        .layer(
            // Method, path and status at info; headers (the token) are never logged.
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(tracing::Level::INFO))
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .layer(cors(&server.cors_origins)?);
    Ok(router)
}

/// Serves `router` on `listener` until `shutdown` completes, then closes `events` (which
/// ends the SSE streams) and lets requests in flight finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    events: Events,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            shutdown.await;
            events.close();
        })
        .await
}

/// Preflight and answers for the dashboard's origins; the outermost layer, so that a
/// preflight (which carries no token) is answered before authentication.
fn cors(origins: &[String]) -> Result<CorsLayer> {
    let origins = origins
        .iter()
        .map(|origin| {
            HeaderValue::from_str(origin).map_err(|_| {
                Error::invalid(format!(
                    "server.cors_origins holds `{origin}`, which is not a valid origin; write it like http://localhost:3000"
                ))
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(CorsLayer::new()
        .allow_origin(origins)
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allow_headers([AUTHORIZATION, CONTENT_TYPE]))
}

#[derive(Debug, Serialize, ToSchema)]
struct Health {
    status: &'static str,
    /// The state store's schema version.
    schema_version: u32,
}

/// Whether the server and its state store answer; needs no token.
async fn health(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    Ok(Json(Health {
        status: "ok",
        schema_version: state.store.schema_version().await?,
    }))
}

#[utoipa::path(get, path = "/api/v1/metrics", tag = "metrics",
    responses((status = 200, description = "Prometheus text exposition; also at /metrics.", content_type = "text/plain", body = String)))]
async fn metrics_text(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        state.metrics.render(),
    )
}

async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "there is no such endpoint; /api/v1/openapi.json lists them",
    )
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this endpoint does not take that method; /api/v1/openapi.json lists the methods",
    )
}
