//! Jobs: work the catalog queues for transcode workers (design decision 6). A worker claims
//! one under a lease, heartbeats to keep it with its progress, and completes it with the
//! segment index it produced or fails it with a message a person understands. Staff read a
//! lecture's jobs to see how far processing is.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::worker::{RenditionReport, SegmentReport, ThumbnailReport};

/// What a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// Encode the lecture from the raw chunks its capture box uploaded (design decisions 1
    /// and 2), usually as a new media version that completion switches to at once. It is the
    /// lecture's processing job: its completion makes the lecture `ready`, its last failure
    /// makes a `processing` lecture `failed`.
    Transcode,
    /// Encode a file a person uploaded to a course into the lecture made for it (payload
    /// [`TranscodeUpload`]). It is that lecture's processing job, like `transcode`.
    TranscodeUpload,
}

impl JobKind {
    /// Every kind, for parsing.
    pub const ALL: [JobKind; 2] = [JobKind::Transcode, JobKind::TranscodeUpload];

    /// The kind's name on the wire and in the catalog's `jobs.kind` column.
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Transcode => "transcode",
            JobKind::TranscodeUpload => "transcode_upload",
        }
    }
}

/// The payload of a [`JobKind::TranscodeUpload`] job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TranscodeUpload {
    /// The storage key of the uploaded file (`uploads/<lecture>/source`).
    pub source_key: String,
    /// The file's name on the uploader's machine, for messages only.
    #[serde(default)]
    pub file_name: Option<String>,
    /// The file's size in bytes.
    pub bytes: u64,
}

/// `POST /api/v1/courses/{id}/uploads` (201): the lecture the uploaded file becomes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UploadCreated {
    pub lecture_id: String,
}

/// A resumable upload (tus) as its creator sees it: the body of its creation (201) and of
/// `GET /api/v1/uploads/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResumableUploadState {
    /// The upload's id, the last part of its URL `/api/v1/uploads/{id}`.
    pub id: String,
    /// The course it becomes a lecture of.
    pub course_id: String,
    /// The lecture's title.
    pub title: String,
    /// The file's name, as the upload's metadata gave it.
    pub file_name: Option<String>,
    /// The file's size in bytes.
    pub length: u64,
    /// How many bytes arrived and are kept: where the next PATCH starts.
    pub offset: u64,
    /// When the upload and its bytes are deleted unless more arrive (every PATCH moves it on).
    pub expires_at: DateTime<Utc>,
    /// The lecture the file became when its last byte arrived; `null` until then.
    pub lecture_id: Option<String>,
}

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Waiting for a worker (new, or back after a failed attempt).
    Queued,
    /// A worker holds it under a lease (one whose lease ran out is claimed again).
    Running,
    /// Completed; its segment index is recorded.
    Done,
    /// Failed on its last attempt; `error` says why.
    Failed,
}

impl JobState {
    /// Every state, for parsing and for gauges that show zeros.
    pub const ALL: [JobState; 4] = [
        JobState::Queued,
        JobState::Running,
        JobState::Done,
        JobState::Failed,
    ];

    /// The state's name on the wire and in the catalog's `jobs.state` column.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Failed => "failed",
        }
    }
}

/// `POST /api/v1/worker/jobs/claim` (200): the job this worker now holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Job {
    pub id: String,
    pub kind: JobKind,
    pub lecture_id: String,
    /// The job's input, as whoever queued it wrote it (e.g. which recording to encode).
    pub payload: serde_json::Value,
    /// 1 on the first claim; more when an earlier attempt failed or its worker went silent.
    pub attempt: u32,
    /// The job is this worker's until then; each heartbeat moves it `lease_seconds` on.
    pub lease_expires_at: DateTime<Utc>,
    /// The length of a lease: heartbeat well within it (every third of it, say).
    pub lease_seconds: u32,
}

/// `POST /api/v1/worker/jobs/{id}/heartbeat`: still working, and how far.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JobHeartbeat {
    /// From 0 (started) to 1 (about to complete).
    pub progress: f64,
}

/// `POST /api/v1/worker/jobs/{id}/complete`: the job is done; this is what it stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CompleteJob {
    /// Every rendition the job wrote.
    pub renditions: Vec<RenditionReport>,
    /// Every segment the job stored, each of one of `renditions`.
    pub segments: Vec<SegmentReport>,
    /// The storage version the job wrote into (`lectures/<lecture>/<version>/…`). Another
    /// version than the lecture's replaces its renditions and segments with these, at once;
    /// absent or the same version adds these to what the lecture has.
    #[serde(default)]
    pub media_version: Option<String>,
    /// The pictures the job stored per track (poster, timeline thumbnails, chapters); they
    /// follow `media_version` like the segments. Absent: none.
    #[serde(default)]
    pub thumbnails: Vec<ThumbnailReport>,
}

/// `POST /api/v1/worker/jobs/{id}/fail`: the attempt failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FailJob {
    /// What went wrong, for a person (staff see it; the lecture shows it if this was the
    /// last attempt of its processing job).
    pub error: String,
    /// Whether another attempt may succeed (the default, as workers that do not send it
    /// meant). `false` says the input itself is at fault (a file that is not media, is
    /// empty, an image, cut short or damaged) and every attempt would fail the same way:
    /// the job fails at once, whatever attempts are left, and its lecture with it.
    #[serde(default = "retry_by_default")]
    pub retry: bool,
}

fn retry_by_default() -> bool {
    true
}

/// An item of `GET /api/v1/lectures/{id}/jobs`: what staff see of a lecture's job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LectureJob {
    pub id: String,
    pub kind: JobKind,
    pub state: JobState,
    /// From 0 to 1, as the worker last reported it (1 once done).
    pub progress: f64,
    /// How many times a worker has claimed it.
    pub attempts: u32,
    /// Why the last attempt failed, if one did.
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_serde_names() {
        for state in JobState::ALL {
            assert_eq!(
                serde_json::to_value(state).unwrap(),
                serde_json::Value::from(state.as_str())
            );
        }
        for kind in JobKind::ALL {
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::Value::from(kind.as_str())
            );
        }
    }

    #[test]
    fn a_failure_without_retry_is_retried_as_before() {
        let old: FailJob = serde_json::from_str(r#"{"error": "disk full"}"#).unwrap();
        assert!(old.retry);
        let fatal: FailJob =
            serde_json::from_str(r#"{"error": "not media", "retry": false}"#).unwrap();
        assert!(!fatal.retry);
    }

    #[test]
    fn media_version_may_be_left_out() {
        let body: CompleteJob =
            serde_json::from_str(r#"{"renditions": [], "segments": []}"#).unwrap();
        assert_eq!(body.media_version, None);
        assert!(body.thumbnails.is_empty());
    }
}
