//! CSV import of courses and enrolments, the way registrars hand data over: admins post the
//! file as the body (`text/csv`, up to 16 MiB) and get a report of what was created, changed
//! and left alone, and of every rejected row with its line and reason. Rows are applied one
//! by one, so a file with a few bad rows still brings in the good ones; importing the same
//! file twice changes nothing the second time.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use lectern_wire::admin::{ImportReport, NewCourse, RejectedRow};
use lectern_wire::api::{self, Course, CourseRole, Role};
use serde_json::json;

use super::audit;
use crate::auth::AdminUser;
use crate::error::ApiError;
use crate::import::{self, CourseRecord, EnrolmentRecord, ImportError};
use crate::startup::AppState;
use crate::store::{CourseError, NewAccount, Store, StoreError, User};

/// The import routes, which the app gives their own body limit ([`import::MAX_CSV_BYTES`]).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/imports/courses", post(courses))
        .route("/imports/enrolments", post(enrolments))
}

impl From<ImportError> for ApiError {
    fn from(e: ImportError) -> ApiError {
        ApiError::BadRequest(e.to_string())
    }
}

#[utoipa::path(post, path = "/api/v1/imports/courses", tag = "institute", security(("session" = [])),
    request_body(content = String, content_type = "text/csv",
        description = "A header row naming code, title, term and optionally auto_publish (true/false), in any order; then one course per row. A course is matched by code and term: a new one is created, an existing one gets the file's title."),
    responses((status = 200, body = ImportReport), (status = 400, body = api::ErrorBody, description = "the file cannot be read (no or a wrong header, not UTF-8)"),
        (status = 401, body = api::ErrorBody), (status = 404, body = api::ErrorBody, description = "not an admin"),
        (status = 413, description = "larger than 16 MiB: split the file")))]
async fn courses(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    body: Bytes,
) -> Result<Json<ImportReport>, ApiError> {
    let parsed = import::courses(&body)?;
    let mut report = ImportReport {
        rejected: parsed.rejected,
        ..ImportReport::default()
    };
    for record in parsed.records {
        let outcome = import_course(&state.store, &admin, &record).await;
        tally(&mut report, record.line, outcome)?;
    }
    finish(&state, &admin, "import.courses", report).await
}

#[utoipa::path(post, path = "/api/v1/imports/enrolments", tag = "institute", security(("session" = [])),
    request_body(content = String, content_type = "text/csv",
        description = "A header row naming course_code, term, email, role (student, teaching_assistant or instructor) and optionally name and age_band (under_13, 13_to_17 or adult); then one enrolment per row. A person without an account is given one when the row has a name (they sign in after an admin invites them), in the row's age band (adult when blank); without a name the row is rejected. The age band of an existing account is left as it is."),
    responses((status = 200, body = ImportReport), (status = 400, body = api::ErrorBody, description = "the file cannot be read (no or a wrong header, not UTF-8)"),
        (status = 401, body = api::ErrorBody), (status = 404, body = api::ErrorBody, description = "not an admin"),
        (status = 413, description = "larger than 16 MiB: split the file")))]
async fn enrolments(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    body: Bytes,
) -> Result<Json<ImportReport>, ApiError> {
    let parsed = import::enrolments(&body)?;
    let mut report = ImportReport {
        rejected: parsed.rejected,
        ..ImportReport::default()
    };
    let mut courses = HashMap::new();
    for record in parsed.records {
        let outcome =
            import_enrolment(&state.store, &admin, &record, &mut courses, &mut report).await;
        tally(&mut report, record.line, outcome)?;
    }
    finish(&state, &admin, "import.enrolments", report).await
}

/// Counts what applying the row on `line` did; a database failure ends the import (a 500).
fn tally(
    report: &mut ImportReport,
    line: u64,
    outcome: Result<Outcome, Row>,
) -> Result<(), ApiError> {
    match outcome {
        Ok(Outcome::Created) => report.created += 1,
        Ok(Outcome::Updated) => report.updated += 1,
        Ok(Outcome::Unchanged) => report.unchanged += 1,
        Err(Row::Rejected(reason)) => report.rejected.push(RejectedRow { line, reason }),
        Err(Row::Failed(e)) => return Err(e.into()),
    }
    Ok(())
}

