//! Managing courses and who is enrolled in them. Admins create and delete courses; a
//! course's instructors and its institute's admins change it and its enrolments; teaching
//! assistants and students only read. Every change is audited, and so is every listing of
//! enrolments (it shows other people's names and emails).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use lectern_wire::admin::{CoursePatch, Enrolment, EnrolmentRequest, NewCourse};
use lectern_wire::api::{self, Course};
use serde_json::json;

use super::extract::{self, Path};
use super::page::{PageParams, PageQuery};
use super::{audit, check_text};
use crate::auth::{AdminUser, AuthUser};
use crate::error::ApiError;
use crate::startup::AppState;
use crate::store::{CourseEntry, CourseError, User};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/courses", post(create))
        .route("/courses/{id}", get(read).patch(update).delete(delete))
        .route("/courses/{id}/enrolments", get(enrolments))
        .route(
            "/courses/{id}/enrolments/{user_id}",
            put(enrol).delete(unenrol),
        )
}

impl From<CourseError> for ApiError {
    fn from(e: CourseError) -> ApiError {
        match e {
            CourseError::Store(e) => ApiError::Store(e),
            other => ApiError::Conflict(other.to_string()),
        }
    }
}

/// The course, if `user` has standing in it; 404 otherwise.
pub(super) async fn course_for(
    state: &AppState,
    user: &User,
    course_id: &str,
) -> Result<CourseEntry, ApiError> {
    state
        .store
        .course_for(user, course_id)
        .await?
        .ok_or(ApiError::NotFound)
}

/// The course, if `user` may change it and its enrolments (its instructors, the institute's
/// admins); 404 for everyone else, its students and TAs included.
async fn managed_course(
    state: &AppState,
    user: &User,
    course_id: &str,
) -> Result<CourseEntry, ApiError> {
    let course = course_for(state, user, course_id).await?;
    if course.access.manages_course() {
        Ok(course)
    } else {
        Err(ApiError::NotFound)
    }
}

fn check_course_fields(code: &str, title: &str, term: &str) -> Result<(), ApiError> {
    check_text("code", code, 32)?;
    check_text("title", title, 200)?;
    check_text("term", term, 64)
}

#[utoipa::path(post, path = "/api/v1/courses", tag = "courses", security(("session" = [])),
    request_body = NewCourse,
    responses((status = 201, body = api::Course), (status = 400, body = api::ErrorBody),
        (status = 401, body = api::ErrorBody), (status = 404, body = api::ErrorBody, description = "not an admin"),
        (status = 409, body = api::ErrorBody, description = "the institute has a course with this code in this term")))]
async fn create(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    extract::Json(new): extract::Json<NewCourse>,
) -> Result<(StatusCode, Json<Course>), ApiError> {
    check_course_fields(&new.code, &new.title, &new.term)?;
    let id = state.store.create_course(&admin.institute_id, &new).await?;
    audit(
        &state,
        &admin,
        "course.create",
        "course",
        Some(&id),
        json!(new),
    )
    .await?;
    let course = course_for(&state, &admin, &id).await?.course;
    Ok((StatusCode::CREATED, Json(course)))
}

#[utoipa::path(get, path = "/api/v1/courses/{id}", tag = "courses", security(("session" = [])),
    params(("id" = String, Path, description = "course id")),
    responses((status = 200, body = api::Course), (status = 401, body = api::ErrorBody),
        (status = 404, body = api::ErrorBody, description = "no such course, or not visible to the caller")))]
async fn read(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(course_id): Path<String>,
) -> Result<Json<Course>, ApiError> {
    Ok(Json(course_for(&state, &user, &course_id).await?.course))
}

#[utoipa::path(patch, path = "/api/v1/courses/{id}", tag = "courses", security(("session" = [])),
    params(("id" = String, Path, description = "course id")), request_body = CoursePatch,
    responses((status = 200, body = api::Course), (status = 400, body = api::ErrorBody),
        (status = 401, body = api::ErrorBody),
        (status = 404, body = api::ErrorBody, description = "no such course, or the caller is not its instructor or an admin"),
        (status = 409, body = api::ErrorBody, description = "the new code and term are taken")))]
