//! Recurring schedules: admins write them, audited; a course's staff (instructors and
//! teaching assistants) read them, since they see every lecture the schedules record anyway.
//! A timing the catalog refuses answers 400 saying what was wrong; an overlap with another
//! schedule of the room answers 409 naming it.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use lectern_wire::admin::{NewSchedule, Schedule, SchedulePatch};
use lectern_wire::api;
use serde_json::json;

use super::courses::course_for;
use super::extract::{self, Path};
use super::page::{PageParams, PageQuery};
use super::{audit, check_text};
use crate::auth::{AdminUser, AuthUser};
use crate::error::ApiError;
use crate::startup::AppState;
use crate::store::{CourseAccess, ScheduleError, User};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/courses/{id}/schedules", get(list))
        .route("/schedules", post(create))
        .route("/schedules/{id}", get(read).patch(update).delete(delete))
}

impl From<ScheduleError> for ApiError {
    fn from(e: ScheduleError) -> ApiError {
        match e {
            ScheduleError::Invalid(e) => ApiError::BadRequest(e.to_string()),
            e @ ScheduleError::Clash { .. } => ApiError::Conflict(e.to_string()),
            ScheduleError::Store(e) => ApiError::Store(e),
        }
    }
}

const TITLE_MAX: usize = 200;

/// The schedule, if `user` is on its course's staff or an admin of its institute; 404
/// otherwise. `manage` asks for an admin.
async fn schedule_for(
    state: &AppState,
    user: &User,
    id: &str,
    manage: bool,
) -> Result<Schedule, ApiError> {
    let schedule = state.store.schedule(id).await?.ok_or(ApiError::NotFound)?;
    let course = course_for(state, user, &schedule.course_id).await?;
    let allowed = if manage {
        course.access == CourseAccess::Admin
    } else {
        course.access.manages_lectures()
    };
    allowed.then_some(schedule).ok_or(ApiError::NotFound)
}

/// 404 unless the course and the room are the admin's institute's.
async fn check_course_and_room(
    state: &AppState,
    admin: &User,
    course_id: &str,
    room_id: &str,
) -> Result<(), ApiError> {
    course_for(state, admin, course_id).await?;
    state
        .store
        .room(&admin.institute_id, room_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(())
}

#[utoipa::path(get, path = "/api/v1/courses/{id}/schedules", tag = "schedules", security(("session" = [])),
    params(("id" = String, Path, description = "course id"), PageParams),
    responses((status = 200, body = [Schedule], description = "by first start"), (status = 400, body = api::ErrorBody),
        (status = 401, body = api::ErrorBody),
        (status = 404, body = api::ErrorBody, description = "no such course, or the caller is not on its staff or an admin")))]
async fn list(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(course_id): Path<String>,
    page: PageQuery,
) -> Result<Response, ApiError> {
    let course = course_for(&state, &user, &course_id).await?;
    if !course.access.manages_lectures() {
        return Err(ApiError::NotFound);
    }
    let schedules = state
        .store
        .course_schedules(&course_id, page.probe())
        .await?;
    Ok(page.answer(schedules))
}

#[utoipa::path(post, path = "/api/v1/schedules", tag = "schedules", security(("session" = [])),
    request_body = NewSchedule,
    responses((status = 201, body = Schedule),
        (status = 400, body = api::ErrorBody, description = "a bad title, time zone, rule or duration, said which"),
        (status = 401, body = api::ErrorBody),
        (status = 404, body = api::ErrorBody, description = "not an admin, or the course or room is not the institute's"),
        (status = 409, body = api::ErrorBody, description = "overlaps another schedule of the room, named")))]
async fn create(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    extract::Json(new): extract::Json<NewSchedule>,
) -> Result<(StatusCode, Json<Schedule>), ApiError> {
    check_text("title", &new.title, TITLE_MAX)?;
    check_course_and_room(&state, &admin, &new.course_id, &new.room_id).await?;
    let schedule = state.store.create_schedule(&new, Utc::now()).await?;
    audit(
        &state,
        &admin,
        "schedule.create",
        "schedule",
        Some(&schedule.id),
        json!(new),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(schedule)))
}

#[utoipa::path(get, path = "/api/v1/schedules/{id}", tag = "schedules", security(("session" = [])),
    params(("id" = String, Path, description = "schedule id")),
    responses((status = 200, body = Schedule), (status = 401, body = api::ErrorBody),
        (status = 404, body = api::ErrorBody, description = "no such schedule, or the caller is not on its course's staff or an admin")))]
async fn read(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
) -> Result<Json<Schedule>, ApiError> {
    Ok(Json(schedule_for(&state, &user, &id, false).await?))
}

#[utoipa::path(patch, path = "/api/v1/schedules/{id}", tag = "schedules", security(("session" = [])),
    params(("id" = String, Path, description = "schedule id")), request_body = SchedulePatch,
    responses((status = 200, body = Schedule),
        (status = 400, body = api::ErrorBody, description = "a bad title, time zone, rule or duration, said which"),
        (status = 401, body = api::ErrorBody),
        (status = 404, body = api::ErrorBody, description = "no such schedule, course or room in the institute, or not an admin"),
        (status = 409, body = api::ErrorBody, description = "overlaps another schedule of the room, named")))]
async fn update(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<String>,
    extract::Json(patch): extract::Json<SchedulePatch>,
) -> Result<Json<Schedule>, ApiError> {
    let mut schedule = schedule_for(&state, &admin, &id, true).await?;
    let p = patch.clone();
    schedule.course_id = p.course_id.unwrap_or(schedule.course_id);
    schedule.room_id = p.room_id.unwrap_or(schedule.room_id);
    schedule.title = p.title.unwrap_or(schedule.title);
    schedule.first_start = p.first_start.unwrap_or(schedule.first_start);
    schedule.timezone = p.timezone.unwrap_or(schedule.timezone);
    schedule.rrule = p.rrule.unwrap_or(schedule.rrule);
    schedule.duration_minutes = p.duration_minutes.unwrap_or(schedule.duration_minutes);
    check_text("title", &schedule.title, TITLE_MAX)?;
    check_course_and_room(&state, &admin, &schedule.course_id, &schedule.room_id).await?;
    state
        .store
        .update_schedule(&mut schedule, Utc::now())
        .await?;
    audit(
        &state,
        &admin,
        "schedule.update",
        "schedule",
        Some(&id),
        json!(patch),
    )
    .await?;
    Ok(Json(schedule))
}

#[utoipa::path(delete, path = "/api/v1/schedules/{id}", tag = "schedules", security(("session" = [])),
    params(("id" = String, Path, description = "schedule id")),
    responses((status = 204, description = "deleted; lectures recorded under it stay in their course"),
        (status = 401, body = api::ErrorBody),
        (status = 404, body = api::ErrorBody, description = "no such schedule in the institute, or not an admin")))]
async fn delete(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let schedule = schedule_for(&state, &admin, &id, true).await?;
    state.store.delete_schedule(&id).await?;
    let detail = json!({
        "title": schedule.title, "course_id": schedule.course_id, "room_id": schedule.room_id
    });
    audit(
        &state,
        &admin,
        "schedule.delete",
        "schedule",
        Some(&id),
        detail,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
