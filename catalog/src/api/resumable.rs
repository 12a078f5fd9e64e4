//! Resumable uploads of big lecture files on the tus 1.0.0 protocol (core, creation,
//! termination, expiration; headers in [`super::tus`]), so that a 3 GB recording cut off by a
//! university's Wi-Fi goes on where it stopped instead of starting again. tus-js-client and
//! any other tus client speak it.
//!
//! - `POST /courses/{id}/uploads/resumable` creates an upload (`Upload-Length`,
//!   `Upload-Metadata` `filename` and `title`): 201 with `Location: /api/v1/uploads/{id}`.
//! - `HEAD /uploads/{id}` tells how many bytes are kept (`Upload-Offset`).
//! - `PATCH /uploads/{id}` appends its body at `Upload-Offset`, streamed to storage
//!   ([`crate::staging`]); a request cut off keeps what arrived. The last byte makes the file
//!   a lecture as a whole upload does ([`super::uploads::become_lecture`]).
//! - `GET /uploads/{id}` is the upload as JSON, with the lecture it became.
//! - `DELETE /uploads/{id}` abandons it; [`sweep`] removes those nobody finished within
//!   [`LIFETIME`] of their last write.
//!
//! Only the person who created an upload reaches it, and only while they may still upload
//! to its course; everyone else gets 404.

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_LENGTH, LOCATION};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{middleware, Json, Router};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use lectern_wire::jobs::ResumableUploadState;
use std::time::Duration;

use super::check_text;
use super::courses::course_for;
use super::extract::Path;
use super::tus::{self, LECTURE_ID, UPLOAD_EXPIRES, UPLOAD_LENGTH, UPLOAD_OFFSET};
use super::uploads::{become_lecture, title_from, StoredUpload, MAX_TITLE};
use crate::auth::{self, AuthUser};
use crate::error::ApiError;
use crate::staging::StagingError;
use crate::startup::AppState;
use crate::store::{self, ResumableUpload, User};

/// How long an upload waits for its next bytes (and a finished one is remembered) before
/// [`sweep`] deletes it with its bytes.
pub const LIFETIME: chrono::Duration = chrono::Duration::hours(24);
/// How long a PATCH may send nothing before it counts as cut off: a connection that died
/// without a word (Wi-Fi gone) must not keep its bytes from being counted for long.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// The most uploads one [`sweep`] removes; the next sweep takes the rest.
const SWEEP_BATCH: i64 = 500;

/// The resumable upload routes, relative to `/api/v1`. A PATCH's body is bounded by the
/// upload's own length (at most `max_upload_bytes`), so the app layers them apart from the
/// catalog's usual body limit, as the whole upload.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/courses/{id}/uploads/resumable",
            post(create).options(options),
        )
        .route(
            "/uploads/{id}",
            axum::routing::head(head)
                .get(read)
                .patch(patch)
                .delete(terminate),
        )
        .layer(DefaultBodyLimit::disable())
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(middleware::from_fn(tus::answer_headers))
}

/// The course, when `user` may upload to it (its staff, the institute's admins); 404 else.
async fn course_to_upload_to(
    state: &AppState,
    user: &User,
    course_id: &str,
) -> Result<(), ApiError> {
    let course = course_for(state, user, course_id).await?;
    if course.access.manages_lectures() {
        Ok(())
    } else {
        Err(ApiError::NotFound)
    }
}

/// The upload `id`, when `user` created it and may still upload to its course; 404 else.
async fn reach(state: &AppState, user: &User, id: &str) -> Result<ResumableUpload, ApiError> {
    let upload = state
        .store
        .resumable_upload(id)
        .await?
        .filter(|upload| upload.user_id == user.id)
        .ok_or(ApiError::NotFound)?;
    course_to_upload_to(state, user, &upload.course_id).await?;
    Ok(upload)
}

/// [`reach`], refusing an unfinished upload past its expiry (410: start again).
async fn reach_live(
    state: &AppState,
    user: &User,
    id: &str,
    now: DateTime<Utc>,
) -> Result<ResumableUpload, ApiError> {
    let upload = reach(state, user, id).await?;
    if upload.finished_at.is_none() && upload.expires_at <= now {
        return Err(ApiError::Gone(
            "this upload expired: nothing arrived for 24 hours and its bytes were deleted; \
             start the upload again"
                .into(),
        ));
    }
    Ok(upload)
}

