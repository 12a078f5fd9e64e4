//! What people's browsers ask: login, logout, me, courses, lectures, playback.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use axum_extra::extract::cookie::CookieJar;
use chrono::Utc;
use lectern_packager::keys;
use lectern_wire::api::{self, AgeBand, LectureState, LoginRequest, Me, Playback};

use super::extract::{self, Path};
use super::page::{PageParams, PageQuery};
use crate::auth::{self, AuthUser};
use crate::client_addr::ClientAddr;
use crate::error::ApiError;
use crate::login_throttle;
use crate::startup::AppState;
use crate::store::{LectureMedia, LectureRow, User};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/login", post(login))
        .route("/auth/logout", post(logout))
        .route("/me", get(me).patch(super::privacy::correct_me))
        .route("/courses", get(courses))
        .route("/courses/{id}/lectures", get(course_lectures))
        .route("/lectures/{id}", get(lecture))
        .route("/lectures/{id}/playback", get(playback))
}

/// The caller as `/me` and a login show them, with the policy version they have yet to
/// accept.
pub(super) async fn me_body(state: &AppState, user: User) -> Result<Me, ApiError> {
    let policy_to_accept = state.store.policy_to_accept(&user).await?;
    Ok(Me {
        id: user.id,
        email: user.email,
        name: user.name,
        role: user.role,
        institute_id: user.institute_id,
        institute_name: user.institute_name,
        policy_to_accept,
    })
}

/// A media token for `lecture`, valid for the configured time from now.
fn media_token(state: &AppState, lecture: &str) -> String {
    let now = u64::try_from(Utc::now().timestamp()).unwrap_or(0);
    state
        .signer
        .sign(lecture, now + state.config.media_token_ttl_seconds)
}

/// The URL of a file of one of a lecture's tracks (`/media/<lecture>/<track>/<name>`).
fn track_file_url(lecture: &str, track: &str, name: &str, token: &str) -> String {
    format!("/media/{lecture}/{track}/{name}?token={token}")
}

/// A lecture as the API shows it to someone who may watch it; its duration is what plays
/// between the trim points.
pub(super) fn lecture_body(
    state: &AppState,
    row: LectureRow,
    media: &LectureMedia,
) -> api::Lecture {
    let live = row.state == LectureState::Capturing
        || (row.state == LectureState::Processing && media.playable());
    let poster = media
        .picture_track(|p| p.poster)
        .map(|track| track_file_url(&row.id, track, keys::POSTER, &media_token(state, &row.id)));
    let s = row.settings;
    api::Lecture {
        poster,
        duration_seconds: s.trimmed_duration(media.duration_seconds),
        id: row.id,
        course_id: row.course_id,
        title: s.title,
        state: row.state,
        live,
        started_at: row.started_at,
        ended_at: row.ended_at,
        error: row.error,
        published: s.published,
        available_from: s.available_from,
        available_until: s.available_until,
        planned_start: s.planned_start,
        planned_end: s.planned_end,
        trim_in: s.trim_in,
        trim_out: s.trim_out,
        schedule_id: row.schedule_id,
    }
}

/// Signs in. Throttled per account and per client address (`login_throttle`): at the limit
/// the password is not even checked.
// Neither the email tried nor the address is logged: both are personal data (docs/privacy.md).
#[tracing::instrument(skip_all)]
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "people", request_body = LoginRequest,
    responses((status = 200, body = Me, description = "signed in; Set-Cookie carries the session"),
        (status = 401, body = api::ErrorBody, description = "invalid_credentials"),
        (status = 429, body = api::ErrorBody,
            description = "too_many_attempts: too many failed logins for this account or from this \
                address; Retry-After gives the seconds to wait",
            headers(("Retry-After" = u64, description = "seconds until a login is accepted again")))))]
