//! A video file uploaded to a course becomes a lecture: the file is spooled to a temporary
//! file as it arrives (never held in memory: lectures run to gigabytes), stored at
//! [`keys::upload_source`], and a `transcode_upload` job is queued for a worker to encode it
//! ([`become_lecture`], which a resumable upload's last byte calls too: `api::resumable`).
//! Open to the course's staff and the institute's admins.

use std::path::Path as FsPath;

use axum::extract::multipart::{Field, MultipartError, MultipartRejection};
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use chrono::Utc;
use lectern_packager::keys;
use lectern_wire::jobs::{JobKind, TranscodeUpload, UploadCreated};
use serde_json::json;
use tokio::io::AsyncWriteExt;

use super::courses::course_for;
use super::extract::Path;
use super::{audit, check_text};
use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::startup::AppState;
use crate::store::{self, NewJob, User};

/// The title of a lecture whose upload named neither a title nor a file.
const DEFAULT_TITLE: &str = "Uploaded video";
/// The longest lecture title, as everywhere else.
pub(super) const MAX_TITLE: usize = 200;

/// `POST /courses/{id}/uploads`, relative to `/api/v1`: its body is bounded by
/// `max_upload_bytes` rather than the catalog's usual limit, so the app layers it apart.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/courses/{id}/uploads", post(upload))
        // axum's multipart extractor has its own 2 MB default; the app's layer bounds it.
        .layer(DefaultBodyLimit::disable())
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
}

/// What the multipart body held, with the file spooled to disk.
struct Received {
    file: tempfile::NamedTempFile,
    file_name: Option<String>,
    bytes: u64,
    title: Option<String>,
}

#[tracing::instrument(skip_all, fields(user = %user.id, course = %course_id))]
#[utoipa::path(post, path = "/api/v1/courses/{id}/uploads", tag = "lectures", security(("session" = [])),
    params(("id" = String, Path, description = "course id")),
    request_body(content_type = "multipart/form-data",
        description = "a field `file` with the video or audio file and an optional field `title` (else the file's name)"),
    responses((status = 201, body = UploadCreated, description = "stored; the lecture is `processing` until a worker has encoded it"),
        (status = 400, body = lectern_wire::api::ErrorBody, description = "no `file` field, an empty file, a bad title or a malformed body"),
        (status = 401, body = lectern_wire::api::ErrorBody),
        (status = 404, body = lectern_wire::api::ErrorBody, description = "no such course, or the caller does not manage its lectures"),
        (status = 413, body = lectern_wire::api::ErrorBody, description = "the file is over `max_upload_bytes`"),
        (status = 415, body = lectern_wire::api::ErrorBody, description = "the body is not multipart/form-data")))]
async fn upload(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(course_id): Path<String>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<(StatusCode, Json<UploadCreated>), ApiError> {
    let course = course_for(&state, &user, &course_id).await?;
    if !course.access.manages_lectures() {
        return Err(ApiError::NotFound);
    }
    let multipart = multipart.map_err(|e| {
        ApiError::UnsupportedMediaType(format!(
            "send the file as multipart/form-data in a field named `file` ({})",
            e.body_text()
        ))
    })?;
    let received = receive(multipart).await?;
    if received.bytes == 0 {
        return Err(ApiError::BadRequest(
            "the file is empty: choose a video or audio file and upload it again".into(),
        ));
    }
    let title = match received.title {
        Some(title) => {
            check_text("title", &title, MAX_TITLE)?;
            title
        }
        None => title_from(received.file_name.as_deref()),
    };

    let lecture_id = store::new_lecture_id();
    let key = keys::upload_source(&lecture_id);
    // Stored first: the lecture and its job appear only with their file in place.
    store_file(&state, &key, received.file.path()).await?;
    let stored = StoredUpload {
        lecture_id: &lecture_id,
        course_id: &course_id,
        title: &title,
        file_name: received.file_name.as_deref(),
        bytes: received.bytes,
    };
    if let Err(e) = become_lecture(&state, &user, &stored).await {
        // Nothing of a failed upload is kept: the person uploads it again.
        if let Err(cleanup) = state
            .storage
            .delete_prefix(&keys::upload_prefix(&lecture_id))
            .await
        {
            tracing::warn!(key, error = %cleanup, "the file of a failed upload stays in storage");
        }
        return Err(e);
    }
    Ok((StatusCode::CREATED, Json(UploadCreated { lecture_id })))
}

/// An uploaded file, stored at [`keys::upload_source`] of its lecture-to-be.
pub(super) struct StoredUpload<'a> {
    pub lecture_id: &'a str,
    pub course_id: &'a str,
    pub title: &'a str,
    pub file_name: Option<&'a str>,
    pub bytes: u64,
}