fn state_of(upload: &ResumableUpload) -> ResumableUploadState {
    ResumableUploadState {
        id: upload.id.clone(),
        course_id: upload.course_id.clone(),
        title: upload.title.clone(),
        file_name: upload.file_name.clone(),
        length: upload.length,
        offset: upload.offset,
        expires_at: upload.expires_at,
        lecture_id: upload.finished_at.map(|_| upload.lecture_id.clone()),
    }
}

/// The tus headers that describe an upload: offset, length, expiry, and the lecture once
/// it is one.
fn describe(upload: &ResumableUpload, headers: &mut HeaderMap) {
    headers.insert(UPLOAD_OFFSET, HeaderValue::from(upload.offset));
    headers.insert(UPLOAD_LENGTH, HeaderValue::from(upload.length));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if upload.finished_at.is_some() {
        if let Ok(id) = HeaderValue::from_str(&upload.lecture_id) {
            headers.insert(LECTURE_ID, id);
        }
    } else {
        headers.insert(UPLOAD_EXPIRES, tus::http_date(upload.expires_at));
    }
}

fn staging_error(e: StagingError) -> ApiError {
    ApiError::Internal(format!("staging an upload: {e}"))
}

#[tracing::instrument(skip_all, fields(user = %user.id, course = %course_id))]
#[utoipa::path(post, path = "/api/v1/courses/{id}/uploads/resumable", tag = "lectures", security(("session" = [])),
    params(("id" = String, Path, description = "course id"),
        ("Tus-Resumable" = String, Header, description = "1.0.0"),
        ("Upload-Length" = u64, Header, description = "the file's size in bytes, at most `max_upload_bytes`"),
        ("Upload-Metadata" = Option<String>, Header, description = "tus metadata: `filename` and `title`, each base64 (the title defaults to the file's name)")),
    responses((status = 201, body = ResumableUploadState, description = "created: send the bytes with PATCH to `Location`",
            headers(("Location" = String, description = "/api/v1/uploads/{id}"), ("Upload-Expires" = String, description = "when it is deleted unless bytes arrive"))),
        (status = 400, body = lectern_wire::api::ErrorBody, description = "a missing or malformed Upload-Length or Upload-Metadata, an empty file, a bad title"),
        (status = 401, body = lectern_wire::api::ErrorBody),
        (status = 404, body = lectern_wire::api::ErrorBody, description = "no such course, or the caller does not manage its lectures"),
        (status = 412, body = lectern_wire::api::ErrorBody, description = "Tus-Resumable is not 1.0.0"),
        (status = 413, body = lectern_wire::api::ErrorBody, description = "Upload-Length is over `max_upload_bytes`")))]
async fn create(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(course_id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    course_to_upload_to(&state, &user, &course_id).await?;
    tus::require_version(&headers)?;
    let length = tus::upload_length(&headers)?;
    let limit = state.config.max_upload_bytes;
    if length > limit {
        return Err(ApiError::PayloadTooLarge(format!(
            "the file is {length} bytes, over this catalog's upload limit of {limit} bytes \
             (max_upload_bytes): shorten or compress the recording, or ask the operators"
        )));
    }
    if length == 0 {
        return Err(ApiError::BadRequest(
            "the file is empty: choose a video or audio file and upload it again".into(),
        ));
    }
    let metadata = tus::metadata(&headers)?;
    if let Some(name) = &metadata.filename {
        check_text("filename", name, 1000)?;
    }
    let title = match metadata
        .title
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        Some(title) => {
            check_text("title", title, MAX_TITLE)?;
            title.to_owned()
        }
        None => title_from(metadata.filename.as_deref()),
    };

    let lecture_id = store::new_lecture_id();
    let s3 = state
        .staging
        .begin(&lecture_id, length)
        .await
        .map_err(staging_error)?;
    let now = Utc::now();
    let upload = ResumableUpload {
        id: auth::new_token(),
        user_id: user.id.clone(),
        course_id,
        lecture_id,
        title,
        file_name: metadata.filename,
        length,
        offset: 0,
        s3,
        created_at: now,
        expires_at: now + LIFETIME,
        finished_at: None,
    };
    if let Err(e) = state.store.create_resumable_upload(&upload).await {
        if let Err(cleanup) = state.staging.discard(&upload, true).await {
            tracing::warn!(lecture = %upload.lecture_id, error = %cleanup, "the staging of a refused upload stays in storage");
        }
        return Err(e.into());
    }
    tracing::info!(lecture = %upload.lecture_id, length, "resumable upload created");
    let mut response = (StatusCode::CREATED, Json(state_of(&upload))).into_response();
    let location = format!("/api/v1/uploads/{}", upload.id);
    let headers = response.headers_mut();
    describe(&upload, headers);
    headers.insert(
        LOCATION,
        HeaderValue::from_str(&location).map_err(|e| ApiError::Internal(e.to_string()))?,
    );
    Ok(response)
}