async fn login(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    jar: CookieJar,
    extract::Json(req): extract::Json<LoginRequest>,
) -> Result<(CookieJar, Json<Me>), ApiError> {
    let attempt = login_throttle::begin(
        &state.store,
        &state.config.login_throttle,
        &req.email,
        client,
        Utc::now(),
    )
    .await?;
    // An invited account without a password yet is checked like an unknown email: same
    // answer, same time.
    let found = state
        .store
        .user_for_login(req.email.trim())
        .await?
        .filter(|(_, hash)| !hash.is_empty());
    let hash = found
        .as_ref()
        .map_or_else(|| auth::dummy_hash().to_owned(), |(_, h)| h.clone());
    let password = req.password;
    let matches = tokio::task::spawn_blocking(move || auth::verify_password(&password, &hash))
        .await
        .map_err(|e| ApiError::Internal(format!("password check: {e}")))?;
    let Some((user, _)) = found.filter(|_| matches) else {
        attempt.failed();
        return Err(ApiError::InvalidCredentials);
    };
    attempt.succeeded(&state.store).await?;
    sign_in(&state, jar, user).await
}

/// Starts a session for `user`: the answer of a login, an activation and a sign-up.
pub(super) async fn sign_in(
    state: &AppState,
    jar: CookieJar,
    user: User,
) -> Result<(CookieJar, Json<Me>), ApiError> {
    let token = auth::new_token();
    let now = Utc::now();
    state
        .store
        .create_session(
            &user.id,
            &auth::token_hash(&token),
            now,
            now + auth::SESSION_TTL,
        )
        .await?;
    tracing::info!(user = %user.id, "signed in");
    Ok((
        jar.add(auth::session_cookie(state, token)),
        Json(me_body(state, user).await?),
    ))
}

/// Ends the caller's session. Without a valid session it answers 401 like every other
/// `/api/v1` endpoint but login, and still clears a stale cookie.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "people", security(("session" = [])),
    responses((status = 204, description = "session ended, cookie cleared"),
        (status = 401, body = api::ErrorBody, description = "no valid session")))]
async fn logout(State(state): State<AppState>, jar: CookieJar) -> Result<Response, ApiError> {
    let name = auth::cookie_name(&state);
    let token = jar.get(name).map(|cookie| auth::token_hash(cookie.value()));
    let cleared = jar.remove(auth::cleared_cookie(&state));
    let now = Utc::now();
    let Some(hash) = token else {
        return Ok((cleared, ApiError::Unauthenticated).into_response());
    };
    let signed_in = state.store.session_user(&hash, now).await?.is_some();
    state.store.delete_session(&hash, now).await?;
    if !signed_in {
        return Ok((cleared, ApiError::Unauthenticated).into_response());
    }
    Ok((cleared, StatusCode::NO_CONTENT).into_response())
}

#[utoipa::path(get, path = "/api/v1/me", tag = "people", security(("session" = [])),
    responses((status = 200, body = Me), (status = 401, body = api::ErrorBody)))]
async fn me(State(state): State<AppState>, AuthUser(user): AuthUser) -> Result<Json<Me>, ApiError> {
    Ok(Json(me_body(&state, user).await?))
}

#[utoipa::path(get, path = "/api/v1/courses", tag = "people", security(("session" = [])),
    params(PageParams),
    responses((status = 200, body = [api::Course], description = "courses the caller is enrolled in or teaches (admin: the institute's), by code; a Link header names the next page"),
        (status = 400, body = api::ErrorBody, description = "a bad limit or offset"),
        (status = 401, body = api::ErrorBody)))]
async fn courses(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    page: PageQuery,
) -> Result<Response, ApiError> {
    let courses = state.store.visible_courses(&user, page.probe()).await?;
    Ok(page.answer(courses))
}

#[utoipa::path(get, path = "/api/v1/courses/{id}/lectures", tag = "people", security(("session" = [])),
    params(("id" = String, Path, description = "course id"), PageParams),
    responses((status = 200, body = [api::Lecture], description = "newest first: students see the published lectures inside their availability window, the course's staff see all"),
        (status = 400, body = api::ErrorBody, description = "a bad limit or offset"),
        (status = 401, body = api::ErrorBody), (status = 404, body = api::ErrorBody, description = "no such course, or not visible to the caller")))]
