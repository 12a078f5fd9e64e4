//! A person's rights over their own data (issue 7): correction of their profile, an export
//! of everything about them, and erasure, by themselves or by their institute's admin. What
//! is exported and erased comes from the personal data registry, not from this file.

use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use axum_extra::extract::cookie::CookieJar;
use chrono::{DateTime, Duration, Utc};
use lectern_wire::api::{
    self, ErasureReport, ErasureRequest, ExportLink, HeldRecords, Me, MeUpdate,
};
use serde_json::{json, Map, Value};

use super::extract::{self, Path};
use crate::accounts::{check_text, MAX_NAME_CHARS};
use crate::auth::{self, AdminUser, AuthUser};
use crate::client_addr::ClientAddr;
use crate::error::ApiError;
use crate::login_throttle::{self, account_key};
use crate::privacy::requests::PersonKeys;
use crate::startup::AppState;
use crate::store::{privacy::Held, User};

/// How long an export link works: long enough to click, short enough not to matter if it
/// is seen over someone's shoulder (it also needs the person's own session).
const EXPORT_LINK_TTL: Duration = Duration::minutes(10);

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/me/export", post(export_link))
        .route("/me/export/{token}", get(export))
        .route("/me/erasure", post(erase_me))
        .route("/users/{id}/erasure", post(erase_user))
}

/// The scope an export token is signed for: lecture tokens are signed for a lecture's id (a
/// UUID, never with a colon), so neither can pass for the other.
fn export_scope(user_id: &str) -> String {
    format!("export:{user_id}")
}

fn keys(user: &User) -> PersonKeys {
    PersonKeys {
        user_id: user.id.clone(),
        account_hash: account_key(&user.email),
    }
}

#[utoipa::path(patch, path = "/api/v1/me", tag = "privacy", security(("session" = [])),
    request_body = MeUpdate,
    responses((status = 200, body = Me, description = "the corrected profile"),
        (status = 400, body = api::ErrorBody, description = "an empty or overlong name"),
        (status = 401, body = api::ErrorBody)))]
pub(super) async fn correct_me(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    extract::Json(update): extract::Json<MeUpdate>,
) -> Result<Json<Me>, ApiError> {
    check_text("name", &update.name, MAX_NAME_CHARS)?;
    state
        .store
        .rename_user(&user.id, update.name.trim())
        .await?;
    let user = state
        .store
        .user(&user.id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(super::people::me_body(&state, user).await?))
}

#[utoipa::path(post, path = "/api/v1/me/export", tag = "privacy", security(("session" = [])),
    responses((status = 201, body = ExportLink, description = "a link to the export, for the caller's own session only, for 10 minutes"),
        (status = 401, body = api::ErrorBody)))]
async fn export_link(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> (axum::http::StatusCode, Json<ExportLink>) {
    let expires_at = Utc::now() + EXPORT_LINK_TTL;
    let token = state
        .signer
        .sign(&export_scope(&user.id), expires_at.timestamp() as u64);
    let link = ExportLink {
        url: format!("/api/v1/me/export/{token}"),
        expires_at,
    };
    (axum::http::StatusCode::CREATED, Json(link))
}

#[utoipa::path(get, path = "/api/v1/me/export/{token}", tag = "privacy", security(("session" = [])),
    params(("token" = String, Path, description = "from POST /api/v1/me/export")),
    responses((status = 200, content_type = "application/json", description = "every personal record about the caller, by section (see docs/privacy.md), as a download"),
        (status = 401, body = api::ErrorBody),
        (status = 404, body = api::ErrorBody, description = "an unknown or expired link, or another person's")))]
