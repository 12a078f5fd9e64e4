//! The raw upload of a capture box's spool (design decision 1): the box asks which chunks
//! the catalog holds and PUTs the ones it lacks. A chunk is stored at
//! [`lectern_packager::keys::raw_chunk`] only after its SHA-256 matched the one the box sent,
//! and a row records it; a chunk is never replaced.

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, put};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use lectern_wire::chunks::{
    HeldChunk, HeldChunks, DURATION_HEADER, MAX_CHUNK_BYTES, SHA256_HEADER, START_HEADER,
};
use sha2::{Digest, Sha256};

use super::check_name;
use super::extract::Path;
use crate::auth::AgentAuth;
use crate::error::ApiError;
use crate::startup::AppState;
use crate::store::Agent;

/// `GET …/chunks`, under the catalog's usual body limit.
pub(super) fn router() -> Router<AppState> {
    Router::new().route("/agent/recordings/{id}/chunks", get(list))
}

/// `PUT …/chunks/{track}/{index}`, relative to `/api/v1`: the one route whose body may be
/// up to [`MAX_CHUNK_BYTES`], so the app gives it its own body limit.
pub fn upload_router() -> Router<AppState> {
    Router::new()
        .route("/agent/recordings/{id}/chunks/{track}/{index}", put(upload))
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
}

/// 404 unless `id` is a recording of this box's room.
async fn own_recording(state: &AppState, agent: &Agent, id: &str) -> Result<(), ApiError> {
    if state.store.agent_owns_lecture(agent, id).await? {
        Ok(())
    } else {
        Err(ApiError::NotFound)
    }
}

/// Which chunks of the recording the catalog holds, by track and index.
#[tracing::instrument(skip_all, fields(agent = %agent.id, recording = %id))]
#[utoipa::path(get, path = "/api/v1/agent/recordings/{id}/chunks", tag = "capture boxes", security(("agent_token" = [])),
    params(("id" = String, Path, description = "recording id")),
    responses((status = 200, body = HeldChunks), (status = 401, body = lectern_wire::api::ErrorBody),
        (status = 404, body = lectern_wire::api::ErrorBody, description = "not a recording of this box's room")))]
async fn list(
    State(state): State<AppState>,
    AgentAuth(agent): AgentAuth,
    Path(id): Path<String>,
) -> Result<Json<HeldChunks>, ApiError> {
    own_recording(&state, &agent, &id).await?;
    let chunks = state.store.raw_chunks(&id).await?;
    Ok(Json(HeldChunks { chunks }))
}

/// A header's text, or 400 naming it.
fn header<'a>(headers: &'a HeaderMap, name: &str) -> Result<&'a str, ApiError> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ApiError::BadRequest(format!("the header {name} is required")))
}

/// Stores one chunk of the spool. The body is hashed as it streams in; only a body whose
/// SHA-256 is the `x-lectern-sha256` header's is stored (else 422, nothing stored). A chunk
/// the catalog already holds with the same hash answers 200 without reading the body again;
/// with another hash, 409 (chunks are immutable).
#[tracing::instrument(skip_all, fields(agent = %agent.id, recording = %id, track = %track, index = %index))]
#[utoipa::path(put, path = "/api/v1/agent/recordings/{id}/chunks/{track}/{index}", tag = "capture boxes", security(("agent_token" = [])),
    params(("id" = String, Path, description = "recording id"), ("track" = String, Path, description = "track, e.g. presenter"),
        ("index" = u32, Path, description = "chunk number within the track, from 0"),
        ("x-lectern-sha256" = String, Header, description = "SHA-256 of the body, lower-case hex"),
        ("x-lectern-chunk-start" = String, Header, description = "RFC 3339 wall-clock time of the chunk's first frame"),
        ("x-lectern-chunk-duration-ns" = u64, Header, description = "media duration in nanoseconds")),
    request_body(content(("video/mp2t")), description = "the chunk's bytes, at most 256 MiB"),
    responses((status = 201, body = HeldChunk, description = "stored"), (status = 200, body = HeldChunk, description = "already held with this SHA-256"),
        (status = 400, body = lectern_wire::api::ErrorBody), (status = 401, body = lectern_wire::api::ErrorBody),
        (status = 404, body = lectern_wire::api::ErrorBody, description = "not a recording of this box's room"),
        (status = 409, body = lectern_wire::api::ErrorBody, description = "already held with another SHA-256"),
        (status = 413, body = lectern_wire::api::ErrorBody, description = "the body is over 256 MiB"),
        (status = 422, body = lectern_wire::api::ErrorBody, description = "the body's SHA-256 is not the header's; nothing stored")))]