/// Audits an import with its counts (the rows themselves stay in the registrar's file).
async fn finish(
    state: &AppState,
    admin: &User,
    action: &str,
    mut report: ImportReport,
) -> Result<Json<ImportReport>, ApiError> {
    report.rejected.sort_by_key(|r| r.line);
    let detail = json!({
        "created": report.created, "updated": report.updated, "unchanged": report.unchanged,
        "users_created": report.users_created.len(), "rejected": report.rejected.len(),
    });
    audit(
        state,
        admin,
        action,
        "institute",
        Some(&admin.institute_id),
        detail,
    )
    .await?;
    tracing::info!(
        action,
        created = report.created,
        updated = report.updated,
        rejected = report.rejected.len(),
        "import applied"
    );
    Ok(Json(report))
}

/// What applying one row did.
enum Outcome {
    Created,
    Updated,
    Unchanged,
}

/// Why a row was not applied: the row's fault (reported), or the database's (a 500).
enum Row {
    Rejected(String),
    Failed(StoreError),
}

impl From<StoreError> for Row {
    fn from(e: StoreError) -> Row {
        Row::Failed(e)
    }
}

async fn import_course(store: &Store, admin: &User, r: &CourseRecord) -> Result<Outcome, Row> {
    let existing = store
        .course_by_code(&admin.institute_id, &r.code, &r.term)
        .await?;
    let Some(course) = existing else {
        let new = NewCourse {
            code: r.code.clone(),
            title: r.title.clone(),
            term: r.term.clone(),
            auto_publish: r.auto_publish.unwrap_or(true),
        };
        return match store.create_course(&admin.institute_id, &new).await {
            Ok(_) => Ok(Outcome::Created),
            // The same code and term twice in one file: the second row finds the first.
            Err(CourseError::Duplicate { .. }) => Ok(Outcome::Unchanged),
            Err(CourseError::Store(e)) => Err(Row::Failed(e)),
            Err(other) => Err(Row::Rejected(other.to_string())),
        };
    };
    let auto_publish = r.auto_publish.unwrap_or(course.auto_publish);
    if course.title == r.title && course.auto_publish == auto_publish {
        return Ok(Outcome::Unchanged);
    }
    let patch = lectern_wire::admin::CoursePatch {
        title: Some(r.title.clone()),
        auto_publish: Some(auto_publish),
        ..Default::default()
    };
    match store.update_course(&course, &patch).await {
        Ok(()) => Ok(Outcome::Updated),
        Err(CourseError::Store(e)) => Err(Row::Failed(e)),
        Err(other) => Err(Row::Rejected(other.to_string())),
    }
}

/// A person's institute role from the course role the file gives them.
fn institute_role(role: CourseRole) -> Role {
    match role {
        CourseRole::Instructor => Role::Instructor,
        CourseRole::Student | CourseRole::TeachingAssistant => Role::Student,
    }
}

async fn import_enrolment(
    store: &Store,
    admin: &User,
    r: &EnrolmentRecord,
    courses: &mut HashMap<(String, String), Option<Course>>,
    report: &mut ImportReport,
) -> Result<Outcome, Row> {
    let key = (r.course_code.clone(), r.term.clone());
    let course = match courses.get(&key) {
        Some(course) => course.clone(),
        None => {
            let course = store
                .course_by_code(&admin.institute_id, &r.course_code, &r.term)
                .await?;
            courses.insert(key, course.clone());
            course
        }
    };
    let Some(course) = course else {
        return Err(Row::Rejected(format!(
            "the institute has no course {} in {}: import or create it first",
            r.course_code, r.term
        )));
    };
    let user_id = match store.user_by_email(&r.email).await? {
        Some((id, institute)) if institute == admin.institute_id => id,
        Some(_) => {
            return Err(Row::Rejected(format!(
                "{} is the sign-in of an account this institute does not manage",
                r.email
            )))
        }
        None => {
            let Some(name) = &r.name else {
                return Err(Row::Rejected(format!(
                    "{} has no account: add a name column to create one, or invite them first",
                    r.email
                )));
            };
            // No password: the account waits for an admin's invitation.
            let account = NewAccount {
                institute_id: &admin.institute_id,
                email: &r.email,
                name,
                role: institute_role(r.role),
                password_hash: "",
                age_band: r.age_band,
            };
            let id = store.ensure_user(&account).await?;
            report.users_created.push(id.clone());
            id
        }
    };
    let before = store.enrolment_role(&course.id, &user_id).await?;
    if before == Some(r.role) {
        return Ok(Outcome::Unchanged);
    }
    store.set_enrolment(&course.id, &user_id, r.role).await?;
    Ok(match before {
        None => Outcome::Created,
        Some(_) => Outcome::Updated,
    })
}
