//! Jobs (see `store::jobs`): workers claim them, heartbeat, complete them with their segment
//! index or fail them; the staff of a lecture's course read how far they are.
//!
//! A worker acts only on the jobs it holds. Any other worker's heartbeat, completion or
//! failure of a job answers 409, the same as the former holder's once its lease was lost to
//! another worker: job ids are not secrets between an institute's own machines, and the one
//! answer tells every worker the same thing, to stop. An unknown job is 404.

use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use lectern_wire::api::ErrorBody;
use lectern_wire::jobs::{CompleteJob, FailJob, Job, JobHeartbeat, LectureJob};
use std::collections::HashSet;
use tower_http::limit::RequestBodyLimitLayer;

use super::check_name;
use super::extract::{self, Path};
use super::lectures::managed_lecture;
use super::worker::{check_rendition, check_segment, check_thumbnails};
use crate::auth::{AuthUser, WorkerAuth};
use crate::error::ApiError;
use crate::startup::AppState;
use crate::store::{FailOutcome, JobError};

/// The largest completion the catalog reads: a segment index is about 150 bytes a segment,
/// so this holds some 200,000 segments (four hours of 1 s segments, 2 tracks × 8 rungs).
pub const MAX_COMPLETION_BYTES: usize = 32 * 1024 * 1024;

/// How much of a worker's error message a person is shown.
const MAX_ERROR_CHARS: usize = 500;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/worker/jobs/claim", post(claim))
        .route("/worker/jobs/{id}/heartbeat", post(heartbeat))
        .route("/worker/jobs/{id}/fail", post(fail))
        .route("/lectures/{id}/jobs", get(lecture_jobs))
}

/// The completion route, which takes bodies up to [`MAX_COMPLETION_BYTES`] instead of the
/// API's usual limit (`startup::app` mounts it outside that limit).
pub fn complete_router() -> Router<AppState> {
    Router::new()
        .route("/worker/jobs/{id}/complete", post(complete))
        .layer(DefaultBodyLimit::max(MAX_COMPLETION_BYTES))
        .layer(RequestBodyLimitLayer::new(MAX_COMPLETION_BYTES))
}

impl From<JobError> for ApiError {
    fn from(e: JobError) -> ApiError {
        match e {
            JobError::NotFound => ApiError::NotFound,
            JobError::LeaseLost | JobError::NotRunning(_) => ApiError::Conflict(e.to_string()),
            JobError::Store(e) => ApiError::Store(e),
        }
    }
}

/// Hands this worker the oldest queued job (or one whose holder's lease ran out) under a
/// new lease.
#[tracing::instrument(skip_all, fields(worker = %worker.id))]
#[utoipa::path(post, path = "/api/v1/worker/jobs/claim", tag = "jobs", security(("worker_token" = [])),
    responses((status = 200, body = Job, description = "the job, now held by this worker until lease_expires_at"),
        (status = 204, description = "no job to do"), (status = 401, body = ErrorBody)))]
async fn claim(
    State(state): State<AppState>,
    WorkerAuth(worker): WorkerAuth,
) -> Result<Response, ApiError> {
    let policy = &state.config.jobs;
    let Some(job) = state
        .store
        .claim_job(&worker.id, policy, Utc::now())
        .await?
    else {
        return Ok(StatusCode::NO_CONTENT.into_response());
    };
    tracing::info!(job = %job.id, kind = job.kind.as_str(), lecture = %job.lecture_id, attempt = job.attempt, "job claimed");
    Ok(Json(Job {
        id: job.id,
        kind: job.kind,
        lecture_id: job.lecture_id,
        payload: job.payload,
        attempt: job.attempt,
        lease_expires_at: job.lease_expires_at,
        lease_seconds: policy.lease_seconds,
    })
    .into_response())
}

#[tracing::instrument(skip_all, fields(worker = %worker.id, job = %id))]
#[utoipa::path(post, path = "/api/v1/worker/jobs/{id}/heartbeat", tag = "jobs", security(("worker_token" = [])),
    params(("id" = String, Path, description = "job id")), request_body = JobHeartbeat,
    responses((status = 204, description = "the lease runs lease_seconds from now; progress recorded"),
        (status = 400, body = ErrorBody, description = "progress is not between 0 and 1"),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody, description = "no such job"),
        (status = 409, body = ErrorBody, description = "another worker holds the job (this worker's lease was lost), or it is no longer running: stop working on it")))]
async fn heartbeat(
    State(state): State<AppState>,
    WorkerAuth(worker): WorkerAuth,
    Path(id): Path<String>,
    extract::Json(req): extract::Json<JobHeartbeat>,
) -> Result<StatusCode, ApiError> {
    if !(0.0..=1.0).contains(&req.progress) {
        return Err(ApiError::BadRequest(
            "progress must be a number from 0 to 1".into(),
        ));
    }
    state
        .store
        .heartbeat_job(
            &worker.id,
            &id,
            req.progress,
            &state.config.jobs,
            Utc::now(),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Records the segment index and marks the job done, in one transaction; a new
/// `media_version` replaces the lecture's media at once.
#[tracing::instrument(skip_all, fields(worker = %worker.id, job = %id))]
#[utoipa::path(post, path = "/api/v1/worker/jobs/{id}/complete", tag = "jobs", security(("worker_token" = [])),
    params(("id" = String, Path, description = "job id")), request_body = CompleteJob,
    responses((status = 204, description = "done: the segments are the lecture's (a lecture waiting for the job is ready); also when this worker completed it already"),
        (status = 400, body = ErrorBody, description = "a malformed index: no segment, a bad name, a segment of no listed rendition"),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody, description = "no such job"),
        (status = 409, body = ErrorBody, description = "another worker holds the job (this worker's lease was lost), or it is no longer running; nothing was recorded"),
        (status = 413, description = "the index is larger than 32 MiB")))]
