//! What a capture box (the ingest daemon) and the catalog say to each other.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How often a box sends [`Heartbeat`]. Admins see a box as online while its last heartbeat
/// is at most three of these old.
pub const HEARTBEAT_INTERVAL_SECONDS: u64 = 30;

/// `POST /api/v1/agent/heartbeat`: what the box is doing and how it is, every
/// [`HEARTBEAT_INTERVAL_SECONDS`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Heartbeat {
    /// What it is doing: `idle`, `capturing`, `uploading`, … (1 to 32 of `[a-z0-9_-]`).
    pub state: String,
    /// The ingest daemon's version.
    #[serde(default)]
    pub version: Option<String>,
    /// A JSON object, free-form, shown to admins as sent: disk free bytes, devices, audio
    /// level, … (at most 16 KiB).
    #[serde(default = "empty_object")]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub health: serde_json::Value,
}

fn empty_object() -> serde_json::Value {
    serde_json::Value::Object(serde_json::Map::new())
}

/// `GET /api/v1/agent/schedule`: what the box's room has coming, for the box to cache and
/// follow when the catalog is away. Its `ETag` changes only when this content does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentSchedule {
    pub room_id: String,
    /// The occurrences that have not ended yet and start within the asked window, by start.
    pub occurrences: Vec<ScheduledOccurrence>,
}

/// One occurrence of a schedule in the box's room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScheduledOccurrence {
    pub schedule_id: String,
    pub course_id: String,
    pub title: String,
    /// UTC.
    pub start: DateTime<Utc>,
    /// UTC, exclusive.
    pub end: DateTime<Utc>,
}

/// `POST /api/v1/agent/recordings`: the box has started recording now.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StartRecording {
    /// The lecture's title; when absent the catalog names it after the schedule whose
    /// occurrence it is in (or the room's course) and the date.
    pub title: Option<String>,
    /// The tracks the box records, e.g. `["presenter"]`.
    pub tracks: Vec<String>,
}

/// The catalog's answer to [`StartRecording`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecordingStarted {
    pub recording_id: String,
    pub lecture_id: String,
    /// Where to push the live stream, when a worker is available. `None` means: record
    /// locally only for now.
    pub live: Option<LiveTarget>,
}

/// An SRT destination for one recording: a listener port of one worker, for this recording
/// only, encrypted with a passphrase issued for it.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LiveTarget {
    /// `srt://host:port` of the worker's listener for this recording.
    pub srt_url: String,
    /// The SRT `streamid` per track, in the order of [`StartRecording::tracks`]; see
    /// [`crate::worker::StreamId`].
    pub stream_ids: Vec<String>,
    /// The SRT passphrase (AES, `pbkeylen` 32) of this recording's listener: a secret, never
    /// logged (the `Debug` output hides it).
    pub passphrase: String,
}

impl std::fmt::Debug for LiveTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveTarget")
            .field("srt_url", &self.srt_url)
            .field("stream_ids", &self.stream_ids)
            .field("passphrase", &"<hidden>")
            .finish()
    }
}

/// `POST /api/v1/agent/recordings/{id}/stop`: the box has stopped recording.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StopRecording {
    /// Seconds the box recorded, by its own clock.
    pub recorded_seconds: f64,
}
