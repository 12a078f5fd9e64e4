//! The institute's accounts, for its admins: list, invite, read, change, disable, withdraw
//! an invitation and make a new activation link. Admins never see another institute's
//! people (404). Every change is audited, and so is every read (these are other people's
//! data); audit details name roles and which fields changed, never a name or an email,
//! because the log outlives the account it mentions.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use lectern_wire::admin::{NewUser, UserInfo, UserInvited, UserPatch};
use lectern_wire::api::{self, Role};
use serde::Deserialize;
use serde_json::json;

use super::audit;
use super::extract::{self, Path};
use super::page::{PageParams, PageQuery};
use crate::accounts::{check_email, check_text, new_link, MAX_NAME_CHARS};
use crate::auth::AdminUser;
use crate::error::ApiError;
use crate::startup::AppState;
use crate::store::{NewAccount, User, UserQuery};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/users", get(list).post(invite))
        .route("/users/{id}", get(read).patch(update).delete(delete))
        .route("/users/{id}/invitation", post(reinvite))
}

/// `GET /api/v1/users` filters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct UserFilter {
    /// The beginning of a name or an email address, in any case.
    q: Option<String>,
    /// Only people with this role in the institute.
    role: Option<Role>,
}

/// A user of the admin's institute; 404 for anyone else.
pub(super) async fn own_user(
    state: &AppState,
    admin: &User,
    user_id: &str,
) -> Result<UserInfo, ApiError> {
    state
        .store
        .user_info(&admin.institute_id, user_id)
        .await?
        .ok_or(ApiError::NotFound)
}

#[utoipa::path(get, path = "/api/v1/users", tag = "users", security(("session" = [])),
    params(UserFilter, PageParams),
    responses((status = 200, body = [UserInfo], description = "the institute's people by name; a Link header names the next page"),
        (status = 400, body = api::ErrorBody, description = "a bad filter, limit or offset"),
        (status = 401, body = api::ErrorBody), (status = 404, body = api::ErrorBody, description = "not an admin")))]
async fn list(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    filter: Result<Query<UserFilter>, QueryRejection>,
    page: PageQuery,
) -> Result<Response, ApiError> {
    let Query(filter) = filter.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let prefix = filter
        .q
        .as_deref()
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .map(str::to_lowercase);
    if prefix
        .as_ref()
        .is_some_and(|q| q.chars().count() > MAX_NAME_CHARS)
    {
        return Err(ApiError::BadRequest(format!(
            "q must be at most {MAX_NAME_CHARS} characters"
        )));
    }
    let query = UserQuery {
        prefix,
        role: filter.role,
    };
    let users = state
        .store
        .users(&admin.institute_id, &query, page.probe())
        .await?;
    // What was searched for may be a person's name: the log keeps only that there was a search.
    let detail = json!({
        "searched": query.prefix.is_some(),
        "role": query.role,
        "offset": page.page.offset,
        "count": users.len().min(page.page.limit as usize),
    });
    audit(
        &state,
        &admin,
        "user.list",
        "institute",
        Some(&admin.institute_id),
        detail,
    )
    .await?;
    Ok(page.answer(users))
}

#[utoipa::path(post, path = "/api/v1/users", tag = "users", security(("session" = [])),
    request_body = NewUser,
    responses((status = 201, body = UserInvited, description = "the account, without a password, and its single-use activation link. Lectern sends no mail: pass the link on to the person yourself (it is shown only here; POST /api/v1/users/{id}/invitation makes a new one). The token is in the link's #fragment, which browsers do not send to servers, so it stays out of logs"),
        (status = 400, body = api::ErrorBody, description = "a malformed email or name"),
        (status = 401, body = api::ErrorBody), (status = 404, body = api::ErrorBody, description = "not an admin"),
        (status = 409, body = api::ErrorBody, description = "an account with this email exists (in any institute: people sign in by email)")))]
async fn invite(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    extract::Json(new): extract::Json<NewUser>,
) -> Result<(StatusCode, Json<UserInvited>), ApiError> {
    let email = check_email(&new.email)?;
    check_text("name", &new.name, MAX_NAME_CHARS)?;
    let now = Utc::now();
    let link = new_link(&state.config, now);
    let account = NewAccount {
        institute_id: &admin.institute_id,
        email,
        name: new.name.trim(),
        role: new.role,
        password_hash: "",
        age_band: new.age_band,
    };
    let id = state
        .store
        .create_account(&account, Some(&link.invitation), now)
        .await?;
    audit(
        &state,
        &admin,
        "user.create",
        "user",
        Some(&id),
        json!({"role": new.role, "age_band": new.age_band}),
    )
    .await?;
    let user = own_user(&state, &admin, &id).await?;
    Ok((
        StatusCode::CREATED,
        Json(UserInvited {
            user,
            activation_url: link.url,
            expires_at: link.invitation.expires_at,
        }),
    ))
}

#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users", security(("session" = [])),
    params(("id" = String, Path, description = "user id")),
    responses((status = 200, body = UserInfo), (status = 401, body = api::ErrorBody),
        (status = 404, body = api::ErrorBody, description = "no such user in the institute, or not an admin")))]