/// What every upload, whole or resumable, ends with: the stored file becomes a `processing`
/// lecture of the course with its `transcode_upload` job queued, audited `lecture.upload` as
/// `user`'s. May be repeated (a resumable upload does when its last answer was lost): a
/// lecture already there is kept and its job found again.
pub(super) async fn become_lecture(
    state: &AppState,
    user: &User,
    upload: &StoredUpload<'_>,
) -> Result<(), ApiError> {
    let lecture_id = upload.lecture_id;
    let created = state.store.lecture(lecture_id).await?.is_none();
    if created {
        state
            .store
            .create_uploaded_lecture(lecture_id, upload.course_id, upload.title, Utc::now())
            .await?;
    }
    let key = keys::upload_source(lecture_id);
    let payload = TranscodeUpload {
        source_key: key.clone(),
        file_name: upload.file_name.map(str::to_owned),
        bytes: upload.bytes,
    };
    let payload = serde_json::to_value(&payload)
        .map_err(|e| ApiError::Internal(format!("encoding a job payload: {e}")))?;
    let job = NewJob {
        kind: JobKind::TranscodeUpload,
        lecture_id,
        payload: &payload,
        dedupe_key: &key,
    };
    state
        .store
        .enqueue_job(&job, Utc::now())
        .await?
        .ok_or_else(|| ApiError::Internal("the new lecture vanished before its job".into()))?;
    if created {
        let detail = json!({"course_id": upload.course_id, "title": upload.title,
            "file_name": upload.file_name, "bytes": upload.bytes});
        audit(
            state,
            user,
            "lecture.upload",
            "lecture",
            Some(lecture_id),
            detail,
        )
        .await?;
    }
    tracing::info!(lecture = %lecture_id, bytes = upload.bytes, "upload stored, job queued");
    Ok(())
}

async fn store_file(state: &AppState, key: &str, path: &FsPath) -> Result<(), ApiError> {
    state
        .storage
        .put_file(key, path, "application/octet-stream")
        .await
        .map_err(|e| ApiError::Internal(format!("storing {key}: {e}")))
}

/// Reads the multipart body: the `file` field goes to a temporary file chunk by chunk,
/// `title` is kept; other fields are ignored.
async fn receive(mut multipart: Multipart) -> Result<Received, ApiError> {
    let mut spooled: Option<(tempfile::NamedTempFile, Option<String>, u64)> = None;
    let mut title = None;
    while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
        match field.name() {
            Some("file") if spooled.is_none() => {
                let file_name = field.file_name().map(str::to_owned);
                let (file, bytes) = spool(field).await?;
                spooled = Some((file, file_name, bytes));
            }
            Some("file") => {
                return Err(ApiError::BadRequest(
                    "send one file per upload (the body has two `file` fields)".into(),
                ))
            }
            Some("title") => {
                let text = field.text().await.map_err(multipart_error)?;
                title = Some(text.trim().to_owned()).filter(|t| !t.is_empty());
            }
            _ => {}
        }
    }
    let (file, file_name, bytes) = spooled.ok_or_else(|| {
        ApiError::BadRequest("the body has no field named `file`: attach the video there".into())
    })?;
    Ok(Received {
        file,
        file_name,
        bytes,
        title,
    })
}

/// Writes one field to a new temporary file (deleted when dropped); returns it and its size.
async fn spool(mut field: Field<'_>) -> Result<(tempfile::NamedTempFile, u64), ApiError> {
    let spool_error = |e: std::io::Error| ApiError::Internal(format!("spooling an upload: {e}"));
    let tmp = tempfile::Builder::new()
        .prefix("lectern-upload-")
        .tempfile()
        .map_err(spool_error)?;
    let mut out = tokio::fs::File::from_std(tmp.reopen().map_err(spool_error)?);
    let mut bytes = 0u64;
    while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
        bytes += chunk.len() as u64;
        out.write_all(&chunk).await.map_err(spool_error)?;
    }
    out.flush().await.map_err(spool_error)?;
    Ok((tmp, bytes))
}

/// A body cut off by the size limit is 413; any other malformed body is 400.
fn multipart_error(e: MultipartError) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::PayloadTooLarge("the file is over the catalog's upload limit".into())
    } else {
        ApiError::BadRequest(format!("the upload could not be read: {}", e.body_text()))
    }
}

/// A title from the uploaded file's name: without its directory and extension, control
/// characters dropped, at most [`MAX_TITLE`] characters.
pub(super) fn title_from(file_name: Option<&str>) -> String {
    let name = file_name.unwrap_or_default();
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let stem = match base.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => base,
    };
    let title: String = stem
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_TITLE)
        .collect();
    let title = title.trim();
    if title.is_empty() {
        DEFAULT_TITLE.to_owned()
    } else {
        title.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::title_from;

    #[test]
    fn titles_come_from_the_file_name_without_path_or_extension() {
        assert_eq!(title_from(Some("Week 3 – Sorting.mp4")), "Week 3 – Sorting");
        assert_eq!(title_from(Some("C:\\videos\\intro.mkv")), "intro");
        assert_eq!(title_from(Some(".mp4")), ".mp4");
        assert_eq!(title_from(Some("  ")), "Uploaded video");
        assert_eq!(title_from(None), "Uploaded video");
        assert_eq!(title_from(Some(&"x".repeat(300))).chars().count(), 200);
    }
}
