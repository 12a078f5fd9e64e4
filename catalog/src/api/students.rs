//! A student as the staff of their course see them (issue 7, disclosure only where
//! enrolled): who they are and how far they got in the course's lectures. Only the course's
//! instructors and teaching assistants and the institute's admins see it, and every such
//! read is written to the audit log (`student.read`); for everyone else, and for anyone who
//! is not a student of the course, it does not exist (404).

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use lectern_wire::admin::{StudentLectureProgress, StudentRecord};
use lectern_wire::api::{self, CourseRole};
use serde_json::json;

use super::audit;
use super::courses::course_for;
use super::extract::Path;
use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::startup::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/courses/{id}/students/{user_id}", get(read))
}

#[utoipa::path(get, path = "/api/v1/courses/{id}/students/{user_id}", tag = "courses", security(("session" = [])),
    params(("id" = String, Path, description = "course id"), ("user_id" = String, Path, description = "a student of the course")),
    responses((status = 200, body = StudentRecord, description = "the student's profile, enrolment and progress in the course's lectures; audited as student.read"),
        (status = 401, body = api::ErrorBody),
        (status = 404, body = api::ErrorBody, description = "no such course or student of it, or the caller is not on its staff or an admin")))]
async fn read(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path((course_id, student_id)): Path<(String, String)>,
) -> Result<Json<StudentRecord>, ApiError> {
    let entry = course_for(&state, &user, &course_id).await?;
    if !entry.access.manages_lectures() {
        return Err(ApiError::NotFound);
    }
    let role = state.store.enrolment_role(&course_id, &student_id).await?;
    if role != Some(CourseRole::Student) {
        return Err(ApiError::NotFound);
    }
    let student = state
        .store
        .user_info(&entry.institute_id, &student_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let progress = state
        .store
        .course_progress(&course_id, &student_id)
        .await?
        .into_iter()
        .map(|p| StudentLectureProgress {
            lecture_id: p.lecture_id,
            title: p.title,
            position_seconds: p.progress.position_seconds,
            views: u64::try_from(p.progress.views).unwrap_or(0),
            watched_seconds: p.progress.watched_seconds,
            updated_at: p.progress.updated_at,
        })
        .collect();
    audit(
        &state,
        &user,
        "student.read",
        "user",
        Some(&student_id),
        json!({"course_id": course_id}),
    )
    .await?;
    Ok(Json(StudentRecord {
        user_id: student.id,
        name: student.name,
        email: student.email,
        age_band: student.age_band,
        course_id,
        role: CourseRole::Student,
        progress,
    }))
}
