//! The journal of one recording: `<recording-dir>/journal.jsonl`, append-only JSON lines.
//!
//! Every line is a complete [`ChunkRecord`]; a chunk's state changes by appending the same
//! record with the new state, and the last line for a `(track, index)` wins. So a line is
//! never rewritten, and power loss can only ever cut the line being appended: a torn last
//! line (no trailing newline, or not JSON) is ignored on read and cut off before the next
//! append.
//!
//! Durability: each line is written with one `write(2)` on a file opened `O_APPEND` (so the
//! recorder, the disk guard and the uploader may append to the same journal) and
//! `fdatasync`ed before `append` returns; creating the journal also syncs its directory.

use crate::error::SpoolError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The journal's file name inside a recording directory.
pub const JOURNAL_FILE: &str = "journal.jsonl";

/// Where a chunk is in its life on the box.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChunkState {
    /// On the box's disk only; the disk guard never deletes it.
    Recorded,
    /// The catalog holds it (checksum matched); the disk guard may delete it.
    Confirmed,
    /// Confirmed, then deleted by the disk guard to make room.
    Evicted,
}

/// One finished chunk of one track, as the journal records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkRecord {
    /// The local recording id: the recording directory's name.
    pub recording: String,
    /// The track, e.g. `presenter`.
    pub track: String,
    /// The chunk's number within the track, from 0 (its file is `<track>/<index:05>.ts`).
    pub index: u32,
    /// Wall-clock time (UTC) of the chunk's first frame.
    pub start: DateTime<Utc>,
    /// Media duration in nanoseconds.
    pub duration_ns: u64,
    /// File size in bytes.
    pub bytes: u64,
    /// SHA-256 of the file, lower-case hex.
    pub sha256: String,
    pub state: ChunkState,
    /// Set when the chunk was journaled at start-up after the daemon died while writing it
    /// (its duration is then measured from the file's timestamps).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub repaired: bool,
}

impl ChunkRecord {
    /// The chunk's file name inside its track directory.
    pub fn file_name(index: u32) -> String {
        format!("{index:05}.ts")
    }

    /// Where the chunk lives under its recording directory.
    pub fn path_in(&self, recording_dir: &Path) -> PathBuf {
        recording_dir
            .join(&self.track)
            .join(Self::file_name(self.index))
    }

    /// Wall-clock end of the chunk.
    pub fn end(&self) -> DateTime<Utc> {
        self.start + chrono::Duration::nanoseconds(self.duration_ns as i64)
    }
}

/// The journal of one recording directory, open for appending.
#[derive(Debug)]
pub struct Journal {
    recording_dir: PathBuf,
    file: Mutex<File>,
}

impl Journal {
    /// Opens the journal of `recording_dir`, creating it (and syncing the directory) if it
    /// does not exist yet, and cutting off a torn last line.
    pub fn open(recording_dir: &Path) -> Result<Journal, SpoolError> {
        let path = recording_dir.join(JOURNAL_FILE);
        let existed = path.exists();
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .open(&path)
            .map_err(SpoolError::io(&path))?;
        if existed {
            cut_torn_tail(&file, &path)?;
        } else {
            file.sync_all().map_err(SpoolError::io(&path))?;
            sync_dir(recording_dir)?;
        }
        Ok(Journal {
            recording_dir: recording_dir.to_owned(),
            file: Mutex::new(file),
        })
    }

    /// The recording directory this journal describes.
    pub fn recording_dir(&self) -> &Path {
        &self.recording_dir
    }

    /// The local recording id (the directory's name).
    pub fn recording_id(&self) -> String {
        recording_id(&self.recording_dir)
    }

    /// Appends one record durably: one write, then `fdatasync`.
    pub fn append(&self, record: &ChunkRecord) -> Result<(), SpoolError> {
        let mut line = serde_json::to_vec(record).expect("a chunk record serialises");
        line.push(b'\n');
        let path = self.recording_dir.join(JOURNAL_FILE);
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        // One buffer, so one write(2) for a regular file; O_APPEND keeps concurrent
        // appenders' lines whole.
        file.write_all(&line).map_err(SpoolError::io(&path))?;
        file.sync_data().map_err(SpoolError::io(&path))
    }

    /// The current state of every chunk in the journal.
    pub fn chunks(&self) -> Result<Vec<ChunkRecord>, SpoolError> {
        read_chunks(&self.recording_dir)
    }

    /// Marks a chunk as held by the catalog, so the disk guard may delete it. The upload
    /// calls this once the catalog has confirmed the chunk's checksum.
    pub fn confirm(&self, track: &str, index: u32) -> Result<ChunkRecord, SpoolError> {
        self.set_state(track, index, ChunkState::Confirmed)
    }

