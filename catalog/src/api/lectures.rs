//! Managing lectures: plan one ahead, rename, publish or hide, set its availability window
//! and trim points, delete it with its media. Open to the course's instructors and teaching
//! assistants and to the institute's admins; audited.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{patch, post};
use axum::{Json, Router};
use chrono::Utc;
use lectern_packager::keys;
use lectern_wire::admin::{LecturePatch, NewLecture};
use lectern_wire::api::{self, LectureState};
use serde_json::json;

use super::courses::course_for;
use super::extract::{self, Path};
use super::people::lecture_body;
use super::{audit, check_text};
use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::startup::AppState;
use crate::store::{LectureRow, LectureSettings, User};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/courses/{id}/lectures", post(plan))
        .route("/lectures/{id}", patch(update).delete(remove))
        .route("/lectures/{id}/publish", post(publish))
        .route("/lectures/{id}/unpublish", post(unpublish))
}

/// The lecture, if `user` manages its course; 404 for everyone else.
pub(super) async fn managed_lecture(
    state: &AppState,
    user: &User,
    lecture_id: &str,
) -> Result<LectureRow, ApiError> {
    match state
        .store
        .lecture_for(user, lecture_id, Utc::now())
        .await?
    {
        Some((row, course)) if course.access.manages_lectures() => Ok(row),
        _ => Err(ApiError::NotFound),
    }
}

async fn answer(state: &AppState, lecture_id: &str) -> Result<Json<api::Lecture>, ApiError> {
    let row = state
        .store
        .lecture(lecture_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let media = state.store.lecture_media(&row).await?;
    Ok(Json(lecture_body(state, row, &media)))
}

#[utoipa::path(post, path = "/api/v1/courses/{id}/lectures", tag = "lectures", security(("session" = [])),
    params(("id" = String, Path, description = "course id")), request_body = NewLecture,
    responses((status = 201, body = api::Lecture, description = "planned, in state scheduled"),
        (status = 400, body = api::ErrorBody), (status = 401, body = api::ErrorBody),
        (status = 404, body = api::ErrorBody, description = "no such course or room, or the caller does not manage the course")))]
async fn plan(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(course_id): Path<String>,
    extract::Json(new): extract::Json<NewLecture>,
) -> Result<(StatusCode, Json<api::Lecture>), ApiError> {
    let course = course_for(&state, &user, &course_id).await?;
    if !course.access.manages_lectures() {
        return Err(ApiError::NotFound);
    }
    check_text("title", &new.title, 200)?;
    if let (Some(start), Some(end)) = (new.planned_start, new.planned_end) {
        if end <= start {
            return Err(ApiError::BadRequest(
                "planned_end must be after planned_start".into(),
            ));
        }
    }
    if let Some(room) = &new.room_id {
        if state
            .store
            .room(&course.institute_id, room)
            .await?
            .is_none()
        {
            return Err(ApiError::NotFound);
        }
    }
    let id = state
        .store
        .plan_lecture(&course_id, &new, Utc::now())
        .await?;
    audit(
        &state,
        &user,
        "lecture.plan",
        "lecture",
        Some(&id),
        json!(new),
    )
    .await?;
    Ok((StatusCode::CREATED, answer(&state, &id).await?))
}

/// The settings after `patch`, checked.
fn patched(mut s: LectureSettings, patch: &LecturePatch) -> Result<LectureSettings, ApiError> {
    if let Some(title) = &patch.title {
        check_text("title", title, 200)?;
        s.title.clone_from(title);
    }
    if let Some(v) = patch.available_from {
        s.available_from = v;
    }
    if let Some(v) = patch.available_until {
        s.available_until = v;
    }
    if let Some(v) = patch.trim_in {
        s.trim_in = v;
    }
    if let Some(v) = patch.trim_out {
        s.trim_out = v;
    }
    if let (Some(from), Some(until)) = (s.available_from, s.available_until) {
        if until <= from {
            return Err(ApiError::BadRequest(
                "available_until must be after available_from".into(),
            ));
        }
    }
    for (name, value) in [("trim_in", s.trim_in), ("trim_out", s.trim_out)] {
        if value.is_some_and(|v| !v.is_finite() || v < 0.0) {
            return Err(ApiError::BadRequest(format!(
                "{name} must be a number of seconds, 0 or more"
            )));
        }
    }
    if let (Some(trim_in), Some(trim_out)) = (s.trim_in, s.trim_out) {
        if trim_out <= trim_in {
            return Err(ApiError::BadRequest(
                "trim_out must be after trim_in".into(),
            ));
        }
    }
    Ok(s)
}

