//! The raw upload of a capture box's spool (design decision 1): the box asks which chunks
//! the catalog holds (`GET /api/v1/agent/recordings/{id}/chunks`) and PUTs the ones it
//! lacks (`PUT /api/v1/agent/recordings/{id}/chunks/{track}/{index}`, the chunk's bytes as
//! the body and the headers below).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The chunk's SHA-256, lower-case hex: the catalog refuses (422) a body that does not match.
pub const SHA256_HEADER: &str = "x-lectern-sha256";
/// Wall-clock time (RFC 3339, UTC) of the chunk's first frame.
pub const START_HEADER: &str = "x-lectern-chunk-start";
/// The chunk's media duration in nanoseconds.
pub const DURATION_HEADER: &str = "x-lectern-chunk-duration-ns";
/// The largest chunk body the catalog takes (256 MiB).
pub const MAX_CHUNK_BYTES: usize = 256 * 1024 * 1024;

/// One raw chunk the catalog holds in storage at `raw/<recording>/<track>/<index>.ts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HeldChunk {
    pub track: String,
    /// The chunk's number within its track, from 0.
    pub index: u32,
    /// Size in bytes.
    pub bytes: u64,
    /// SHA-256 of the bytes, lower-case hex.
    pub sha256: String,
    /// Wall-clock time of the chunk's first frame.
    pub start: DateTime<Utc>,
    /// Media duration in nanoseconds.
    pub duration_ns: u64,
}

/// `GET /api/v1/agent/recordings/{id}/chunks`: every chunk the catalog holds of a recording,
/// by track and index.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HeldChunks {
    pub chunks: Vec<HeldChunk>,
}
