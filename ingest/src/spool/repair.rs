//! Start-up repair: journals the chunks the daemon was writing when it was killed.
//!
//! A chunk is journaled when `splitmuxsink` closes it, so after a `kill -9` or a power cut
//! the chunk being written (and one still being hashed) has a file but no journal line.
//! MPEG-TS needs no trailer: such a file is valid media up to its last whole 188-byte
//! packet. The repair cuts the partial packet off, measures the chunk from its timestamps
//! and journals it. Journaled chunks are never touched.

use crate::error::SpoolError;
use crate::spool::journal::{self, sync_dir, ChunkRecord, ChunkState, Journal};
use crate::spool::ts::{self, Scan};
use crate::spool::writer::{sync_and_hash, track_and_index};
use chrono::{DateTime, Utc};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// What the repair did to one recording.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Repaired {
    /// Chunks journaled by the repair.
    pub journaled: Vec<ChunkRecord>,
    /// Files with no playable packet (killed right after opening), removed.
    pub removed_empty: Vec<PathBuf>,
    /// Files out of sync in the middle, renamed to `*.ts.damaged` and left for an admin.
    pub damaged: Vec<PathBuf>,
}

/// Repairs every recording directory under `spool_dir`.
pub fn repair_spool(spool_dir: &Path) -> Result<Vec<Repaired>, SpoolError> {
    let mut repaired = Vec::new();
    for recording_dir in recording_dirs(spool_dir)? {
        let result = repair_recording(&recording_dir)?;
        if result != Repaired::default() {
            repaired.push(result);
        }
    }
    Ok(repaired)
}

/// The recording directories in the spool, oldest name first.
pub fn recording_dirs(spool_dir: &Path) -> Result<Vec<PathBuf>, SpoolError> {
    let mut dirs = Vec::new();
    let entries = match std::fs::read_dir(spool_dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(dirs),
        Err(e) => return Err(SpoolError::io(spool_dir)(e)),
    };
    for entry in entries {
        let entry = entry.map_err(SpoolError::io(spool_dir))?;
        if entry
            .file_type()
            .map_err(SpoolError::io(entry.path()))?
            .is_dir()
        {
            dirs.push(entry.path());
        }
    }
    dirs.sort();
    Ok(dirs)
}

/// Journals the unjournaled chunk files of one recording, in track and index order.
pub fn repair_recording(recording_dir: &Path) -> Result<Repaired, SpoolError> {
    let known: BTreeSet<(String, u32)> = journal::read_chunks(recording_dir)?
        .into_iter()
        .map(|c| (c.track, c.index))
        .collect();
    let mut orphans: Vec<(String, u32, PathBuf)> = chunk_files(recording_dir)?
        .into_iter()
        .filter_map(|path| {
            let (track, index) = track_and_index(&path)?;
            (!known.contains(&(track.clone(), index))).then_some((track, index, path))
        })
        .collect();
    orphans.sort();
    let mut repaired = Repaired::default();
    if orphans.is_empty() {
        return Ok(repaired);
    }
    let journal = Journal::open(recording_dir)?;
    for (track, index, path) in orphans {
        let bytes = std::fs::read(&path).map_err(SpoolError::io(&path))?;
        match ts::scan(&bytes) {
            Scan::OutOfSync { offset } => {
                let damaged = path.with_extension("ts.damaged");
                tracing::warn!(chunk = %path.display(), offset, "an unjournaled chunk is damaged; moved aside for an admin");
                std::fs::rename(&path, &damaged).map_err(SpoolError::io(&path))?;
                repaired.damaged.push(damaged);
            }
            Scan::Media {
                duration_ns: None, ..
            } => {
                tracing::info!(chunk = %path.display(), bytes = bytes.len(), "removing a chunk that holds no media");
                std::fs::remove_file(&path).map_err(SpoolError::io(&path))?;
                repaired.removed_empty.push(path);
            }
            Scan::Media {
                valid_len,
                duration_ns: Some(duration_ns),
            } => {
                let record = journal_orphan(
                    &journal,
                    &path,
                    (track, index),
                    valid_len,
                    duration_ns,
                    bytes.len() as u64,
                )?;
                repaired.journaled.push(record);
            }
        }
    }
    for dir in repaired
        .removed_empty
        .iter()
        .chain(&repaired.damaged)
        .filter_map(|p| p.parent())
    {
        sync_dir(dir)?;
    }
    Ok(repaired)
}

