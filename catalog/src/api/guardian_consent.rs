//! Guardians' consents (issue 7, children): an account under 13 plays nothing until an
//! admin of its institute records that a parent or guardian consented (who, their relation;
//! the catalog adds who recorded it and when), and stops playing when it is withdrawn. Both
//! are audited; the log names neither the child nor the guardian, only the account's id.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use chrono::Utc;
use lectern_wire::admin::{GuardianConsent, GuardianConsentRequest};
use lectern_wire::api::{self, AgeBand};
use serde_json::json;

use super::extract::{self, Path};
use super::users::own_user;
use super::{audit, check_text};
use crate::accounts::MAX_NAME_CHARS;
use crate::auth::AdminUser;
use crate::error::ApiError;
use crate::startup::AppState;

/// The longest relation ("legal guardian", "grandmother", …).
const MAX_RELATION_CHARS: usize = 64;

pub(super) fn router() -> Router<AppState> {
    Router::new().route(
        "/users/{id}/guardian-consent",
        post(record).delete(withdraw),
    )
}

#[utoipa::path(post, path = "/api/v1/users/{id}/guardian-consent", tag = "users", security(("session" = [])),
    params(("id" = String, Path, description = "user id of an account under 13")),
    request_body = GuardianConsentRequest,
    responses((status = 201, body = GuardianConsent, description = "recorded (replacing an earlier record): the person may watch from now on; audited as guardian_consent.record"),
        (status = 400, body = api::ErrorBody, description = "an empty or overlong name or relation"),
        (status = 401, body = api::ErrorBody),
        (status = 404, body = api::ErrorBody, description = "no such user in the institute, or not an admin"),
        (status = 409, body = api::ErrorBody, description = "the account is not in the under_13 age band")))]
async fn record(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<String>,
    extract::Json(request): extract::Json<GuardianConsentRequest>,
) -> Result<(StatusCode, Json<GuardianConsent>), ApiError> {
    let user = own_user(&state, &admin, &id).await?;
    check_text("guardian_name", &request.guardian_name, MAX_NAME_CHARS)?;
    check_text("relation", &request.relation, MAX_RELATION_CHARS)?;
    if user.age_band != AgeBand::Under13 {
        return Err(ApiError::Conflict(
            "a guardian's consent is recorded for accounts under 13 only: set the account's \
             age_band to under_13 first (PATCH /api/v1/users/{id})"
                .into(),
        ));
    }
    let replaced = state
        .store
        .record_guardian_consent(
            &id,
            request.guardian_name.trim(),
            request.relation.trim(),
            &admin.id,
            Utc::now(),
        )
        .await?;
    audit(
        &state,
        &admin,
        "guardian_consent.record",
        "user",
        Some(&id),
        json!({"replaced": replaced}),
    )
    .await?;
    let consent = state
        .store
        .guardian_consent(&id)
        .await?
        .ok_or_else(|| ApiError::Internal(format!("the consent of {id} vanished")))?;
    Ok((StatusCode::CREATED, Json(consent)))
}

#[utoipa::path(delete, path = "/api/v1/users/{id}/guardian-consent", tag = "users", security(("session" = [])),
    params(("id" = String, Path, description = "user id")),
    responses((status = 204, description = "withdrawn: the person gets no new playback from now on (media links handed out before work until they expire, media_token_ttl_seconds); audited as guardian_consent.withdraw"),
        (status = 401, body = api::ErrorBody),
        (status = 404, body = api::ErrorBody, description = "no such user in the institute, no consent recorded, or not an admin")))]
async fn withdraw(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    own_user(&state, &admin, &id).await?;
    if !state.store.withdraw_guardian_consent(&id).await? {
        return Err(ApiError::NotFound);
    }
    audit(
        &state,
        &admin,
        "guardian_consent.withdraw",
        "user",
        Some(&id),
        json!({}),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