#[utoipa::path(options, path = "/api/v1/courses/{id}/uploads/resumable", tag = "lectures", security(("session" = [])),
    params(("id" = String, Path, description = "course id")),
    responses((status = 204, description = "what the server speaks",
            headers(("Tus-Version" = String, description = "1.0.0"), ("Tus-Extension" = String, description = "creation,termination,expiration"),
                ("Tus-Max-Size" = u64, description = "`max_upload_bytes`"))),
        (status = 401, body = lectern_wire::api::ErrorBody),
        (status = 404, body = lectern_wire::api::ErrorBody, description = "no such course, or the caller does not manage its lectures")))]
async fn options(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(course_id): Path<String>,
) -> Result<Response, ApiError> {
    course_to_upload_to(&state, &user, &course_id).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    let headers = response.headers_mut();
    headers.insert(tus::TUS_VERSION, HeaderValue::from_static(tus::VERSION));
    headers.insert(
        tus::TUS_EXTENSION,
        HeaderValue::from_static(tus::EXTENSIONS),
    );
    headers.insert(
        tus::TUS_MAX_SIZE,
        HeaderValue::from(state.config.max_upload_bytes),
    );
    Ok(response)
}

#[utoipa::path(head, path = "/api/v1/uploads/{id}", tag = "lectures", security(("session" = [])),
    params(("id" = String, Path, description = "upload id"), ("Tus-Resumable" = String, Header, description = "1.0.0")),
    responses((status = 200, description = "how many bytes are kept",
            headers(("Upload-Offset" = u64, description = "bytes kept: where the next PATCH starts"), ("Upload-Length" = u64),
                ("Upload-Expires" = String, description = "until it is finished"), ("Lectern-Lecture-Id" = String, description = "once it became a lecture"))),
        (status = 401, description = "no session"),
        (status = 404, description = "no such upload, or not the caller's"),
        (status = 410, description = "it expired: start again"),
        (status = 412, description = "Tus-Resumable is not 1.0.0")))]
async fn head(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let upload = reach_live(&state, &user, &id, Utc::now()).await?;
    tus::require_version(&headers)?;
    let mut response = StatusCode::OK.into_response();
    describe(&upload, response.headers_mut());
    Ok(response)
}

#[utoipa::path(get, path = "/api/v1/uploads/{id}", tag = "lectures", security(("session" = [])),
    params(("id" = String, Path, description = "upload id")),
    responses((status = 200, body = ResumableUploadState, description = "the upload, with the lecture it became once whole"),
        (status = 401, body = lectern_wire::api::ErrorBody),
        (status = 404, body = lectern_wire::api::ErrorBody, description = "no such upload, or not the caller's"),
        (status = 410, body = lectern_wire::api::ErrorBody, description = "it expired: start again")))]
async fn read(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let upload = reach_live(&state, &user, &id, Utc::now()).await?;
    let mut response = Json(state_of(&upload)).into_response();
    describe(&upload, response.headers_mut());
    Ok(response)
}

/// How a PATCH's body ended.
#[derive(Debug, PartialEq, Eq)]
enum BodyEnd {
    Whole,
    /// The connection broke or went silent: what arrived is kept.
    CutOff,
    /// It went past the file's length: what came before is kept.
    TooLong,
}