async fn export(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    let now = Utc::now();
    if !state
        .signer
        .verify(&token, &export_scope(&user.id), now.timestamp() as u64)
    {
        return Err(ApiError::NotFound);
    }
    let sections = state.store.export_person(&keys(&user)).await?;
    let document = export_document(&user, now, sections);
    let file = format!(
        "attachment; filename=\"lectern-data-{}.json\"",
        now.format("%Y-%m-%d")
    );
    let body = serde_json::to_vec_pretty(&document)
        .map_err(|e| ApiError::Internal(format!("export: {e}")))?;
    Ok((
        [
            (CONTENT_TYPE, "application/json".to_owned()),
            (CONTENT_DISPOSITION, file),
            (CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response())
}

/// The export: when it was made, what it covers, and one array per registry section.
fn export_document(
    user: &User,
    now: DateTime<Utc>,
    sections: Vec<crate::store::privacy::ExportSection>,
) -> Value {
    let mut data = Map::new();
    for section in sections {
        data.insert(
            section.section.to_owned(),
            Value::Array(section.rows.into_iter().map(Value::Object).collect()),
        );
    }
    json!({
        "exported_at": now,
        "institute": user.institute_name,
        "about": "Everything Lectern keeps about you, one section per kind of record. \
                  docs/privacy.md (the personal data registry) says what each field is, why it \
                  is kept and for how long.",
        "data": data,
    })
}

fn report(held: Vec<Held>) -> ErasureReport {
    ErasureReport {
        held: held
            .into_iter()
            .map(|h| HeldRecords {
                table: h.table.to_owned(),
                rows: h.rows,
                reason: h.reason.to_owned(),
            })
            .collect(),
    }
}

#[utoipa::path(post, path = "/api/v1/me/erasure", tag = "privacy", security(("session" = [])),
    request_body = ErasureRequest,
    responses((status = 200, body = ErasureReport, description = "the account and every personal record are gone, but those listed as held (with the reason); the session ends"),
        (status = 401, body = api::ErrorBody, description = "not signed in, or invalid_credentials: the password is not right"),
        (status = 429, body = api::ErrorBody, description = "too many wrong passwords: wait Retry-After seconds")))]
async fn erase_me(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    AuthUser(user): AuthUser,
    jar: CookieJar,
    extract::Json(request): extract::Json<ErasureRequest>,
) -> Result<(CookieJar, Json<ErasureReport>), ApiError> {
    // The password, checked like a login (and throttled with it): a session left open on a
    // shared computer must not be enough to erase someone.
    let attempt = login_throttle::begin(
        &state.store,
        &state.config.login_throttle,
        &user.email,
        client,
        Utc::now(),
    )
    .await?;
    let hash = state
        .store
        .user_for_login(&user.email)
        .await?
        .map(|(_, hash)| hash)
        .unwrap_or_default();
    let password = request.password;
    let matches = tokio::task::spawn_blocking(move || auth::verify_password(&password, &hash))
        .await
        .map_err(|e| ApiError::Internal(format!("password check: {e}")))?;
    if !matches {
        attempt.failed();
        return Err(ApiError::InvalidCredentials);
    }
    attempt.succeeded(&state.store).await?;
    let held = state.store.erase_person(&keys(&user)).await?;
    tracing::info!(held = held.len(), "a person erased their account and data");
    Ok((jar.remove(auth::cleared_cookie(&state)), Json(report(held))))
}

#[utoipa::path(post, path = "/api/v1/users/{id}/erasure", tag = "privacy", security(("session" = [])),
    params(("id" = String, Path, description = "user id")),
    responses((status = 200, body = ErasureReport, description = "the person's account and every personal record are gone, but those listed as held (with the reason); recorded in the audit log"),
        (status = 401, body = api::ErrorBody),
        (status = 404, body = api::ErrorBody, description = "no such user in the institute, or not an admin"),
        (status = 409, body = api::ErrorBody, description = "the caller's own account: use POST /api/v1/me/erasure")))]
async fn erase_user(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<String>,
) -> Result<Json<ErasureReport>, ApiError> {
    let info = state
        .store
        .user_info(&admin.institute_id, &id)
        .await?
        .ok_or(ApiError::NotFound)?;
    if info.id == admin.id {
        return Err(ApiError::Conflict(
            "this is your own account: erase it with POST /api/v1/me/erasure, which asks for \
             your password"
                .into(),
        ));
    }
    let keys = PersonKeys {
        account_hash: account_key(&info.email),
        user_id: info.id,
    };
    let held = state.store.erase_person(&keys).await?;
    // The record names the erased account's id only: nothing else about them is left.
    super::audit(
        &state,
        &admin,
        "user.erase",
        "user",
        Some(&id),
        json!({"held_tables": held.iter().map(|h| h.table).collect::<Vec<_>>()}),
    )
    .await?;
    Ok(Json(report(held)))
}
