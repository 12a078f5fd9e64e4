//! `/media/…`: playlists and segments for viewers, and the tracks' pictures ([`pictures`]).
//! Every request carries `?token=`, a [`MediaSigner`](crate::media_token::MediaSigner) token
//! scoped to one lecture, and the token is checked before anything else. Any refusal is a
//! plain 404, so a URL tells an outsider nothing. Playlists are rendered from the catalog's
//! rows with the packager's m3u8-rs functions, the token on every URI, and kept rendered in
//! memory ([`cache`]: how it stays current); segments are served from local storage with
//! byte ranges, or from object storage through a presigned redirect.

pub mod cache;
pub mod pictures;
pub mod template;

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

use std::sync::Arc;
use std::time::Duration;

use crate::startup::AppState;
use crate::store::changes::Mark;
use crate::store::{LectureRow, StoreError};
use cache::{Playlist, ENDED_LIFETIME, LIVE_LIFETIME};
use template::Template;

const SEGMENT_TYPE: &str = "video/mp2t";
/// Segments and pictures never change once stored.
const IMMUTABLE: &str = "private, max-age=31536000, immutable";
/// How long a presigned segment URL works: the player follows the redirect at once.
const PRESIGNED_LIFETIME: Duration = Duration::from_secs(600);

/// The media routes, under `/media`; anything else below `/media` is a plain 404 too
/// ([`is_media_path`], which the catalog's fallback asks). Merged into the catalog's router
/// rather than nested, which would rewrite every request's URI and route it twice.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/media/{lecture}/master.m3u8", get(master))
        .route("/media/{lecture}/{track}/{file}", get(pictures::track_file))
        .route(
            "/media/{lecture}/{track}/{rung}/{file}",
            get(rendition_file),
        )
}

/// True for `/media` and everything below it.
pub fn is_media_path(path: &str) -> bool {
    path.strip_prefix("/media")
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
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

fn playlist_response(which: Playlist<'_>, body: Vec<u8>) -> Response {
    (
        [
            (CONTENT_TYPE, which.content_type()),
            (CACHE_CONTROL, "no-store"),
        ],
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
    if let Some(kept) = kept(&state, &lecture_id, Playlist::Master, &token) {
        return kept;
    }
    // Taken before reading, so that a change made meanwhile keeps what is read from being kept.
    let mark = state.playlists.mark();
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
    let render = |token: &str| {
        playlist::master(&renditions, |r| {
            format!("{}/{}/index.m3u8?token={token}", r.track, r.rung)
        })
    };
    let rendered = Rendering {
        lecture: &lecture,
        which: Playlist::Master,
        mark,
        uris: renditions.len(),
    };
    rendered.answer(&state, render, &token)
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
    let which = Playlist::Media { track, rung };
    if let Some(kept) = kept(state, lecture_id, which, token) {
        return kept;
    }
    // Taken before reading, so that a change made meanwhile keeps what is read from being kept.
    let mark = state.playlists.mark();
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
    let ended = ended(&lecture);
    let render = |token: &str| {
        playlist::media(&segments, ended, |s| {
            format!("{}.ts?token={token}", s.sequence)
        })
    };
    let rendered = Rendering {
        lecture: &lecture,
        which,
        mark,
        uris: segments.len(),
    };
    rendered.answer(state, render, token)
}

fn ended(lecture: &LectureRow) -> bool {
    matches!(lecture.state, LectureState::Ready | LectureState::Failed)
}

/// The playlist for `token` from memory, if it is kept there.
fn kept(state: &AppState, lecture_id: &str, which: Playlist<'_>, token: &str) -> Option<Response> {
    let template = state.playlists.get(lecture_id, which)?;
    state.metrics.playlist_served(true);
    Some(playlist_response(which, template.fill(token)))
}

/// A playlist about to be rendered from rows read after `mark`, with `uris` URIs.
struct Rendering<'a> {
    lecture: &'a LectureRow,
    which: Playlist<'a>,
    mark: Option<Mark>,
    uris: usize,
}

impl Rendering<'_> {
    /// Answers with what `render` gives for `token`, keeping it as a template for the next
    /// viewers. Should the template not come out (the placeholder clashed with the text), it
    /// renders for this viewer only.
    fn answer(self, state: &AppState, render: impl Fn(&str) -> Vec<u8>, token: &str) -> Response {
        state.metrics.playlist_served(false);
        let Some(template) = Template::render(self.uris, &render) else {
            tracing::warn!(lecture = %self.lecture.id, "a playlist could not be templated; rendered for its viewer");
            return playlist_response(self.which, render(token));
        };
        let body = template.fill(token);
        if let Some(mark) = self.mark {
            let lifetime = lifetime(self.lecture);
            let template = Arc::new(template);
            state
                .playlists
                .put(&self.lecture.id, self.which, mark, template, lifetime);
        }
        playlist_response(self.which, body)
    }
}

/// How long a lecture's playlists may be served from memory (see [`cache`]).
fn lifetime(lecture: &LectureRow) -> Duration {
    if ended(lecture) {
        ENDED_LIFETIME
    } else {
        LIVE_LIFETIME
    }
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
    serve_object(state, &key, SEGMENT_TYPE, request).await
}

/// Serves the immutable object `key` (a segment, a picture) that the catalog's rows say is
/// stored: from local storage with byte ranges, or by a redirect to object storage.
async fn serve_object(
    state: &AppState,
    key: &str,
    content_type: &'static str,
    request: Request,
) -> Response {
    let Some(path) = state.storage.local_path(key) else {
        return presigned_redirect(state, key).await;
    };
    let response = match ServeFile::new(path).oneshot(request).await {
        Ok(response) => response.map(Body::new),
        Err(infallible) => match infallible {},
    };
    if response.status() == StatusCode::NOT_FOUND {
        tracing::warn!(%key, "a reported object is missing from storage");
        return not_found();
    }
    let mut response = response;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE));
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

/// Object storage (S3): after the token check, the viewer fetches the object straight from
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
            tracing::error!(%key, %error, "could not presign an object's URL");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_paths_are_media_and_below() {
        for path in ["/media", "/media/", "/media/x", "/media/x/y/z/0.ts"] {
            assert!(is_media_path(path), "{path}");
        }
        for path in ["/", "/mediax", "/medi", "/api/v1/media", "/index.html"] {
            assert!(!is_media_path(path), "{path}");
        }
    }
}
