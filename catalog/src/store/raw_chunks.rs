//! Raw chunks a capture box uploaded from its spool (design decision 1): one row per chunk
//! the catalog holds in storage, written after the chunk's SHA-256 matched and its object
//! was stored. A chunk is immutable: the first row for (lecture, track, index) stays.

use chrono::{DateTime, Utc};
use lectern_wire::chunks::HeldChunk;

use super::lectures::Agent;
use super::{Store, StoreError};

/// What the raw upload needs from a database; both backends implement it next to their
/// other SQL (`sqlite/raw_chunks.rs`, `postgres/raw_chunks.rs`).
pub(crate) trait RawChunksDb {
    /// Inserts the row unless one for (lecture, track, index) exists; true when inserted.
    async fn insert_raw_chunk(
        &self,
        lecture_id: &str,
        chunk: &HeldChunk,
        stored_at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Every chunk of a lecture, by track and index.
    async fn raw_chunks(&self, lecture_id: &str) -> Result<Vec<HeldChunk>, StoreError>;
    /// One chunk, if held.
    async fn raw_chunk(
        &self,
        lecture_id: &str,
        track: &str,
        index: u32,
    ) -> Result<Option<HeldChunk>, StoreError>;
}

impl Store {
    /// True when `lecture_id` is a recording of `agent`'s room (a box sees only its own).
    pub async fn agent_owns_lecture(
        &self,
        agent: &Agent,
        lecture_id: &str,
    ) -> Result<bool, StoreError> {
        Ok(self
            .lecture(lecture_id)
            .await?
            .is_some_and(|lecture| lecture.room_id.as_deref() == Some(agent.room_id.as_str())))
    }

    /// Records a raw chunk whose object is stored; false when the chunk was already held
    /// (the first row stays).
    #[tracing::instrument(skip(self, chunk), fields(track = %chunk.track, index = chunk.index))]
    pub async fn add_raw_chunk(
        &self,
        lecture_id: &str,
        chunk: &HeldChunk,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        on_backend!(self, db => db.insert_raw_chunk(lecture_id, chunk, now))
    }

    /// The raw chunks the catalog holds of a lecture, by track and index.
    pub async fn raw_chunks(&self, lecture_id: &str) -> Result<Vec<HeldChunk>, StoreError> {
        on_backend!(self, db => db.raw_chunks(lecture_id))
    }

    /// One raw chunk, if held.
    pub async fn raw_chunk(
        &self,
        lecture_id: &str,
        track: &str,
        index: u32,
    ) -> Result<Option<HeldChunk>, StoreError> {
        on_backend!(self, db => db.raw_chunk(lecture_id, track, index))
    }
}

/// A raw chunk row as both backends read it (integers are 64-bit on both).
pub(super) fn held_chunk(
    track: String,
    index: i64,
    start: DateTime<Utc>,
    duration_ns: i64,
    bytes: i64,
    sha256: String,
) -> Result<HeldChunk, StoreError> {
    let corrupt = |what: &str| StoreError::Corrupt(format!("raw chunk {track}/{index}: {what}"));
    Ok(HeldChunk {
        index: u32::try_from(index).map_err(|_| corrupt("index"))?,
        duration_ns: u64::try_from(duration_ns).map_err(|_| corrupt("duration"))?,
        bytes: u64::try_from(bytes).map_err(|_| corrupt("bytes"))?,
        start,
        sha256,
        track,
    })
}
