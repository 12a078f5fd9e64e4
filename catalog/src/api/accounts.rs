//! How people come to have a password, without a session: following the activation link
//! their admin passed on, or signing up where their institute allows it. Both answer like a
//! login: a fresh session cookie and `Me`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use axum_extra::extract::cookie::CookieJar;
use chrono::Utc;
use lectern_wire::api::{self, ActivateRequest, AgeBand, Me, Role, SignupRequest};
use serde_json::json;

use super::audit;
use super::extract;
use super::people::sign_in;
use crate::accounts::{check_email, check_text, MAX_NAME_CHARS};
use crate::auth;
use crate::client_addr::ClientAddr;
use crate::error::ApiError;
use crate::login_throttle;
use crate::password_policy;
use crate::startup::AppState;
use crate::store::{NewAccount, UserError};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/activate", post(activate))
        .route("/auth/signup", post(signup))
}

/// argon2id off the async threads (it is slow on purpose).
async fn hash_password(password: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || auth::hash_password(&password))
        .await
        .map_err(|e| ApiError::Internal(format!("password hashing: {e}")))?
        .map_err(ApiError::from)
}

/// Sets the password of an invited person with the token of their activation link, once.
/// The link is checked before the password, so a guessed token learns nothing else; the
/// password is checked before the link is used, so a refused password leaves it working.
/// Not throttled: a token has 256 random bits, and hashing waits until the link proved good.
#[tracing::instrument(skip_all)]
#[utoipa::path(post, path = "/api/v1/auth/activate", tag = "people", request_body = ActivateRequest,
    responses((status = 200, body = Me, description = "the password is set and the person signed in; Set-Cookie carries the session"),
        (status = 400, body = api::ErrorBody, description = "invalid_activation_link: unknown, already used or expired (one answer for all three), or a malformed body"),
        (status = 422, body = api::ErrorBody, description = "weak_password: the message says why (at least 8 and at most 256 characters, not a commonly used password, not the person's email or name)")))]
async fn activate(
    State(state): State<AppState>,
    jar: CookieJar,
    extract::Json(req): extract::Json<ActivateRequest>,
) -> Result<(CookieJar, Json<Me>), ApiError> {
    let token_hash = auth::token_hash(req.token.trim());
    let invited = state
        .store
        .invited_user(&token_hash, Utc::now())
        .await?
        .ok_or(ApiError::InvalidActivationLink)?;
    password_policy::check(&req.password, &invited.email, &invited.name)?;
    let password_hash = hash_password(req.password).await?;
    let user = state
        .store
        .activate(&token_hash, &password_hash, Utc::now())
        .await?
        .ok_or(ApiError::InvalidActivationLink)?;
    audit(
        &state,
        &user,
        "user.activate",
        "user",
        Some(&user.id),
        json!({}),
    )
    .await?;
    sign_in(&state, jar, user).await
}

/// Creates a student account in an institute with open sign-up. Throttled with login's
/// limits and counters: an address already taken counts as a failed attempt for that email
/// and the client's address (it tells that the account exists, so guessing is limited),
/// and a throttled request hashes nothing. Successful sign-ups are not capped per address:
/// a whole class behind one campus NAT signs up in the same quarter hour, and each account
/// made is one the institute's admins see and can disable.
#[tracing::instrument(skip_all)]
#[utoipa::path(post, path = "/api/v1/auth/signup", tag = "people", request_body = SignupRequest,
    responses((status = 201, body = Me, description = "a student account, signed in; Set-Cookie carries the session"),
        (status = 400, body = api::ErrorBody, description = "a malformed email or name"),
        (status = 404, body = api::ErrorBody, description = "no such institute, or its sign-up is closed"),
        (status = 409, body = api::ErrorBody, description = "an account with this email exists (in any institute)"),
        (status = 422, body = api::ErrorBody, description = "weak_password: the message says why"),
        (status = 429, body = api::ErrorBody, description = "too_many_attempts, as for login",
            headers(("Retry-After" = u64, description = "seconds until a sign-up is accepted again")))))]
async fn signup(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    jar: CookieJar,
    extract::Json(req): extract::Json<SignupRequest>,
) -> Result<(StatusCode, CookieJar, Json<Me>), ApiError> {
    let institute = state
        .store
        .institute(&req.institute_id)
        .await?
        .filter(|institute| institute.open_signup)
        .ok_or(ApiError::NotFound)?;
    let email = check_email(&req.email)?;
    check_text("name", &req.name, MAX_NAME_CHARS)?;
    let name = req.name.trim();
    password_policy::check(&req.password, email, name)?;
    let attempt = login_throttle::begin(
        &state.store,
        &state.config.login_throttle,
        email,
        client,
        Utc::now(),
    )
    .await?;
    let password_hash = hash_password(req.password).await?;
    let account = NewAccount {
        institute_id: &institute.id,
        email,
        name,
        role: Role::Student,
        password_hash: &password_hash,
        // Nobody vouches for the age of who signs up: an institute whose people include
        // children keeps sign-up closed and invites them with their age band.
        age_band: AgeBand::Adult,
    };
    let id = match state.store.create_account(&account, None, Utc::now()).await {
        Ok(id) => id,
        Err(e @ UserError::EmailTaken(_)) => {
            attempt.failed();
            return Err(e.into());
        }
        Err(e) => return Err(e.into()),
    };
    attempt.succeeded(&state.store).await?;
    let user = state
        .store
        .user(&id)
        .await?
        .ok_or_else(|| ApiError::Internal(format!("user {id} vanished after sign-up")))?;
    audit(
        &state,
        &user,
        "user.signup",
        "user",
        Some(&id),
        json!({"role": Role::Student}),
    )
    .await?;
    let (jar, me) = sign_in(&state, jar, user).await?;
    Ok((StatusCode::CREATED, jar, me))
}