fn journal_orphan(
    journal: &Journal,
    path: &Path,
    (track, index): (String, u32),
    valid_len: u64,
    duration_ns: u64,
    len: u64,
) -> Result<ChunkRecord, SpoolError> {
    if valid_len < len {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(SpoolError::io(path))?;
        file.set_len(valid_len).map_err(SpoolError::io(path))?;
    }
    let (bytes, sha256) = sync_and_hash(path)?;
    let record = ChunkRecord {
        recording: journal.recording_id(),
        start: start_of(journal, path, &track, index, duration_ns)?,
        track,
        index,
        duration_ns,
        bytes,
        sha256,
        state: ChunkState::Recorded,
        repaired: true,
    };
    journal.append(&record)?;
    tracing::warn!(
        chunk = %path.display(), cut_bytes = len - valid_len, seconds = duration_ns as f64 / 1e9,
        "journaled a chunk the daemon was writing when it stopped"
    );
    Ok(record)
}

/// Chunks follow each other without a gap, so an orphan starts where the track's previous
/// chunk ended; the first chunk of a track starts its duration before the file's last write.
fn start_of(
    journal: &Journal,
    path: &Path,
    track: &str,
    index: u32,
    duration_ns: u64,
) -> Result<DateTime<Utc>, SpoolError> {
    let previous = journal
        .chunks()?
        .into_iter()
        .filter(|c| c.track == track && c.index < index)
        .max_by_key(|c| c.index);
    if let Some(previous) = previous {
        return Ok(previous.end());
    }
    let modified = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .map_err(SpoolError::io(path))?;
    Ok(DateTime::<Utc>::from(modified) - chrono::Duration::nanoseconds(duration_ns as i64))
}

/// Every `<track>/<index>.ts` file of a recording.
fn chunk_files(recording_dir: &Path) -> Result<Vec<PathBuf>, SpoolError> {
    let mut files = Vec::new();
    for track_dir in recording_dirs(recording_dir)? {
        for entry in std::fs::read_dir(&track_dir).map_err(SpoolError::io(&track_dir))? {
            let path = entry.map_err(SpoolError::io(&track_dir))?.path();
            if track_and_index(&path).is_some() {
                files.push(path);
            }
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spool::ts::{pes_packet, PACKET};

    /// Ten frames at 30 fps and `tail` bytes of a packet cut short.
    fn killed_chunk(tail: usize) -> Vec<u8> {
        let mut bytes: Vec<u8> = (0..10u64)
            .flat_map(|n| pes_packet(0x100, n * 3000))
            .collect();
        bytes.extend(&pes_packet(0x100, 30_000)[..tail]);
        bytes
    }

    #[test]
    fn an_unjournaled_chunk_is_cut_to_whole_packets_and_journaled_after_the_last_one() {
        let recording = tempfile::tempdir().unwrap();
        let track = recording.path().join("presenter");
        std::fs::create_dir(&track).unwrap();
        let journal = Journal::open(recording.path()).unwrap();
        std::fs::write(track.join("00000.ts"), killed_chunk(0)).unwrap();
        let first = repair_recording(recording.path())
            .unwrap()
            .journaled
            .remove(0);
        std::fs::write(track.join("00001.ts"), killed_chunk(100)).unwrap();
        std::fs::write(track.join("00002.ts"), b"").unwrap();

        let repaired = repair_recording(recording.path()).unwrap();

        assert_eq!(repaired.journaled.len(), 1);
        let second = &repaired.journaled[0];
        assert_eq!(second.index, 1);
        assert_eq!(second.bytes, 10 * PACKET as u64);
        assert_eq!(
            std::fs::metadata(track.join("00001.ts")).unwrap().len(),
            second.bytes
        );
        assert_eq!(second.duration_ns, 333_333_333);
        assert_eq!(
            second.start,
            first.end(),
            "it starts where the chunk before ended"
        );
        assert!(second.repaired);
        assert_eq!(repaired.removed_empty, [track.join("00002.ts")]);
        assert_eq!(journal.chunks().unwrap().len(), 2);
        assert_eq!(
            repair_recording(recording.path()).unwrap(),
            Repaired::default(),
            "a second repair has nothing to do"
        );
    }

    #[test]
    fn a_chunk_out_of_sync_is_moved_aside_not_journaled() {
        let recording = tempfile::tempdir().unwrap();
        let track = recording.path().join("presenter");
        std::fs::create_dir(&track).unwrap();
        std::fs::write(track.join("00000.ts"), vec![0u8; 2 * PACKET]).unwrap();

        let repaired = repair_recording(recording.path()).unwrap();

        assert_eq!(repaired.damaged, [track.join("00000.ts.damaged")]);
        assert!(repaired.journaled.is_empty());
        assert!(track.join("00000.ts.damaged").exists());
    }
}
