//! The JSON API under `/api/v1`, one router per kind of caller or thing, merged in
//! [`router`]. Handlers are thin: extract (the extractor is the access check), call the
//! store, audit what admins and staff did, answer.

mod accounts;
mod agent;
mod agent_schedule;
mod audit_log;
pub mod chunks;
mod courses;
mod extract;
mod guardian_consent;
pub mod imports;
pub mod jobs;
mod lectures;
pub mod openapi;
mod page;
mod people;
mod policy;
mod privacy;
pub mod resumable;
mod rooms;
mod schedules;
mod students;
mod tus;
pub mod uploads;
mod users;
mod viewing;
mod worker;

use axum::routing::get;
use axum::Router;
use chrono::Utc;

use crate::auth;
use crate::error::ApiError;
use crate::startup::AppState;
use crate::store::{AuditEvent, User};

/// Every `/api/v1` route, relative to `/api/v1`; unknown paths answer a JSON 404, and
/// known paths with another method a JSON 405 (axum's own has an empty body).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi::document))
        .merge(people::router())
        .merge(privacy::router())
        .merge(policy::router())
        .merge(accounts::router())
        .merge(users::router())
        .merge(guardian_consent::router())
        .merge(students::router())
        .merge(viewing::router())
        .merge(courses::router())
        .merge(lectures::router())
        .merge(rooms::router())
        .merge(schedules::router())
        .merge(audit_log::router())
        .merge(agent::router())
        .merge(chunks::router())
        .merge(worker::router())
        .merge(jobs::router())
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

/// A name or title people type: not blank, at most `max` characters, no control characters.
fn check_text(what: &str, value: &str, max: usize) -> Result<(), ApiError> {
    Ok(crate::accounts::check_text(what, value, max)?)
}

/// Records what `actor` did in the audit log.
async fn audit(
    state: &AppState,
    actor: &User,
    action: &str,
    target_kind: &str,
    target_id: Option<&str>,
    detail: serde_json::Value,
) -> Result<(), ApiError> {
    let event = AuditEvent {
        action,
        target_kind,
        target_id,
        detail,
    };
    state.store.audit(actor, event, Utc::now()).await?;
    Ok(())
}

/// A new capture box token and its hash (the hash is what the catalog keeps).
fn new_agent_token() -> (String, String) {
    let token = auth::new_token();
    let hash = auth::token_hash(&token);
    (token, hash)
}