async fn update(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(course_id): Path<String>,
    extract::Json(patch): extract::Json<CoursePatch>,
) -> Result<Json<Course>, ApiError> {
    let entry = managed_course(&state, &user, &course_id).await?;
    let c = &entry.course;
    check_course_fields(
        patch.code.as_deref().unwrap_or(&c.code),
        patch.title.as_deref().unwrap_or(&c.title),
        patch.term.as_deref().unwrap_or(&c.term),
    )?;
    state.store.update_course(c, &patch).await?;
    audit(
        &state,
        &user,
        "course.update",
        "course",
        Some(&c.id),
        json!(patch),
    )
    .await?;
    Ok(Json(course_for(&state, &user, &course_id).await?.course))
}

#[utoipa::path(delete, path = "/api/v1/courses/{id}", tag = "courses", security(("session" = [])),
    params(("id" = String, Path, description = "course id")),
    responses((status = 204, description = "deleted, with its enrolments and schedules"),
        (status = 401, body = api::ErrorBody), (status = 404, body = api::ErrorBody, description = "no such course, or not an admin"),
        (status = 409, body = api::ErrorBody, description = "the course still has lectures")))]
async fn delete(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(course_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let entry = course_for(&state, &admin, &course_id).await?;
    state.store.delete_course(&course_id).await?;
    let detail = json!({"code": entry.course.code, "term": entry.course.term});
    audit(
        &state,
        &admin,
        "course.delete",
        "course",
        Some(&course_id),
        detail,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/courses/{id}/enrolments", tag = "courses", security(("session" = [])),
    params(("id" = String, Path, description = "course id"), PageParams),
    responses((status = 200, body = [Enrolment], description = "instructors, then TAs, then students, by name"),
        (status = 401, body = api::ErrorBody),
        (status = 404, body = api::ErrorBody, description = "no such course, or the caller is not on its staff or an admin")))]
async fn enrolments(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(course_id): Path<String>,
    page: PageQuery,
) -> Result<Response, ApiError> {
    let entry = course_for(&state, &user, &course_id).await?;
    if !entry.access.manages_lectures() {
        return Err(ApiError::NotFound);
    }
    let people = state.store.enrolments(&course_id, page.probe()).await?;
    let detail =
        json!({"offset": page.page.offset, "count": people.len().min(page.page.limit as usize)});
    audit(
        &state,
        &user,
        "enrolment.read",
        "course",
        Some(&course_id),
        detail,
    )
    .await?;
    Ok(page.answer(people))
}

#[utoipa::path(put, path = "/api/v1/courses/{id}/enrolments/{user_id}", tag = "courses", security(("session" = [])),
    params(("id" = String, Path, description = "course id"), ("user_id" = String, Path, description = "a user of the same institute")),
    request_body = EnrolmentRequest,
    responses((status = 204, description = "enrolled, or the role changed"), (status = 400, body = api::ErrorBody),
        (status = 401, body = api::ErrorBody),
        (status = 404, body = api::ErrorBody, description = "no such course or user, or the caller may not manage the course")))]
async fn enrol(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path((course_id, user_id)): Path<(String, String)>,
    extract::Json(req): extract::Json<EnrolmentRequest>,
) -> Result<StatusCode, ApiError> {
    let entry = managed_course(&state, &user, &course_id).await?;
    let member = state.store.user_institute(&user_id).await?;
    if member.as_deref() != Some(entry.institute_id.as_str()) {
        return Err(ApiError::NotFound);
    }
    state
        .store
        .set_enrolment(&course_id, &user_id, req.role)
        .await?;
    let detail = json!({"user_id": user_id, "role": req.role});
    audit(
        &state,
        &user,
        "enrolment.set",
        "course",
        Some(&course_id),
        detail,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/courses/{id}/enrolments/{user_id}", tag = "courses", security(("session" = [])),
    params(("id" = String, Path, description = "course id"), ("user_id" = String, Path, description = "an enrolled user")),
    responses((status = 204, description = "no longer enrolled: new playback tokens stop at once"),
        (status = 401, body = api::ErrorBody),
        (status = 404, body = api::ErrorBody, description = "no such course or enrolment, or the caller may not manage the course")))]
async fn unenrol(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path((course_id, user_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    managed_course(&state, &user, &course_id).await?;
    if !state.store.remove_enrolment(&course_id, &user_id).await? {
        return Err(ApiError::NotFound);
    }
    let detail = json!({"user_id": user_id});
    audit(
        &state,
        &user,
        "enrolment.remove",
        "course",
        Some(&course_id),
        detail,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
