//! People's viewing (issue 7): the player reports where it is, a person reads their own place
//! back and chooses whether they take part in research, and a course's staff see how a
//! lecture was watched, in aggregate, over cohorts of at least five students. What is kept
//! for whom is decided in [`crate::viewing`].

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use chrono::Utc;
use lectern_wire::api::{self, LectureAnalytics, Preferences, Progress, ProgressReport};
use serde_json::json;

use super::extract::{self, Path};
use super::lectures::managed_lecture;
use super::people::playable_lecture;
use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::startup::AppState;
use crate::viewing::{self, Report, Timeline, BUCKET_SECONDS, MIN_COHORT};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/lectures/{id}/progress",
            get(my_progress).put(report_progress),
        )
        .route("/lectures/{id}/analytics", get(analytics))
        .route("/me/preferences", get(preferences).put(set_preferences))
}

#[utoipa::path(put, path = "/api/v1/lectures/{id}/progress", tag = "viewing", security(("session" = [])),
    params(("id" = String, Path, description = "lecture id")), request_body = ProgressReport,
    responses((status = 204, description = "recorded: where to resume; unless the account is under 13, the view and its watch time; unless the person also opted out of research, the parts played. Repeating a report changes nothing"),
        (status = 400, body = api::ErrorBody, description = "a view id, position, watch time or part outside the lecture's timeline, with the reason"),
        (status = 401, body = api::ErrorBody),
        (status = 403, body = api::ErrorBody, description = "guardian_consent_required: as for playback"),
        (status = 404, body = api::ErrorBody, description = "the caller may not play the lecture")))]
async fn report_progress(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(lecture_id): Path<String>,
    extract::Json(report): extract::Json<ProgressReport>,
) -> Result<StatusCode, ApiError> {
    // Only someone who may play the lecture reports on it, by the very rules of playback.
    let (row, media) = playable_lecture(&state, &user, &lecture_id).await?;
    let report = Report::check(&report, media.duration_seconds)
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    state
        .store
        .record_progress(&user.id, &row.id, &report, Utc::now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/lectures/{id}/progress", tag = "viewing", security(("session" = [])),
    params(("id" = String, Path, description = "lecture id")),
    responses((status = 200, body = Progress, description = "the caller's own place in the lecture (position 0 when never played)"),
        (status = 401, body = api::ErrorBody),
        (status = 404, body = api::ErrorBody, description = "no such lecture, or not visible to the caller")))]
async fn my_progress(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(lecture_id): Path<String>,
) -> Result<Json<Progress>, ApiError> {
    let (row, _) = state
        .store
        .lecture_for(&user, &lecture_id, Utc::now())
        .await?
        .ok_or(ApiError::NotFound)?;
    let progress = state.store.progress(&user.id, &row.id).await?;
    Ok(Json(Progress {
        lecture_id: row.id,
        position_seconds: progress.as_ref().map_or(0.0, |p| p.position_seconds),
        views: progress
            .as_ref()
            .map_or(0, |p| u64::try_from(p.views).unwrap_or(0)),
        watched_seconds: progress.as_ref().and_then(|p| p.watched_seconds),
        updated_at: progress.map(|p| p.updated_at),
    }))
}

#[utoipa::path(get, path = "/api/v1/lectures/{id}/analytics", tag = "viewing", security(("session" = [])),
    params(("id" = String, Path, description = "lecture id")),
    responses((status = 200, body = LectureAnalytics, description = "views, unique viewers, watch time and the retention curve over the course's students who played the lecture, but those under 13 and those who opted out of research; audited as analytics.read"),
        (status = 401, body = api::ErrorBody),
        (status = 404, body = api::ErrorBody, description = "no such lecture, or the caller is not on its course's staff or an admin"),
        (status = 409, body = api::ErrorBody, description = "cohort_too_small: fewer than 5 such students played it")))]
async fn analytics(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(lecture_id): Path<String>,
) -> Result<Json<LectureAnalytics>, ApiError> {
    let row = managed_lecture(&state, &user, &lecture_id).await?;
    let cohort = state.store.lecture_cohort(&row.id).await?;
    if cohort.len() < MIN_COHORT {
        return Err(ApiError::CohortTooSmall);
    }
    let media = state.store.lecture_media(&row).await?;
    let length = row.settings.trimmed_duration(media.duration_seconds);
    let timelines: Vec<Timeline> = cohort.iter().map(|c| c.parts.clone()).collect();
    let answer = LectureAnalytics {
        minimum_cohort: MIN_COHORT as u64,
        unique_viewers: cohort.len() as u64,
        views: cohort
            .iter()
            .map(|c| u64::try_from(c.views).unwrap_or(0))
            .sum(),
        watched_seconds: cohort.iter().map(|c| c.watched_seconds).sum(),
        bucket_seconds: BUCKET_SECONDS,
        retention: viewing::retention(&timelines, cohort.len(), viewing::buckets_in(length)),
        lecture_id: row.id,
    };
    super::audit(
        &state,
        &user,
        "analytics.read",
        "lecture",
        Some(&answer.lecture_id),
        json!({"unique_viewers": answer.unique_viewers}),
    )
    .await?;
    Ok(Json(answer))
}

#[utoipa::path(get, path = "/api/v1/me/preferences", tag = "privacy", security(("session" = [])),
    responses((status = 200, body = Preferences), (status = 401, body = api::ErrorBody)))]
async fn preferences(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> Result<Json<Preferences>, ApiError> {
    let research_opt_out = state.store.research_opt_out(&user.id).await?;
    Ok(Json(Preferences { research_opt_out }))
}

#[utoipa::path(put, path = "/api/v1/me/preferences", tag = "privacy", security(("session" = [])),
    request_body = Preferences,
    responses((status = 200, body = Preferences, description = "saved; opting out takes the person out of every viewing aggregate at once and deletes which parts of lectures they played"),
        (status = 400, body = api::ErrorBody), (status = 401, body = api::ErrorBody)))]
async fn set_preferences(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    extract::Json(preferences): extract::Json<Preferences>,
) -> Result<Json<Preferences>, ApiError> {
    state
        .store
        .set_research_opt_out(&user.id, preferences.research_opt_out)
        .await?;
    tracing::info!(
        user = %user.id,
        research_opt_out = preferences.research_opt_out,
        "a person set their research preference"
    );
    Ok(Json(preferences))
}
