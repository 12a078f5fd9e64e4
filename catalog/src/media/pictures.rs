//! `/media/{lecture}/{track}/{file}`: a track's pictures for viewers (issue 4).
//!
//! - `poster.jpg` and the sprite sheets `sprite-<n>.jpg` are served like segments: immutable,
//!   from local storage with byte ranges or through a presigned redirect to object storage.
//! - `thumbnails.vtt` and `chapters.vtt` are read from storage (the worker's canonical files)
//!   and handed to each viewer with their token on every image URI, on the timeline the
//!   viewer plays: cut to the lecture's trim window, as the media playlists are. They are kept
//!   rendered in memory like the playlists ([`super::cache`]), so storage is read once per
//!   change, not per viewer.
//!
//! As everywhere under `/media`, the token is checked first and every refusal is a plain 404;
//! a file is served only when the worker reported it (a row of `thumbnails`), in the
//! lecture's current media version.

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use lectern_packager::keys::{self, is_safe_component};
use lectern_packager::thumbnails::parse_tile_uri;
use lectern_packager::vtt::{self, Cue};

use super::cache::Playlist;
use super::{failed, kept, not_found, serve_object, valid_token, Rendering, TokenQuery};
use crate::startup::AppState;
use crate::store::changes::Mark;
use crate::store::{LectureRow, StoreError};

const JPEG: &str = "image/jpeg";

/// The files a track may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum File {
    Poster,
    Sprite(u32),
    Thumbnails,
    Chapters,
}

impl File {
    fn parse(name: &str) -> Option<File> {
        match name {
            keys::POSTER => Some(File::Poster),
            keys::THUMBNAILS => Some(File::Thumbnails),
            keys::CHAPTERS => Some(File::Chapters),
            other => keys::parse_sprite_name(other).map(File::Sprite),
        }
    }
}

pub(super) async fn track_file(
    State(state): State<AppState>,
    path: Result<Path<(String, String, String)>, PathRejection>,
    query: Result<Query<TokenQuery>, QueryRejection>,
    request: Request,
) -> Response {
    let Ok(Path((lecture_id, track, name))) = path else {
        return not_found();
    };
    let Some(token) = valid_token(&state, &lecture_id, query) else {
        return not_found();
    };
    let Some(file) = File::parse(&name).filter(|_| is_safe_component(&track)) else {
        return not_found();
    };
    let which = Playlist::Cues {
        track: &track,
        name: &name,
    };
    let is_cues = matches!(file, File::Thumbnails | File::Chapters);
    if is_cues {
        if let Some(kept) = kept(&state, &lecture_id, which, &token) {
            return kept;
        }
    }
    // Taken before reading, so that a change made meanwhile keeps what is read from being kept.
    let mark = state.playlists.mark();
    let lecture = match state.store.lecture(&lecture_id).await {
        Ok(Some(lecture)) => lecture,
        Ok(None) => return not_found(),
        Err(e) => return failed(e),
    };
    let pictures = match state.store.pictures(&lecture_id).await {
        Ok(pictures) => pictures,
        Err(e) => return failed(e),
    };
    let reported = pictures
        .iter()
        .find(|p| p.track == track)
        .is_some_and(|p| match file {
            File::Poster => p.poster,
            File::Sprite(sheet) => sheet < p.sprites,
            File::Thumbnails => p.sprites > 0,
            File::Chapters => p.chapters > 0,
        });
    if !reported {
        return not_found();
    }
    let key = keys::track_file(&lecture_id, &lecture.media_version, &track, &name);
    if !is_cues {
        return serve_object(&state, &key, JPEG, request).await;
    }
    let cues = match stored_cues(&state, &key).await {
        Ok(cues) => cues,
        Err(response) => return response,
    };
    let (from, to) = match window(&state, &lecture, &track).await {
        Ok(window) => window,
        Err(e) => return failed(e),
    };
    let cues = vtt::window(cues, from, to);
    answer(&state, &lecture, which, mark, file, cues, &token)
}

/// The cues of the worker's file `key`; the answer to give when there are none to be had.
async fn stored_cues(state: &AppState, key: &str) -> Result<Vec<Cue>, Response> {
    let body = match state.storage.get(key).await {
        Ok(Some(body)) => body,
        Ok(None) => {
            tracing::warn!(%key, "a reported WebVTT file is missing from storage");
            return Err(not_found());
        }
        Err(error) => {
            tracing::error!(%key, %error, "could not read a WebVTT file from storage");
            return Err(StatusCode::SERVICE_UNAVAILABLE.into_response());
        }
    };
    std::str::from_utf8(&body)
        .ok()
        .and_then(vtt::parse)
        .ok_or_else(|| {
            tracing::warn!(%key, "a stored WebVTT file is not one the worker writes");
            not_found()
        })
}

/// The part of the track's timeline viewers play: all of it, or the trim window, measured
/// on the segments of one of the track's renditions (every rung cuts at the same instants).
async fn window(
    state: &AppState,
    lecture: &LectureRow,
    track: &str,
) -> Result<(f64, f64), StoreError> {
    let s = &lecture.settings;
    if s.trim_in.is_none() && s.trim_out.is_none() {
        return Ok((0.0, f64::INFINITY));
    }
    let media = state.store.lecture_media(lecture).await?;
    let Some(rendition) = media.renditions.iter().find(|r| r.track == track) else {
        return Ok((0.0, 0.0));
    };
    let segments = state
        .store
        .segments(&lecture.id, track, &rendition.rung)
        .await?;
    Ok(s.trim_window(&segments))
}

/// The WebVTT file for `token`: thumbnails with the token on each sheet's URI (cues that
/// name no sheet are left out), chapters as they are (less any control character).
fn answer(
    state: &AppState,
    lecture: &LectureRow,
    which: Playlist<'_>,
    mark: Option<Mark>,
    file: File,
    cues: Vec<Cue>,
    token: &str,
) -> Response {
    let rendering = |uris| Rendering {
        lecture,
        which,
        mark,
        uris,
    };
    if file != File::Thumbnails {
        let cues: Vec<Cue> = cues
            .into_iter()
            .map(|c| Cue {
                text: c.text.chars().filter(|ch| !ch.is_control()).collect(),
                ..c
            })
            .collect();
        let text = vtt::render(&cues).into_bytes();
        return rendering(0).answer(state, |_| text.clone(), token);
    }
    let tiles: Vec<(Cue, u32, String)> = cues
        .into_iter()
        .filter_map(|c| {
            let (sheet, fragment) = parse_tile_uri(&c.text)?;
            let fragment = fragment.to_owned();
            Some((c, sheet, fragment))
        })
        .collect();
    let render = |token: &str| {
        let cues: Vec<Cue> = tiles
            .iter()
            .map(|(cue, sheet, fragment)| Cue {
                text: format!("{}?token={token}#{fragment}", keys::sprite_name(*sheet)),
                ..cue.clone()
            })
            .collect();
        vtt::render(&cues).into_bytes()
    };
    rendering(tiles.len()).answer(state, render, token)
}