#[tracing::instrument(skip_all, fields(user = %user.id, upload = %id))]
#[utoipa::path(patch, path = "/api/v1/uploads/{id}", tag = "lectures", security(("session" = [])),
    params(("id" = String, Path, description = "upload id"), ("Tus-Resumable" = String, Header, description = "1.0.0"),
        ("Upload-Offset" = u64, Header, description = "the offset the body starts at: the upload's current offset")),
    request_body(content_type = "application/offset+octet-stream", description = "the file's next bytes, any number of them"),
    responses((status = 204, description = "kept; on the last byte the file became a lecture (`Lectern-Lecture-Id`)",
            headers(("Upload-Offset" = u64, description = "bytes kept now"), ("Lectern-Lecture-Id" = String, description = "once it became a lecture"))),
        (status = 400, body = lectern_wire::api::ErrorBody, description = "no or a malformed Upload-Offset; a body cut off (what arrived is kept)"),
        (status = 401, body = lectern_wire::api::ErrorBody),
        (status = 404, body = lectern_wire::api::ErrorBody, description = "no such upload, or not the caller's"),
        (status = 409, body = lectern_wire::api::ErrorBody, description = "Upload-Offset is not the upload's offset (ask with HEAD), or another request wrote meanwhile"),
        (status = 410, body = lectern_wire::api::ErrorBody, description = "it expired: start again"),
        (status = 412, body = lectern_wire::api::ErrorBody, description = "Tus-Resumable is not 1.0.0"),
        (status = 413, body = lectern_wire::api::ErrorBody, description = "the body goes past Upload-Length"),
        (status = 415, body = lectern_wire::api::ErrorBody, description = "the body is not application/offset+octet-stream")))]
async fn patch(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
    request: Request,
) -> Result<Response, ApiError> {
    let (parts, body) = request.into_parts();
    let upload = reach_live(&state, &user, &id, Utc::now()).await?;
    tus::require_version(&parts.headers)?;
    tus::require_offset_octet_stream(&parts.headers)?;
    let offset = tus::upload_offset(&parts.headers)?;
    if offset != upload.offset {
        return Err(ApiError::Conflict(format!(
            "the upload holds {} bytes: send the bytes from offset {} on (HEAD tells the offset)",
            upload.offset, upload.offset
        )));
    }
    let declared = parts
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > upload.length - offset) {
        return Err(past_the_end(&upload));
    }
    let (upload, end) = if upload.finished_at.is_some() {
        (upload, BodyEnd::Whole)
    } else {
        receive(&state, upload, body).await?
    };
    // Whole is whole, however the request that brought the last byte ended.
    let upload = if upload.offset == upload.length && upload.finished_at.is_none() {
        finish(&state, &user, upload).await?
    } else {
        upload
    };
    if end == BodyEnd::TooLong {
        return Err(past_the_end(&upload));
    }
    if end == BodyEnd::CutOff {
        tracing::info!(
            offset = upload.offset,
            "an upload's request was cut off; what arrived is kept"
        );
        return Err(ApiError::BadRequest(format!(
            "the body was cut off; the upload keeps {} bytes: send the rest from there",
            upload.offset
        )));
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    describe(&upload, response.headers_mut());
    Ok(response)
}

fn past_the_end(upload: &ResumableUpload) -> ApiError {
    ApiError::PayloadTooLarge(format!(
        "the body goes past the end of the file (Upload-Length {}); the upload holds {} bytes: \
         send at most the {} bytes after them",
        upload.length,
        upload.offset,
        upload.length - upload.offset
    ))
}

/// Streams `body` to the upload's staging and records each durable offset; returns the
/// upload as it now stands and how the body ended.
async fn receive(
    state: &AppState,
    mut upload: ResumableUpload,
    body: Body,
) -> Result<(ResumableUpload, BodyEnd), ApiError> {
    let started = upload.offset;
    let mut appender = state
        .staging
        .appender(&upload)
        .await
        .map_err(staging_error)?;
    let mut written = started;
    let mut stream = body.into_data_stream();
    let end = loop {
        let chunk = match tokio::time::timeout(IDLE_TIMEOUT, stream.next()).await {
            Ok(None) => break BodyEnd::Whole,
            Ok(Some(Ok(chunk))) => chunk,
            Ok(Some(Err(_))) | Err(_) => break BodyEnd::CutOff,
        };
        if chunk.len() as u64 > upload.length - written {
            break BodyEnd::TooLong;
        }
        written += chunk.len() as u64;
        if let Some(durable) = appender.write(chunk).await.map_err(staging_error)? {
            record(state, &mut upload, durable).await?;
        }
    };
    let durable = appender.close().await.map_err(staging_error)?;
    record(state, &mut upload, durable).await?;
    if upload.offset != started {
        state.staging.forget_tail(&upload.lecture_id, started).await;
    }
    Ok((upload, end))
}

