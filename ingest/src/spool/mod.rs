//! The local spool, the box's source of truth for what it recorded.
//!
//! ```text
//! <spool_dir>/<recording>/journal.jsonl      one line per chunk state change
//! <spool_dir>/<recording>/<track>/00000.ts   MPEG-TS chunks from splitmuxsink
//! ```
//!
//! - [`journal`]: the append-only, fsynced journal of one recording, and its records.
//! - [`writer`]: journals chunks as `splitmuxsink` closes them (hash off the bus loop).
//! - [`repair`]: at start-up, journals chunks a killed daemon left unjournaled.
//! - [`disk_guard`]: deletes confirmed chunks, oldest first, to stay within the limits.
//!
//! The upload marks chunks as held by the catalog with [`Journal::confirm`].

pub mod disk_guard;
pub mod journal;
pub mod repair;
mod ts;
pub mod writer;

pub use disk_guard::{DiskGuard, DiskLimits, DiskWarning, SpoolHealth};
pub use journal::{ChunkRecord, ChunkState, Journal};
pub use repair::{repair_recording, repair_spool, Repaired};
pub use writer::ChunkWriter;

use crate::error::SpoolError;
use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};

/// Creates a new recording directory under `spool_dir`, named by its start time (and a
/// suffix if a recording started in the same second), with its journal, durably.
pub fn create_recording(spool_dir: &Path, started: DateTime<Utc>) -> Result<Journal, SpoolError> {
    std::fs::create_dir_all(spool_dir).map_err(SpoolError::io(spool_dir))?;
    let name = started.format("%Y%m%dT%H%M%SZ").to_string();
    let mut suffix = 0;
    let dir: PathBuf = loop {
        let candidate = match suffix {
            0 => spool_dir.join(&name),
            n => spool_dir.join(format!("{name}-{n}")),
        };
        match std::fs::create_dir(&candidate) {
            Ok(()) => break candidate,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => suffix += 1,
            Err(e) => return Err(SpoolError::io(candidate)(e)),
        }
    };
    journal::sync_dir(spool_dir)?;
    Journal::open(&dir)
}

/// Creates the directory of `track` in the recording of `journal`.
pub fn create_track_dir(journal: &Journal, track: &str) -> Result<PathBuf, SpoolError> {
    let dir = journal.recording_dir().join(track);
    std::fs::create_dir_all(&dir).map_err(SpoolError::io(&dir))?;
    journal::sync_dir(journal.recording_dir())?;
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_recordings_started_in_the_same_second_get_their_own_directories() {
        let spool = tempfile::tempdir().unwrap();
        let now = Utc::now();
        let a = create_recording(spool.path(), now).unwrap();
        let b = create_recording(spool.path(), now).unwrap();
        assert_ne!(a.recording_dir(), b.recording_dir());
        assert!(b.recording_id().ends_with("-1"), "{}", b.recording_id());
    }
}
