//! `/media/…`: playlists and segments for viewers. Every request carries `?token=`, a
//! [`MediaSigner`](crate::media_token::MediaSigner) token scoped to one lecture, and the
//! token is checked before anything else. Any refusal is a plain 404, so a URL tells an
//! outsider nothing. Playlists are rendered from the catalog's rows with the packager's
//! m3u8-rs functions, the token on every URI; segments are served from local storage with
//! byte ranges.

use axum::body::Body;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, Request, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::Utc;
use lectern_packager::keys::{self, is_safe_component};
use lectern_packager::playlist;
use lectern_wire::api::LectureState;
use serde::Deserialize;
use tower::ServiceExt;
use tower_http::services::ServeFile;

use crate::startup::AppState;
use crate::store::{LectureRow, StoreError};

const PLAYLIST_TYPE: &str = "application/vnd.apple.mpegurl";
const SEGMENT_TYPE: &str = "video/mp2t";
const SEGMENT_CACHE: &str = "private, max-age=31536000, immutable";
/// How long a presigned segment URL works: the player follows the redirect at once.
const PRESIGNED_LIFETIME: std::time::Duration = std::time::Duration::from_secs(600);

/// The media routes, relative to `/media`; anything else below `/media` is a plain 404.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/{lecture}/master.m3u8", get(master))
        .route("/{lecture}/{track}/{rung}/{file}", get(rendition_file))
        .fallback(|| async { StatusCode::NOT_FOUND })
}

#[derive(Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

/// The token of a request, if it is valid for `lecture` now.
fn valid_token(
    state: &AppState,
    lecture: &str,
    query: Result<Query<TokenQuery>, QueryRejection>,
) -> Option<String> {
    let token = query.ok()?.0.token?;
    let now = u64::try_from(Utc::now().timestamp()).ok()?;
    state.signer.verify(&token, lecture, now).then_some(token)
}

fn not_found() -> Response {
    StatusCode::NOT_FOUND.into_response()
}

fn failed(error: StoreError) -> Response {
    tracing::error!(%error, "media request failed");
    StatusCode::INTERNAL_SERVER_ERROR.into_response()
}

fn playlist_response(body: Vec<u8>) -> Response {
    (
        [(CONTENT_TYPE, PLAYLIST_TYPE), (CACHE_CONTROL, "no-store")],
        body,
    )
        .into_response()
}

async fn master(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<TokenQuery>, QueryRejection>,
) -> Response {
    let Ok(Path(lecture_id)) = path else {
        return not_found();
    };
    let Some(token) = valid_token(&state, &lecture_id, query) else {
        return not_found();
    };
    let lecture = match state.store.lecture(&lecture_id).await {
        Ok(Some(lecture)) => lecture,
        Ok(None) => return not_found(),
        Err(e) => return failed(e),
    };
    let media = match state.store.lecture_media(&lecture).await {
        Ok(media) => media,
        Err(e) => return failed(e),
    };
    let renditions = media.main_renditions();
    if renditions.is_empty() {
        return not_found();
    }
    playlist_response(playlist::master(&renditions, |r| {
        format!("{}/{}/index.m3u8?token={token}", r.track, r.rung)
    }))
}

async fn rendition_file(
    State(state): State<AppState>,
    path: Result<Path<(String, String, String, String)>, PathRejection>,
    query: Result<Query<TokenQuery>, QueryRejection>,
    request: Request,
) -> Response {
    let Ok(Path((lecture_id, track, rung, file))) = path else {
        return not_found();
    };
    let Some(token) = valid_token(&state, &lecture_id, query) else {
        return not_found();
    };
    if !is_safe_component(&track) || !is_safe_component(&rung) {
        return not_found();
    }
    if file == "index.m3u8" {
        return media_playlist(&state, &lecture_id, &track, &rung, &token).await;
    }
    let Some(sequence) = file
        .strip_suffix(".ts")
        .filter(|s| is_safe_component(s))
        .and_then(|s| s.parse::<u64>().ok())
    else {
        return not_found();
    };
    segment(&state, &lecture_id, &track, &rung, sequence, request).await
}

async fn media_playlist(
    state: &AppState,
    lecture_id: &str,
    track: &str,
    rung: &str,
    token: &str,
) -> Response {
    let lecture = match state.store.lecture(lecture_id).await {
        Ok(Some(lecture)) => lecture,
        Ok(None) => return not_found(),
        Err(e) => return failed(e),
    };
    let segments = match state.store.segments(lecture_id, track, rung).await {
        Ok(segments) => lecture.settings.trim(segments),
        Err(e) => return failed(e),
    };
    if segments.is_empty() {
        return not_found();
    }
    // Live it is an EVENT playlist; once the worker closed the lecture, the same segments
    // with ENDLIST are the on-demand copy (design decision 2).
    let ended = matches!(lecture.state, LectureState::Ready | LectureState::Failed);
    playlist_response(playlist::media(&segments, ended, |s| {
        format!("{}.ts?token={token}", s.sequence)
    }))
}

async fn segment(
    state: &AppState,
    lecture_id: &str,
    track: &str,
    rung: &str,
    sequence: u64,
    request: Request,
) -> Response {
    let lecture = match state.store.lecture(lecture_id).await {
        Ok(Some(lecture)) => lecture,
        Ok(None) => return not_found(),
        Err(e) => return failed(e),
    };
    match served_segment(state, &lecture, track, rung, sequence).await {
        Ok(true) => {}
        Ok(false) => return not_found(),
        Err(e) => return failed(e),
    }
    let key = keys::segment(lecture_id, &lecture.media_version, track, rung, sequence);
    let Some(path) = state.storage.local_path(&key) else {
        return presigned_redirect(state, &key).await;
    };
    let response = match ServeFile::new(path).oneshot(request).await {
        Ok(response) => response.map(Body::new),
        Err(infallible) => match infallible {},
    };
    if response.status() == StatusCode::NOT_FOUND {
        tracing::warn!(%key, "a reported segment is missing from storage");
        return not_found();
    }
    let mut response = response;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(SEGMENT_TYPE));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static(SEGMENT_CACHE));
    response
}

/// True when the segment was reported and lies inside the lecture's trim window: what was
/// trimmed away is not served, even to a viewer who guesses its name.
async fn served_segment(
    state: &AppState,
    lecture: &LectureRow,
    track: &str,
    rung: &str,
    sequence: u64,
) -> Result<bool, StoreError> {
    let s = &lecture.settings;
    if s.trim_in.is_none() && s.trim_out.is_none() {
        return state
            .store
            .segment_exists(&lecture.id, track, rung, sequence)
            .await;
    }
    let segments = state.store.segments(&lecture.id, track, rung).await?;
    Ok(s.trim(segments).iter().any(|x| x.sequence == sequence))
}

/// Object storage (S3): after the token check, the viewer fetches the segment straight from
/// the bucket through a short-lived presigned URL. The redirect itself is never cached, since
/// the URL it names expires.
async fn presigned_redirect(state: &AppState, key: &str) -> Response {
    match state.storage.presigned_get(key, PRESIGNED_LIFETIME).await {
        Ok(Some(url)) => {
            let Ok(location) = HeaderValue::from_str(&url) else {
                tracing::error!(%key, "the presigned URL is not a valid header value");
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            };
            let mut response = StatusCode::FOUND.into_response();
            let headers = response.headers_mut();
            headers.insert(axum::http::header::LOCATION, location);
            headers.insert(CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
            response
        }
        Ok(None) => not_found(),
        Err(error) => {
            tracing::error!(%key, %error, "could not presign a segment URL");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}