async fn complete(
    State(state): State<AppState>,
    WorkerAuth(worker): WorkerAuth,
    Path(id): Path<String>,
    extract::Json(req): extract::Json<CompleteJob>,
) -> Result<StatusCode, ApiError> {
    check_index(&req)?;
    state
        .store
        .complete_job(&worker.id, &id, &req, Utc::now())
        .await?;
    tracing::info!(
        segments = req.segments.len(),
        version = req.media_version.as_deref(),
        "job completed"
    );
    Ok(StatusCode::NO_CONTENT)
}

/// Every name may become part of a storage key, and every segment belongs to a rendition
/// of the index, so the lecture never lists a segment it cannot describe.
fn check_index(index: &CompleteJob) -> Result<(), ApiError> {
    if let Some(version) = &index.media_version {
        check_name("media_version", version)?;
    }
    if index.segments.is_empty() {
        return Err(ApiError::BadRequest(
            "segments must list what the job stored (none given)".into(),
        ));
    }
    let mut renditions = HashSet::new();
    for r in &index.renditions {
        check_rendition(r)?;
        renditions.insert((r.track.as_str(), r.rung.as_str()));
    }
    for t in &index.thumbnails {
        check_thumbnails(t)?;
    }
    for s in &index.segments {
        check_segment(s)?;
        if !renditions.contains(&(s.track.as_str(), s.rung.as_str())) {
            return Err(ApiError::BadRequest(format!(
                "segment {} of {}/{} belongs to no rendition in renditions",
                s.sequence, s.track, s.rung
            )));
        }
    }
    Ok(())
}

/// Ends this attempt: the job goes back to the queue, or fails after its last attempt or
/// when the worker says no attempt can succeed (`retry: false`: the input's fault), failing a
/// `processing` lecture that waited for it, with this error.
#[tracing::instrument(skip_all, fields(worker = %worker.id, job = %id))]
#[utoipa::path(post, path = "/api/v1/worker/jobs/{id}/fail", tag = "jobs", security(("worker_token" = [])),
    params(("id" = String, Path, description = "job id")), request_body = FailJob,
    responses((status = 204, description = "queued again, or failed for good after the last attempt or with retry false"),
        (status = 400, body = ErrorBody, description = "an empty error"),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody, description = "no such job"),
        (status = 409, body = ErrorBody, description = "another worker holds the job (this worker's lease was lost), or it is no longer running")))]
async fn fail(
    State(state): State<AppState>,
    WorkerAuth(worker): WorkerAuth,
    Path(id): Path<String>,
    extract::Json(req): extract::Json<FailJob>,
) -> Result<StatusCode, ApiError> {
    let error = for_a_person(&req.error)?;
    let outcome = state
        .store
        .fail_job(
            &worker.id,
            &id,
            &error,
            req.retry,
            &state.config.jobs,
            Utc::now(),
        )
        .await?;
    match outcome {
        FailOutcome::Retried => tracing::warn!(%error, "job attempt failed; queued again"),
        FailOutcome::Failed if !req.retry => {
            tracing::warn!(%error, "job failed for good: its input is at fault")
        }
        FailOutcome::Failed => tracing::error!(%error, "job failed on its last attempt"),
    }
    Ok(StatusCode::NO_CONTENT)
}

/// A worker's error as people are shown it: one line of at most [`MAX_ERROR_CHARS`]
/// characters (a worker may pass on a multi-line library message).
fn for_a_person(error: &str) -> Result<String, ApiError> {
    let line = error
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if line.is_empty() {
        return Err(ApiError::BadRequest(
            "error must say what went wrong (it is empty)".into(),
        ));
    }
    if line.chars().count() <= MAX_ERROR_CHARS {
        return Ok(line);
    }
    let mut cut: String = line.chars().take(MAX_ERROR_CHARS - 1).collect();
    cut.push('…');
    Ok(cut)
}

/// A lecture's jobs, oldest first, for the staff of its course and the institute's admins
/// (a UI shows "processing 40 %" from them).
#[utoipa::path(get, path = "/api/v1/lectures/{id}/jobs", tag = "lectures", security(("session" = [])),
    params(("id" = String, Path, description = "lecture id")),
    responses((status = 200, body = [LectureJob], description = "oldest first"),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "no such lecture, or the caller does not manage its course")))]
async fn lecture_jobs(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(lecture_id): Path<String>,
) -> Result<Json<Vec<LectureJob>>, ApiError> {
    managed_lecture(&state, &user, &lecture_id).await?;
    Ok(Json(state.store.lecture_jobs(&lecture_id).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_become_one_line_of_bounded_length() {
        assert_eq!(
            for_a_person("  the upload\nis\tincomplete \u{7} ").unwrap(),
            "the upload is incomplete"
        );
        assert!(for_a_person(" \n ").is_err());
        let long = for_a_person(&"x".repeat(MAX_ERROR_CHARS + 10)).unwrap();
        assert_eq!(long.chars().count(), MAX_ERROR_CHARS);
        assert!(long.ends_with('…'));
        assert_eq!(
            for_a_person(&"é".repeat(MAX_ERROR_CHARS)).unwrap(),
            "é".repeat(MAX_ERROR_CHARS)
        );
    }
}
