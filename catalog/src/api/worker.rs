//! What transcode workers say: they are up, a rendition exists, a segment is stored, a
//! track's pictures are stored, a lecture is finished. Their jobs are in [`super::jobs`].
//!
//! A worker reports only on the lectures whose live session the catalog assigned to it
//! ([`crate::store::Store::is_live_worker`]); any other lecture answers 404, as if it did not
//! exist, so one worker's token cannot write into another's lectures.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{Datelike, Utc};
use lectern_wire::worker::{
    FinishLecture, LiveSession, RegisterWorker, RenditionReport, SegmentReport, ThumbnailReport,
};

use super::check_name;
use super::extract::{self, Path};
use crate::auth::WorkerAuth;
use crate::error::ApiError;
use crate::startup::AppState;

/// The longest segment a worker may report; real ones are a few seconds.
const MAX_SEGMENT_SECONDS: f64 = 3600.0;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/worker/register", post(register))
        .route("/worker/sessions", get(sessions))
        .route("/worker/lectures/{id}/renditions", post(rendition))
        .route("/worker/lectures/{id}/segments", post(segment))
        .route("/worker/lectures/{id}/thumbnails", post(thumbnails))
        .route("/worker/lectures/{id}/finish", post(finish))
}

/// A rendition's names may become parts of storage keys.
pub(super) fn check_rendition(r: &RenditionReport) -> Result<(), ApiError> {
    check_name("track", &r.track)?;
    check_name("rung", &r.rung)
}

/// A segment's names may become parts of storage keys; it lasts a while; its sequence fits
/// the databases' integers.
pub(super) fn check_segment(s: &SegmentReport) -> Result<(), ApiError> {
    check_name("track", &s.track)?;
    check_name("rung", &s.rung)?;
    // Bounded, as the lecture's duration is their sum: a few near f64::MAX overflowed it
    // (PostgreSQL then fails every read of the lecture; SQLite gives infinity, which JSON
    // writes as null).
    if !(s.duration > 0.0 && s.duration <= MAX_SEGMENT_SECONDS) {
        return Err(ApiError::BadRequest(format!(
            "duration must be a positive number of seconds, at most {MAX_SEGMENT_SECONDS}"
        )));
    }
    if i64::try_from(s.sequence).is_err() {
        return Err(ApiError::BadRequest("sequence is too large".into()));
    }
    // RFC 3339 years; beyond them PostgreSQL has no timestamp for some (a 500), and SQLite's
    // text no longer sorts in time order.
    if !(0..=9999).contains(&s.program_date_time.year()) {
        return Err(ApiError::BadRequest(
            "program_date_time must be in the years 0000 to 9999".into(),
        ));
    }
    Ok(())
}

/// A track's name may become part of storage keys.
pub(super) fn check_thumbnails(t: &ThumbnailReport) -> Result<(), ApiError> {
    check_name("track", &t.track)
}

/// Also the worker's heartbeat: a worker is offered for live sessions while it registered
/// within the last minute.
#[tracing::instrument(skip_all, fields(worker = %worker.id))]
#[utoipa::path(post, path = "/api/v1/worker/register", tag = "workers", security(("worker_token" = [])),
    request_body = RegisterWorker,
    responses((status = 204, description = "registered; also the heartbeat"), (status = 400, body = lectern_wire::api::ErrorBody),
        (status = 401, body = lectern_wire::api::ErrorBody)))]
async fn register(
    State(state): State<AppState>,
    WorkerAuth(worker): WorkerAuth,
    extract::Json(req): extract::Json<RegisterWorker>,
) -> Result<StatusCode, ApiError> {
    let host = req.srt_host.trim();
    if host.is_empty()
        || host.len() > 253
        || !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
    {
        return Err(ApiError::BadRequest(
            "srt_host must be a host name or an IP address".into(),
        ));
    }
    let [first, last] = req.srt_ports;
    if first == 0 || first > last {
        return Err(ApiError::BadRequest(
            "srt_ports must be [first, last] with 0 < first <= last".into(),
        ));
    }
    state
        .store
        .register_worker(&worker.id, host, (first, last), Utc::now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The capturing lectures assigned to this worker: the live sessions it should listen for,
/// each on its own port with its own passphrase. Workers poll it (about every second).
#[tracing::instrument(skip_all, fields(worker = %worker.id))]
#[utoipa::path(get, path = "/api/v1/worker/sessions", tag = "workers", security(("worker_token" = [])),
    responses((status = 200, body = [LiveSession]), (status = 401, body = lectern_wire::api::ErrorBody)))]