    /// Records that `track`/`index` moved to `state` (the last line wins).
    pub(crate) fn set_state(
        &self,
        track: &str,
        index: u32,
        state: ChunkState,
    ) -> Result<ChunkRecord, SpoolError> {
        let mut record = self
            .chunks()?
            .into_iter()
            .find(|c| c.track == track && c.index == index)
            .ok_or_else(|| SpoolError::UnknownChunk {
                recording: self.recording_id(),
                track: track.to_owned(),
                index,
            })?;
        if record.state != state {
            record.state = state;
            self.append(&record)?;
        }
        Ok(record)
    }
}

/// The local recording id of a recording directory: its name.
pub fn recording_id(recording_dir: &Path) -> String {
    recording_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Reads the journal of `recording_dir` (no journal: no chunks), folding state changes so
/// each chunk appears once, ordered by track and index. Lines that do not parse are skipped
/// with a warning: only the last can be torn by a crash, and a chunk whose line is lost is
/// journaled again from its file by the start-up repair.
pub fn read_chunks(recording_dir: &Path) -> Result<Vec<ChunkRecord>, SpoolError> {
    let path = recording_dir.join(JOURNAL_FILE);
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(SpoolError::io(&path)(e)),
    };
    let complete = bytes.len() - torn_tail_len(&bytes);
    let mut chunks = BTreeMap::new();
    for (number, line) in bytes[..complete].split(|b| *b == b'\n').enumerate() {
        if line.is_empty() {
            continue;
        }
        match serde_json::from_slice::<ChunkRecord>(line) {
            Ok(record) => {
                chunks.insert((record.track.clone(), record.index), record);
            }
            Err(e) => tracing::warn!(
                journal = %path.display(), line = number + 1, error = %e,
                "skipping a journal line that is not a chunk record"
            ),
        }
    }
    Ok(chunks.into_values().collect())
}

/// Length of the bytes after the last newline: a line whose write was cut short.
fn torn_tail_len(bytes: &[u8]) -> usize {
    match bytes.iter().rposition(|b| *b == b'\n') {
        Some(last) => bytes.len() - last - 1,
        None => bytes.len(),
    }
}

/// Cuts a torn last line off, so the next append starts on a line of its own.
fn cut_torn_tail(file: &File, path: &Path) -> Result<(), SpoolError> {
    let bytes = std::fs::read(path).map_err(SpoolError::io(path))?;
    let torn = torn_tail_len(&bytes);
    if torn > 0 {
        tracing::warn!(journal = %path.display(), bytes = torn, "cutting a torn last line off the journal");
        file.set_len((bytes.len() - torn) as u64)
            .and_then(|()| file.sync_all())
            .map_err(SpoolError::io(path))?;
    }
    Ok(())
}

/// `fsync`s a directory, so entries created in it survive power loss.
pub fn sync_dir(dir: &Path) -> Result<(), SpoolError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(SpoolError::io(dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(track: &str, index: u32) -> ChunkRecord {
        ChunkRecord {
            recording: "r".into(),
            track: track.into(),
            index,
            start: "2025-03-01T09:00:00Z".parse().unwrap(),
            duration_ns: 10_000_000_000,
            bytes: 1000,
            sha256: "00".repeat(32),
            state: ChunkState::Recorded,
            repaired: false,
        }
    }

    #[test]
    fn the_last_line_for_a_chunk_wins() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(dir.path()).unwrap();
        journal.append(&record("presenter", 0)).unwrap();
        journal.append(&record("presenter", 1)).unwrap();
        journal.confirm("presenter", 0).unwrap();
        let chunks = journal.chunks().unwrap();
        assert_eq!(chunks.len(), 2);
        assert_eq!(chunks[0].state, ChunkState::Confirmed);
        assert_eq!(chunks[1].state, ChunkState::Recorded);
    }

    #[test]
    fn a_torn_last_line_is_ignored_and_cut_before_the_next_append() {
        let dir = tempfile::tempdir().unwrap();
        Journal::open(dir.path())
            .unwrap()
            .append(&record("presenter", 0))
            .unwrap();
        let path = dir.path().join(JOURNAL_FILE);
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(br#"{"recording":"r","track":"pres"#)
            .unwrap();
        assert_eq!(read_chunks(dir.path()).unwrap().len(), 1);

        let journal = Journal::open(dir.path()).unwrap();
        journal.append(&record("presenter", 1)).unwrap();
        let indices: Vec<u32> = journal.chunks().unwrap().iter().map(|c| c.index).collect();
        assert_eq!(indices, [0, 1]);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 2, "{text}");
    }

    #[test]
    fn confirming_an_unknown_chunk_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(dir.path()).unwrap();
        let err = journal.confirm("presenter", 7).unwrap_err();
        assert!(
            matches!(err, SpoolError::UnknownChunk { index: 7, .. }),
            "{err}"
        );
    }
}