async fn course_lectures(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(course_id): Path<String>,
    page: PageQuery,
) -> Result<Response, ApiError> {
    let course = state
        .store
        .course_for(&user, &course_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let rows = state
        .store
        .course_lectures(&course, Utc::now(), page.probe())
        .await?;
    let media = state.store.lectures_media(&rows).await?;
    let lectures: Vec<api::Lecture> = rows
        .into_iter()
        .zip(&media)
        .map(|(row, media)| lecture_body(&state, row, media))
        .collect();
    Ok(page.answer(lectures))
}

#[utoipa::path(get, path = "/api/v1/lectures/{id}", tag = "people", security(("session" = [])),
    params(("id" = String, Path, description = "lecture id")),
    responses((status = 200, body = api::Lecture),
        (status = 401, body = api::ErrorBody), (status = 404, body = api::ErrorBody, description = "no such lecture, or not visible to the caller")))]
async fn lecture(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(lecture_id): Path<String>,
) -> Result<Json<api::Lecture>, ApiError> {
    let (row, _) = state
        .store
        .lecture_for(&user, &lecture_id, Utc::now())
        .await?
        .ok_or(ApiError::NotFound)?;
    let media = state.store.lecture_media(&row).await?;
    Ok(Json(lecture_body(&state, row, &media)))
}

/// A lecture `user` may play now, with its media: they may see it and it has something to
/// play (else 404), and an account under 13 has its guardian's consent recorded (else 403,
/// to someone who knows the lecture exists), and the institute's current privacy policy is
/// accepted (else 409). Playback and progress reports share it.
pub(super) async fn playable_lecture(
    state: &AppState,
    user: &User,
    lecture_id: &str,
) -> Result<(LectureRow, LectureMedia), ApiError> {
    let (row, _) = state
        .store
        .lecture_for(user, lecture_id, Utc::now())
        .await?
        .ok_or(ApiError::NotFound)?;
    let media = state.store.lecture_media(&row).await?;
    if !media.playable() {
        return Err(ApiError::NotFound);
    }
    if user.age_band == AgeBand::Under13 && state.store.guardian_consent(&user.id).await?.is_none()
    {
        return Err(ApiError::GuardianConsentRequired);
    }
    if let Some(version) = state.store.policy_to_accept(user).await? {
        return Err(ApiError::Conflict(format!(
            "your institute's privacy policy changed: read version {version} \
             (GET /api/v1/privacy-policy) and accept it (POST /api/v1/me/policy-acceptance) \
             before watching"
        )));
    }
    Ok((row, media))
}

/// Hands out the master playlist's URL, and those of the lecture's pictures, with a token
/// scoped to this lecture. This is where enrolment (and a child's guardian's consent) is
/// checked for media; the token carries the decision to every byte.
#[tracing::instrument(skip(state, user), fields(user = %user.id))]
#[utoipa::path(get, path = "/api/v1/lectures/{id}/playback", tag = "people", security(("session" = [])),
    params(("id" = String, Path, description = "lecture id")),
    responses((status = 200, body = Playback, description = "the master playlist's URL and the pictures' (null when absent), with a media token"),
        (status = 401, body = api::ErrorBody),
        (status = 403, body = api::ErrorBody, description = "guardian_consent_required: the account is under 13 and no guardian's consent is recorded"),
        (status = 404, body = api::ErrorBody, description = "not visible, or nothing playable yet"),
        (status = 409, body = api::ErrorBody, description = "the institute's current privacy policy is not accepted yet")))]
async fn playback(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(lecture_id): Path<String>,
) -> Result<Json<Playback>, ApiError> {
    let (row, media) = playable_lecture(&state, &user, &lecture_id).await?;
    let token = media_token(&state, &row.id);
    let url = |track: Option<&str>, name: &str| {
        track.map(|track| track_file_url(&row.id, track, name, &token))
    };
    Ok(Json(Playback {
        master: format!("/media/{}/master.m3u8?token={token}", row.id),
        poster: url(media.picture_track(|p| p.poster), keys::POSTER),
        thumbnails: url(media.picture_track(|p| p.sprites > 0), keys::THUMBNAILS),
        chapters: url(media.picture_track(|p| p.chapters > 0), keys::CHAPTERS),
    }))
}
