//! What capture boxes ask: start and stop a recording, report how they are (heartbeat) and
//! what their room has scheduled ([`super::agent_schedule`]).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use lectern_wire::agent::{Heartbeat, LiveTarget, RecordingStarted, StartRecording, StopRecording};
use lectern_wire::worker::StreamId;

use super::extract::{self, Path};
use super::{agent_schedule, check_name, check_text};
use crate::auth::AgentAuth;
use crate::error::ApiError;
use crate::startup::AppState;
use crate::store::StartError;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/agent/recordings", post(start))
        .route("/agent/recordings/{id}/stop", post(stop))
        .route("/agent/heartbeat", post(heartbeat))
        .route("/agent/schedule", get(agent_schedule::schedule))
}

/// The largest health report kept (it is shown to admins, not mined).
const MAX_HEALTH_BYTES: usize = 16 * 1024;

/// Records what the box says of itself; admins see it in `GET /api/v1/agents`. Not audited:
/// it is a machine's routine, every 30 s.
#[tracing::instrument(skip_all, fields(agent = %agent.id))]
#[utoipa::path(post, path = "/api/v1/agent/heartbeat", tag = "capture boxes", security(("agent_token" = [])),
    request_body = Heartbeat,
    responses((status = 204, description = "recorded"),
        (status = 400, body = lectern_wire::api::ErrorBody, description = "a bad state or version, or health is not a JSON object of at most 16 KiB"),
        (status = 401, body = lectern_wire::api::ErrorBody)))]
async fn heartbeat(
    State(state): State<AppState>,
    AgentAuth(agent): AgentAuth,
    extract::Json(beat): extract::Json<Heartbeat>,
) -> Result<StatusCode, ApiError> {
    let state_ok = (1..=32).contains(&beat.state.len())
        && beat
            .state
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !state_ok {
        return Err(ApiError::BadRequest(format!(
            "state {:?} must be 1 to 32 ASCII letters, digits, '-' or '_'",
            beat.state
        )));
    }
    if let Some(version) = &beat.version {
        check_text("version", version, 64)?;
    }
    if !beat.health.is_object() {
        return Err(ApiError::BadRequest("health must be a JSON object".into()));
    }
    if beat.health.to_string().len() > MAX_HEALTH_BYTES {
        return Err(ApiError::BadRequest(format!(
            "health must be at most {MAX_HEALTH_BYTES} bytes of JSON"
        )));
    }
    state
        .store
        .agent_heartbeat(
            &agent.id,
            &beat.state,
            beat.version.as_deref(),
            &beat.health,
            Utc::now(),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Starts a capturing lecture and, when a worker is up, tells the box where to push it live.
/// A lecture planned in the box's room whose window holds now (from 5 minutes before its
/// planned start to its planned end) becomes the recording; else, inside an occurrence of
/// one of the room's schedules (or up to 5 minutes before it), a new lecture of the
/// schedule's course titled after it and the date; else a new lecture of the room's default
/// course (see [`crate::store::Store::start_lecture`]). The recording id is the lecture id
/// for now.
#[tracing::instrument(skip_all, fields(agent = %agent.id))]
#[utoipa::path(post, path = "/api/v1/agent/recordings", tag = "capture boxes", security(("agent_token" = [])),
    request_body = StartRecording,
    responses((status = 200, body = RecordingStarted), (status = 400, body = lectern_wire::api::ErrorBody),
        (status = 401, body = lectern_wire::api::ErrorBody), (status = 409, body = lectern_wire::api::ErrorBody, description = "no planned lecture or schedule's occurrence now and the room has no default course")))]
async fn start(
    State(state): State<AppState>,
    AgentAuth(agent): AgentAuth,
    extract::Json(req): extract::Json<StartRecording>,
) -> Result<Json<RecordingStarted>, ApiError> {
    if req.tracks.is_empty() {
        return Err(ApiError::BadRequest(
            "tracks must name at least one track".into(),
        ));
    }
    for track in &req.tracks {
        check_name("track", track)?;
    }
    let now = Utc::now();
    let lecture_id = state
        .store
        .start_lecture(
            &agent,
            req.title.as_deref(),
            req.tracks.first().map(String::as_str),
            now,
        )
        .await
        .map_err(|e| match e {
            StartError::NoCourse => ApiError::Conflict(e.to_string()),
            StartError::Store(e) => ApiError::Store(e),
        })?;
    // A listener of its own: one worker's port and a new passphrase (never logged).
    let live = state
        .store
        .assign_live(&lecture_id, &req.tracks, now)
        .await?
        .map(|assigned| LiveTarget {
            srt_url: format!("srt://{}:{}", url_host(&assigned.srt_host), assigned.port),
            stream_ids: stream_ids(&lecture_id, &req.tracks),
            passphrase: assigned.passphrase,
        });
    tracing::info!(lecture = %lecture_id, live = live.is_some(), "recording started");
    Ok(Json(RecordingStarted {
        recording_id: lecture_id.clone(),
        lecture_id,
        live,
    }))
}

#[tracing::instrument(skip_all, fields(agent = %agent.id, lecture = %id))]
#[utoipa::path(post, path = "/api/v1/agent/recordings/{id}/stop", tag = "capture boxes", security(("agent_token" = [])),
    params(("id" = String, Path, description = "recording id")), request_body = StopRecording,
    responses((status = 204, description = "lecture is processing"), (status = 401, body = lectern_wire::api::ErrorBody),
        (status = 404, body = lectern_wire::api::ErrorBody, description = "not a recording of this box's room")))]
async fn stop(
    State(state): State<AppState>,
    AgentAuth(agent): AgentAuth,
    Path(id): Path<String>,
    extract::Json(req): extract::Json<StopRecording>,
) -> Result<StatusCode, ApiError> {
    if !state.store.stop_lecture(&agent, &id, Utc::now()).await? {
        return Err(ApiError::NotFound);
    }
    tracing::info!(recorded_seconds = req.recorded_seconds, "recording stopped");
    Ok(StatusCode::NO_CONTENT)
}

/// The SRT `streamid`s of a lecture's tracks, in order.
pub(super) fn stream_ids(lecture_id: &str, tracks: &[String]) -> Vec<String> {
    tracks
        .iter()
        .map(|track| {
            StreamId {
                lecture_id: lecture_id.to_owned(),
                track: track.clone(),
            }
            .to_string()
        })
        .collect()
}

/// A host as it stands in a URL: an IPv6 address in brackets.
fn url_host(host: &str) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_owned()
    }
}