/// Records that `upload` holds `to` bytes (and moves its expiry on), unless another request
/// moved its offset first: then this request's bytes do not count (409).
async fn record(state: &AppState, upload: &mut ResumableUpload, to: u64) -> Result<(), ApiError> {
    if to == upload.offset {
        return Ok(());
    }
    let expires_at = Utc::now() + LIFETIME;
    if !state
        .store
        .advance_resumable_upload(&upload.id, upload.offset, to, expires_at)
        .await?
    {
        return Err(ApiError::Conflict(
            "another request wrote to this upload meanwhile: ask for its offset with HEAD and \
             go on from there"
                .into(),
        ));
    }
    upload.offset = to;
    upload.expires_at = expires_at;
    Ok(())
}

/// The last byte arrived: the staged bytes become the lecture's file, and the file the
/// lecture.
async fn finish(
    state: &AppState,
    user: &User,
    mut upload: ResumableUpload,
) -> Result<ResumableUpload, ApiError> {
    state.staging.finish(&upload).await.map_err(staging_error)?;
    let stored = StoredUpload {
        lecture_id: &upload.lecture_id,
        course_id: &upload.course_id,
        title: &upload.title,
        file_name: upload.file_name.as_deref(),
        bytes: upload.length,
    };
    become_lecture(state, user, &stored).await?;
    let now = Utc::now();
    state
        .store
        .finish_resumable_upload(&upload.id, now, now + LIFETIME)
        .await?;
    upload.finished_at = Some(now);
    upload.expires_at = now + LIFETIME;
    tracing::info!(lecture = %upload.lecture_id, bytes = upload.length, "resumable upload complete");
    Ok(upload)
}

#[utoipa::path(delete, path = "/api/v1/uploads/{id}", tag = "lectures", security(("session" = [])),
    params(("id" = String, Path, description = "upload id"), ("Tus-Resumable" = String, Header, description = "1.0.0")),
    responses((status = 204, description = "abandoned: its bytes are deleted"),
        (status = 401, body = lectern_wire::api::ErrorBody),
        (status = 404, body = lectern_wire::api::ErrorBody, description = "no such upload, or not the caller's"),
        (status = 409, body = lectern_wire::api::ErrorBody, description = "it became a lecture already: delete the lecture instead"),
        (status = 412, body = lectern_wire::api::ErrorBody, description = "Tus-Resumable is not 1.0.0")))]
async fn terminate(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let upload = reach(&state, &user, &id).await?;
    tus::require_version(&headers)?;
    if is_lecture(&state, &upload).await? {
        return Err(ApiError::Conflict(format!(
            "this upload became the lecture {} already: delete the lecture instead",
            upload.lecture_id
        )));
    }
    state
        .staging
        .discard(&upload, true)
        .await
        .map_err(staging_error)?;
    state.store.delete_resumable_upload(&upload.id).await?;
    tracing::info!(lecture = %upload.lecture_id, offset = upload.offset, "resumable upload abandoned");
    Ok(StatusCode::NO_CONTENT)
}

/// True when the upload became its lecture, which then owns the file, even if the upload
/// was never marked finished (the catalog failed between the two).
async fn is_lecture(state: &AppState, upload: &ResumableUpload) -> Result<bool, ApiError> {
    Ok(upload.finished_at.is_some() || state.store.lecture(&upload.lecture_id).await?.is_some())
}

/// Deletes the uploads that expired by `now` with their staged bytes (and the file of one
/// that never became its lecture); returns how many went. One that fails is logged and
/// tried again at the next sweep. Safe on several replicas at once.
pub async fn sweep(state: &AppState, now: DateTime<Utc>) -> Result<usize, ApiError> {
    let expired = state
        .store
        .expired_resumable_uploads(now, SWEEP_BATCH)
        .await?;
    let mut swept = 0;
    for upload in expired {
        let with_source = !is_lecture(state, &upload).await?;
        if let Err(e) = state.staging.discard(&upload, with_source).await {
            tracing::warn!(lecture = %upload.lecture_id, error = %e, "an expired upload's bytes could not be deleted; trying again at the next sweep");
            continue;
        }
        if state.store.delete_resumable_upload(&upload.id).await? {
            swept += 1;
        }
    }
    if swept > 0 {
        tracing::info!(swept, "expired resumable uploads deleted with their bytes");
    }
    Ok(swept)
}