async fn sessions(
    State(state): State<AppState>,
    WorkerAuth(worker): WorkerAuth,
) -> Result<Json<Vec<LiveSession>>, ApiError> {
    let rows = state.store.worker_sessions(&worker.id).await?;
    Ok(Json(
        rows.into_iter()
            .map(|row| LiveSession {
                stream_ids: super::agent::stream_ids(&row.lecture_id, &row.tracks),
                lecture_id: row.lecture_id,
                port: row.port,
                passphrase: row.passphrase,
            })
            .collect(),
    ))
}

#[tracing::instrument(skip_all, fields(worker = %worker.id, lecture = %id))]
#[utoipa::path(post, path = "/api/v1/worker/lectures/{id}/renditions", tag = "workers", security(("worker_token" = [])),
    params(("id" = String, Path, description = "lecture id")),
    request_body = RenditionReport,
    responses((status = 204, description = "upserted by track and rung"), (status = 400, body = lectern_wire::api::ErrorBody),
        (status = 401, body = lectern_wire::api::ErrorBody), (status = 404, body = lectern_wire::api::ErrorBody, description = "unknown lecture, or not one whose live session this worker runs")))]
async fn rendition(
    State(state): State<AppState>,
    WorkerAuth(worker): WorkerAuth,
    Path(id): Path<String>,
    extract::Json(req): extract::Json<RenditionReport>,
) -> Result<StatusCode, ApiError> {
    check_rendition(&req)?;
    if !state.store.upsert_rendition(&worker.id, &id, &req).await? {
        return Err(ApiError::NotFound);
    }
    Ok(StatusCode::NO_CONTENT)
}

#[tracing::instrument(skip_all, fields(worker = %worker.id, lecture = %id))]
#[utoipa::path(post, path = "/api/v1/worker/lectures/{id}/segments", tag = "workers", security(("worker_token" = [])),
    params(("id" = String, Path, description = "lecture id")),
    request_body = SegmentReport,
    responses((status = 204, description = "recorded (idempotent)"), (status = 400, body = lectern_wire::api::ErrorBody),
        (status = 401, body = lectern_wire::api::ErrorBody), (status = 404, body = lectern_wire::api::ErrorBody, description = "unknown lecture, or not one whose live session this worker runs")))]
async fn segment(
    State(state): State<AppState>,
    WorkerAuth(worker): WorkerAuth,
    Path(id): Path<String>,
    extract::Json(req): extract::Json<SegmentReport>,
) -> Result<StatusCode, ApiError> {
    check_segment(&req)?;
    if !state.store.add_segment(&worker.id, &id, &req).await? {
        return Err(ApiError::NotFound);
    }
    state.metrics.segment_reported();
    Ok(StatusCode::NO_CONTENT)
}

#[tracing::instrument(skip_all, fields(worker = %worker.id, lecture = %id))]
#[utoipa::path(post, path = "/api/v1/worker/lectures/{id}/thumbnails", tag = "workers", security(("worker_token" = [])),
    params(("id" = String, Path, description = "lecture id")),
    request_body = ThumbnailReport,
    responses((status = 204, description = "the track's pictures recorded (replacing its last report)"), (status = 400, body = lectern_wire::api::ErrorBody),
        (status = 401, body = lectern_wire::api::ErrorBody), (status = 404, body = lectern_wire::api::ErrorBody, description = "unknown lecture, or not one whose live session this worker runs")))]
async fn thumbnails(
    State(state): State<AppState>,
    WorkerAuth(worker): WorkerAuth,
    Path(id): Path<String>,
    extract::Json(req): extract::Json<ThumbnailReport>,
) -> Result<StatusCode, ApiError> {
    check_thumbnails(&req)?;
    if !state.store.upsert_thumbnails(&worker.id, &id, &req).await? {
        return Err(ApiError::NotFound);
    }
    Ok(StatusCode::NO_CONTENT)
}

#[tracing::instrument(skip_all, fields(worker = %worker.id, lecture = %id))]
#[utoipa::path(post, path = "/api/v1/worker/lectures/{id}/finish", tag = "workers", security(("worker_token" = [])),
    params(("id" = String, Path, description = "lecture id")),
    request_body = FinishLecture,
    responses((status = 204, description = "lecture ready, or failed with the error"), (status = 400, body = lectern_wire::api::ErrorBody),
        (status = 401, body = lectern_wire::api::ErrorBody), (status = 404, body = lectern_wire::api::ErrorBody, description = "unknown lecture, or not one whose live session this worker runs")))]
async fn finish(
    State(state): State<AppState>,
    WorkerAuth(worker): WorkerAuth,
    Path(id): Path<String>,
    extract::Json(req): extract::Json<FinishLecture>,
) -> Result<StatusCode, ApiError> {
    if !state
        .store
        .finish_lecture(&worker.id, &id, req.error.as_deref(), Utc::now())
        .await?
    {
        return Err(ApiError::NotFound);
    }
    tracing::info!(failed = req.error.is_some(), "lecture finished");
    Ok(StatusCode::NO_CONTENT)
}
