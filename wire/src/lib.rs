//! The wire types of Lectern: every JSON body that crosses between the catalog, the capture
//! boxes (ingest), the transcode workers and the web player lives here, so a field is renamed
//! once and every side follows.
//!
//! - [`admin`]: what admins, instructors and TAs send to manage institutes, courses, rooms,
//!   capture boxes and lectures under `/api/v1`.
//! - [`api`]: what the player and people's browsers exchange with the catalog under `/api/v1`.
//! - [`agent`]: what a capture box says to the catalog under `/api/v1/agent`.
//! - [`chunks`]: the raw upload of a box's spool chunks.
//! - [`jobs`]: work queued for transcode workers, as workers claim it and staff follow it.
//! - [`worker`]: what a transcode worker says to the catalog under `/api/v1/worker`.
//!
//! Times are RFC 3339 on the wire (`chrono::DateTime<Utc>`); IDs are opaque strings.

pub mod admin;
pub mod agent;
pub mod api;
pub mod chunks;
pub mod jobs;
pub mod worker;

/// The header a capture box or worker presents its API token in: `Authorization: Bearer <token>`.
pub const AUTHORIZATION: &str = "authorization";