#[utoipa::path(patch, path = "/api/v1/lectures/{id}", tag = "lectures", security(("session" = [])),
    params(("id" = String, Path, description = "lecture id")), request_body = LecturePatch,
    responses((status = 200, body = api::Lecture), (status = 400, body = api::ErrorBody),
        (status = 401, body = api::ErrorBody),
        (status = 404, body = api::ErrorBody, description = "no such lecture, or the caller does not manage its course")))]
async fn update(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(lecture_id): Path<String>,
    extract::Json(patch): extract::Json<LecturePatch>,
) -> Result<Json<api::Lecture>, ApiError> {
    let row = managed_lecture(&state, &user, &lecture_id).await?;
    let settings = patched(row.settings, &patch)?;
    state
        .store
        .update_lecture_settings(&lecture_id, &settings)
        .await?;
    audit(
        &state,
        &user,
        "lecture.update",
        "lecture",
        Some(&lecture_id),
        json!(patch),
    )
    .await?;
    answer(&state, &lecture_id).await
}

async fn set_published(
    state: AppState,
    user: User,
    lecture_id: String,
    published: bool,
) -> Result<Json<api::Lecture>, ApiError> {
    let row = managed_lecture(&state, &user, &lecture_id).await?;
    let settings = LectureSettings {
        published,
        ..row.settings
    };
    state
        .store
        .update_lecture_settings(&lecture_id, &settings)
        .await?;
    let action = if published {
        "lecture.publish"
    } else {
        "lecture.unpublish"
    };
    audit(
        &state,
        &user,
        action,
        "lecture",
        Some(&lecture_id),
        json!({}),
    )
    .await?;
    answer(&state, &lecture_id).await
}

#[utoipa::path(post, path = "/api/v1/lectures/{id}/publish", tag = "lectures", security(("session" = [])),
    params(("id" = String, Path, description = "lecture id")),
    responses((status = 200, body = api::Lecture, description = "students of the course see it (inside its availability window)"),
        (status = 401, body = api::ErrorBody),
        (status = 404, body = api::ErrorBody, description = "no such lecture, or the caller does not manage its course")))]
async fn publish(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(lecture_id): Path<String>,
) -> Result<Json<api::Lecture>, ApiError> {
    set_published(state, user, lecture_id, true).await
}

#[utoipa::path(post, path = "/api/v1/lectures/{id}/unpublish", tag = "lectures", security(("session" = [])),
    params(("id" = String, Path, description = "lecture id")),
    responses((status = 200, body = api::Lecture, description = "hidden from students at once; staff still see it"),
        (status = 401, body = api::ErrorBody),
        (status = 404, body = api::ErrorBody, description = "no such lecture, or the caller does not manage its course")))]
async fn unpublish(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(lecture_id): Path<String>,
) -> Result<Json<api::Lecture>, ApiError> {
    set_published(state, user, lecture_id, false).await
}

#[utoipa::path(delete, path = "/api/v1/lectures/{id}", tag = "lectures", security(("session" = [])),
    params(("id" = String, Path, description = "lecture id")),
    responses((status = 204, description = "deleted with every stored object of it (segments, playlists, raw chunks, an uploaded file)"),
        (status = 401, body = api::ErrorBody),
        (status = 404, body = api::ErrorBody, description = "no such lecture, or the caller does not manage its course"),
        (status = 409, body = api::ErrorBody, description = "it is being recorded: stop the recording first")))]
async fn remove(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(lecture_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let row = managed_lecture(&state, &user, &lecture_id).await?;
    if row.state == LectureState::Capturing {
        return Err(ApiError::Conflict(
            "the lecture is being recorded: stop the recording before deleting it".into(),
        ));
    }
    // Objects first: if storage fails, the lecture stays and the delete can be retried.
    let mut objects = 0;
    for prefix in [
        keys::lecture_prefix(&lecture_id),
        keys::raw_prefix(&lecture_id),
        keys::upload_prefix(&lecture_id),
    ] {
        objects += state
            .storage
            .delete_prefix(&prefix)
            .await
            .map_err(|e| ApiError::Internal(format!("deleting {prefix}: {e}")))?;
    }
    if !state.store.delete_lecture(&lecture_id).await? {
        // Deleted by someone else meanwhile, or a planned lecture that a box began recording
        // after the check above.
        return Err(match state.store.lecture(&lecture_id).await? {
            None => ApiError::NotFound,
            Some(_) => ApiError::Conflict(
                "the lecture is being recorded: stop the recording before deleting it".into(),
            ),
        });
    }
    let detail =
        json!({"title": row.settings.title, "course_id": row.course_id, "objects": objects});
    audit(
        &state,
        &user,
        "lecture.delete",
        "lecture",
        Some(&lecture_id),
        detail,
    )
    .await?;
    tracing::info!(lecture = %lecture_id, objects, "lecture deleted with its media");
    Ok(StatusCode::NO_CONTENT)
}