async fn read(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<String>,
) -> Result<Json<UserInfo>, ApiError> {
    let user = own_user(&state, &admin, &id).await?;
    audit(&state, &admin, "user.read", "user", Some(&id), json!({})).await?;
    Ok(Json(user))
}

#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", security(("session" = [])),
    params(("id" = String, Path, description = "user id")), request_body = UserPatch,
    responses((status = 200, body = UserInfo, description = "changed; disabling ended every session and activation link of the person at once, and a role takes effect on their next request"),
        (status = 400, body = api::ErrorBody), (status = 401, body = api::ErrorBody),
        (status = 404, body = api::ErrorBody, description = "no such user in the institute, or not an admin"),
        (status = 409, body = api::ErrorBody, description = "an admin may not disable themselves or give up their own admin role (another admin can)")))]
async fn update(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<String>,
    extract::Json(patch): extract::Json<UserPatch>,
) -> Result<Json<UserInfo>, ApiError> {
    let user = own_user(&state, &admin, &id).await?;
    let name = patch.name.as_deref().unwrap_or(&user.name);
    check_text("name", name, MAX_NAME_CHARS)?;
    let role = patch.role.unwrap_or(user.role);
    // Nobody locks themselves out: an institute keeps at least the admin who asked.
    if id == admin.id && (role != Role::Admin || patch.disabled == Some(true)) {
        return Err(ApiError::Conflict(
            "you cannot disable yourself or give up your own admin role: ask another admin".into(),
        ));
    }
    let age_band = patch.age_band.unwrap_or(user.age_band);
    state
        .store
        .update_user(&id, name.trim(), role, age_band)
        .await?;
    if let Some(disabled) = patch.disabled.filter(|d| *d != user.disabled) {
        state.store.set_user_disabled(&id, disabled).await?;
    }
    let changed: Vec<&str> = [
        ("name", patch.name.is_some()),
        ("role", patch.role.is_some()),
        ("disabled", patch.disabled.is_some()),
        ("age_band", patch.age_band.is_some()),
    ]
    .into_iter()
    .filter_map(|(field, present)| present.then_some(field))
    .collect();
    let detail = json!({"changed": changed, "role": patch.role, "disabled": patch.disabled,
        "age_band": patch.age_band});
    audit(&state, &admin, "user.update", "user", Some(&id), detail).await?;
    Ok(Json(own_user(&state, &admin, &id).await?))
}

/// Deleting an account someone has used is erasure, which the privacy requests decide
/// (export first, what the law makes the institute keep): it is refused here.
const ACTIVATED: &str = "the account has been activated: disable it instead \
     (deleting a used account and its data is done through a privacy request)";

#[utoipa::path(delete, path = "/api/v1/users/{id}", tag = "users", security(("session" = [])),
    params(("id" = String, Path, description = "user id")),
    responses((status = 204, description = "the invitation is withdrawn: the account, never activated, is deleted with its activation links and enrolments"),
        (status = 401, body = api::ErrorBody),
        (status = 404, body = api::ErrorBody, description = "no such user in the institute, or not an admin"),
        (status = 409, body = api::ErrorBody, description = "the account has been activated: disable it instead (erasure is a privacy request)")))]
async fn delete(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let user = own_user(&state, &admin, &id).await?;
    // The store checks again: the person may activate between the two.
    if user.activated || !state.store.delete_unactivated_user(&id).await? {
        return Err(ApiError::Conflict(ACTIVATED.into()));
    }
    audit(
        &state,
        &admin,
        "user.delete",
        "user",
        Some(&id),
        json!({"role": user.role}),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/users/{id}/invitation", tag = "users", security(("session" = [])),
    params(("id" = String, Path, description = "user id")),
    responses((status = 200, body = UserInvited, description = "a new single-use activation link, shown only here; the person's earlier links stop working. Lectern sends no mail: pass it on yourself"),
        (status = 401, body = api::ErrorBody),
        (status = 404, body = api::ErrorBody, description = "no such user in the institute, or not an admin"),
        (status = 409, body = api::ErrorBody, description = "the account is already activated (there is no password reset by link), or disabled (enable it first)")))]
async fn reinvite(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<String>,
) -> Result<Json<UserInvited>, ApiError> {
    let user = own_user(&state, &admin, &id).await?;
    if user.activated {
        return Err(ApiError::Conflict(
            "the account is already activated: its password is set".into(),
        ));
    }
    if user.disabled {
        return Err(ApiError::Conflict(
            "the account is disabled: enable it first".into(),
        ));
    }
    let link = new_link(&state.config, Utc::now());
    state
        .store
        .replace_invitation(&id, &link.invitation)
        .await?;
    audit(
        &state,
        &admin,
        "user.invitation",
        "user",
        Some(&id),
        json!({}),
    )
    .await?;
    Ok(Json(UserInvited {
        user,
        activation_url: link.url,
        expires_at: link.invitation.expires_at,
    }))
}
