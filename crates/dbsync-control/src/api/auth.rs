//! Bearer-token authentication of every route but `/health`.

use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use dbsync_config::Secret;
use subtle::ConstantTimeEq;

use super::error::ApiError;

/// Refuses a request without `Authorization: Bearer <token>` (401). The comparison takes
/// the same time whichever byte differs, so that the token cannot be guessed byte by byte
/// from answer times; only its length is not hidden.
pub(crate) async fn require_token(
    State(token): State<Secret>,
    request: Request,
    next: Next,
) -> Response {
    let presented = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    let valid = presented
        .is_some_and(|presented| bool::from(presented.as_bytes().ct_eq(token.expose().as_bytes())));
    if valid {
        next.run(request).await
    } else {
        ApiError::unauthorized().into_response()
    }
}
