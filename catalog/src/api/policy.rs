//! The institute's privacy policy, versioned (issue 7): admins publish a new version, every
//! person of the institute sees that one at their next sign-in (`Me::policy_to_accept`) and
//! accepts it before they watch again.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use chrono::Utc;
use lectern_wire::api::{self, NewPrivacyPolicy, PolicyAcceptance, PrivacyPolicy};
use serde_json::json;

use super::extract;
use crate::accounts::check_text;
use crate::auth::{AdminUser, AuthUser};
use crate::error::ApiError;
use crate::startup::AppState;

/// The longest policy text taken, in characters (a long policy is some 10 000).
const MAX_POLICY_CHARS: usize = 200_000;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/privacy-policy", get(current))
        .route("/institute/privacy-policy", put(publish))
        .route("/me/policy-acceptance", post(accept))
}

#[utoipa::path(get, path = "/api/v1/privacy-policy", tag = "privacy", security(("session" = [])),
    responses((status = 200, body = PrivacyPolicy, description = "the caller's institute's current policy, and when the caller accepted it"),
        (status = 401, body = api::ErrorBody),
        (status = 404, body = api::ErrorBody, description = "the institute has published none")))]
async fn current(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> Result<Json<PrivacyPolicy>, ApiError> {
    let policy = state.store.privacy_policy(&user).await?;
    policy.map(Json).ok_or(ApiError::NotFound)
}

#[utoipa::path(put, path = "/api/v1/institute/privacy-policy", tag = "privacy", security(("session" = [])),
    request_body = NewPrivacyPolicy,
    responses((status = 201, body = PrivacyPolicy, description = "published as the next version: everyone of the institute accepts it before watching again"),
        (status = 400, body = api::ErrorBody, description = "an empty or overlong text"),
        (status = 401, body = api::ErrorBody),
        (status = 404, body = api::ErrorBody, description = "not an admin")))]
async fn publish(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    extract::Json(new): extract::Json<NewPrivacyPolicy>,
) -> Result<(StatusCode, Json<PrivacyPolicy>), ApiError> {
    check_text("body", &new.body, MAX_POLICY_CHARS)?;
    let version = state
        .store
        .publish_policy(&admin.institute_id, new.body.trim(), Utc::now())
        .await?;
    super::audit(
        &state,
        &admin,
        "privacy_policy.publish",
        "institute",
        Some(&admin.institute_id),
        json!({"version": version}),
    )
    .await?;
    let policy = state.store.privacy_policy(&admin).await?;
    let policy =
        policy.ok_or_else(|| ApiError::Internal("the policy just published is gone".into()))?;
    Ok((StatusCode::CREATED, Json(policy)))
}

#[utoipa::path(post, path = "/api/v1/me/policy-acceptance", tag = "privacy", security(("session" = [])),
    request_body = PolicyAcceptance,
    responses((status = 204, description = "accepted (again, if it already was)"),
        (status = 401, body = api::ErrorBody),
        (status = 409, body = api::ErrorBody, description = "not the institute's current version: read the current one and accept that")))]
async fn accept(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    extract::Json(acceptance): extract::Json<PolicyAcceptance>,
) -> Result<StatusCode, ApiError> {
    if state
        .store
        .accept_policy(&user, acceptance.version, Utc::now())
        .await?
    {
        return Ok(StatusCode::NO_CONTENT);
    }
    let current = state.store.privacy_policy(&user).await?.map(|p| p.version);
    Err(ApiError::Conflict(match current {
        Some(current) => format!(
            "version {} is not your institute's current privacy policy, version {current}: \
             read it (GET /api/v1/privacy-policy) and accept that one",
            acceptance.version
        ),
        None => "your institute has published no privacy policy to accept".into(),
    }))
}
