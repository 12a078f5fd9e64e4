//! The JSON API under `/api/v1`, one router per kind of caller, merged in [`router`].
//! Handlers are thin: extract (the extractor is the access check), call the store, answer.

mod agent;
pub mod chunks;
mod extract;
pub mod openapi;
mod people;
mod worker;

use axum::routing::get;
use axum::Router;

use crate::error::ApiError;
use crate::startup::AppState;

/// Every `/api/v1` route, relative to `/api/v1`; unknown paths answer a JSON 404, and
/// known paths with another method a JSON 405 (axum's own has an empty body).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi::document))
        .merge(people::router())
        .merge(agent::router())
        .merge(chunks::router())
        .merge(worker::router())
        .fallback(|| async { ApiError::NotFound })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
}

/// True for a track or rung name that may become part of a storage key.
fn check_name(what: &str, name: &str) -> Result<(), ApiError> {
    if lectern_packager::keys::is_safe_component(name) {
        Ok(())
    } else {
        Err(ApiError::BadRequest(format!(
            "{what} {name:?} must be 1 to 64 ASCII letters, digits, '-' or '_'"
        )))
    }
}