async fn upload(
    State(state): State<AppState>,
    AgentAuth(agent): AgentAuth,
    Path((id, track, index)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<HeldChunk>), ApiError> {
    own_recording(&state, &agent, &id).await?;
    check_name("track", &track)?;
    let index: u32 = index.parse().map_err(|_| {
        ApiError::BadRequest(format!("chunk index {index:?} must be 0 to 4294967295"))
    })?;
    let sha256 = header(&headers, SHA256_HEADER)?.to_ascii_lowercase();
    if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::BadRequest(format!(
            "{SHA256_HEADER} must be 64 hexadecimal digits"
        )));
    }
    let start: DateTime<Utc> = DateTime::parse_from_rfc3339(header(&headers, START_HEADER)?)
        .map_err(|e| ApiError::BadRequest(format!("{START_HEADER} is not RFC 3339: {e}")))?
        .with_timezone(&Utc);
    let duration_ns: u64 = header(&headers, DURATION_HEADER)?.parse().map_err(|_| {
        ApiError::BadRequest(format!(
            "{DURATION_HEADER} must be a whole number of nanoseconds"
        ))
    })?;

    if let Some(held) = state.store.raw_chunk(&id, &track, index).await? {
        return if held.sha256 == sha256 {
            Ok((StatusCode::OK, Json(held)))
        } else {
            Err(ApiError::Conflict(format!(
                "chunk {track}/{index} is already held with SHA-256 {}; chunks are never replaced",
                held.sha256
            )))
        };
    }

    let (body, actual) = read_hashed(body).await?;
    if actual != sha256 {
        tracing::warn!(%actual, expected = %sha256, bytes = body.len(), "chunk refused: checksum mismatch");
        return Err(ApiError::ChecksumMismatch(format!(
            "the body's SHA-256 is {actual}, not the {SHA256_HEADER} {sha256}: nothing was stored; send the chunk again"
        )));
    }
    let chunk = HeldChunk {
        track,
        index,
        bytes: body.len() as u64,
        sha256,
        start,
        duration_ns,
    };
    let key = lectern_packager::keys::raw_chunk(&id, &chunk.track, index);
    state
        .storage
        .put(&key, body, "video/mp2t")
        .await
        .map_err(|e| ApiError::Internal(format!("storing {key}: {e}")))?;
    let status = if state.store.add_raw_chunk(&id, &chunk, Utc::now()).await? {
        StatusCode::CREATED
    } else {
        // The same chunk arrived twice at once; the object is the same bytes.
        StatusCode::OK
    };
    tracing::info!(bytes = chunk.bytes, "raw chunk stored");
    Ok((status, Json(chunk)))
}

/// Reads the body (at most [`MAX_CHUNK_BYTES`]) and its SHA-256 as it streams in.
async fn read_hashed(body: Body) -> Result<(Bytes, String), ApiError> {
    let mut hasher = Sha256::new();
    let mut buffer = Vec::new();
    let mut stream = body.into_data_stream();
    while let Some(piece) = stream.next().await {
        let piece = piece.map_err(|e| {
            ApiError::BadRequest(format!("the chunk's body could not be read: {e}"))
        })?;
        if buffer.len() + piece.len() > MAX_CHUNK_BYTES {
            return Err(ApiError::BadRequest(format!(
                "a chunk may have at most {MAX_CHUNK_BYTES} bytes"
            )));
        }
        hasher.update(&piece);
        buffer.extend_from_slice(&piece);
    }
    Ok((Bytes::from(buffer), hex::encode(hasher.finalize())))
}
