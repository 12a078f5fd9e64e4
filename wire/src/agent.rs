//! What a capture box (the ingest daemon) and the catalog say to each other.

use serde::{Deserialize, Serialize};

/// `POST /api/v1/agent/recordings`: the box has started recording now.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StartRecording {
    /// The lecture's title; the catalog names it after the course and date when absent.
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
