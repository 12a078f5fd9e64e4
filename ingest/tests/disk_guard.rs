//! The disk guard frees space by deleting confirmed chunks, oldest first, and never one the
//! catalog has not confirmed.

use chrono::{DateTime, Utc};
use lectern_ingest::spool::{
    self, ChunkRecord, ChunkState, DiskGuard, DiskLimits, DiskWarning, Journal,
};
use std::path::{Path, PathBuf};
use std::time::Duration;

const CHUNK_BYTES: u64 = 1000;

/// Writes a chunk file and its journal line.
fn chunk(journal: &Journal, index: u32, start: &str, state: ChunkState) -> PathBuf {
    let dir = spool::create_track_dir(journal, "presenter").unwrap();
    let path = dir.join(ChunkRecord::file_name(index));
    std::fs::write(&path, vec![0x47; CHUNK_BYTES as usize]).unwrap();
    let record = ChunkRecord {
        recording: journal.recording_id(),
        track: "presenter".into(),
        index,
        start: start.parse().unwrap(),
        duration_ns: 10_000_000_000,
        bytes: CHUNK_BYTES,
        sha256: "00".repeat(32),
        state: ChunkState::Recorded,
        repaired: false,
    };
    journal.append(&record).unwrap();
    if state == ChunkState::Confirmed {
        journal.confirm("presenter", index).unwrap();
    }
    path
}

fn recording(spool_dir: &Path, started: &str) -> Journal {
    spool::create_recording(spool_dir, started.parse::<DateTime<Utc>>().unwrap()).unwrap()
}

fn state_of(journal: &Journal, index: u32) -> ChunkState {
    journal
        .chunks()
        .unwrap()
        .into_iter()
        .find(|c| c.index == index)
        .unwrap()
        .state
}

fn spool_size(dir: &Path) -> u64 {
    let mut total = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        total += if entry.file_type().unwrap().is_dir() {
            spool_size(&entry.path())
        } else {
            entry.metadata().unwrap().len()
        };
    }
    total
}

/// Two recordings: the earlier with chunks 0, 1 confirmed and 2 recorded; the later with 0
/// confirmed, 1 recorded and 2 still being written (no journal line).
struct Spool {
    dir: tempfile::TempDir,
    earlier: Journal,
    later: Journal,
    files: Vec<PathBuf>,
}

fn spool() -> Spool {
    let dir = tempfile::tempdir().unwrap();
    let earlier = recording(dir.path(), "2025-03-03T09:00:00Z");
    let later = recording(dir.path(), "2025-03-03T11:00:00Z");
    let files = vec![
        chunk(&earlier, 0, "2025-03-03T09:00:00Z", ChunkState::Confirmed),
        chunk(&earlier, 1, "2025-03-03T09:00:10Z", ChunkState::Confirmed),
        chunk(&earlier, 2, "2025-03-03T09:00:20Z", ChunkState::Recorded),
        chunk(&later, 0, "2025-03-03T11:00:00Z", ChunkState::Confirmed),
        chunk(&later, 1, "2025-03-03T11:00:10Z", ChunkState::Recorded),
    ];
    let being_written = later.recording_dir().join("presenter/00002.ts");
    std::fs::write(&being_written, vec![0x47; CHUNK_BYTES as usize]).unwrap();
    Spool {
        dir,
        earlier,
        later,
        files,
    }
}

#[test]
fn over_its_limit_the_guard_deletes_the_oldest_confirmed_chunks_and_stops_when_under() {
    let s = spool();
    let limit = spool_size(s.dir.path()) - 2 * CHUNK_BYTES;
    let guard = DiskGuard::new(
        s.dir.path(),
        DiskLimits {
            spool_limit_bytes: limit,
            min_free_bytes: 0,
        },
    );

    let health = guard.check().unwrap();

    assert_eq!(health.evicted_last_pass, 2);
    assert!(
        !s.files[0].exists() && !s.files[1].exists(),
        "the two oldest confirmed chunks go"
    );
    assert!(
        s.files[3].exists(),
        "the newer confirmed chunk is kept: the spool is under its limit"
    );
    assert_eq!(state_of(&s.earlier, 0), ChunkState::Evicted);
    assert_eq!(state_of(&s.earlier, 1), ChunkState::Evicted);
    assert_eq!(state_of(&s.later, 0), ChunkState::Confirmed);
    assert!(health.spool_bytes <= limit);
    assert!(health.warnings.is_empty(), "{health:?}");
}

#[test]
fn the_guard_never_deletes_an_unconfirmed_chunk_and_warns_when_they_alone_are_over_the_limit() {
    let s = spool();
    let guard = DiskGuard::new(
        s.dir.path(),
        DiskLimits {
            spool_limit_bytes: 1,
            min_free_bytes: 0,
        },
    );

    let health = guard.check().unwrap();

    assert_eq!(health.evicted_last_pass, 3, "every confirmed chunk goes");
    for confirmed in [&s.files[0], &s.files[1], &s.files[3]] {
        assert!(!confirmed.exists(), "{confirmed:?}");
    }
    for unconfirmed in [&s.files[2], &s.files[4]] {
        assert!(unconfirmed.exists(), "{unconfirmed:?} was deleted");
    }
    assert!(
        s.later.recording_dir().join("presenter/00002.ts").exists(),
        "the chunk being written stays"
    );
    assert_eq!(state_of(&s.earlier, 2), ChunkState::Recorded);
    assert_eq!(state_of(&s.later, 1), ChunkState::Recorded);
    assert!(
        matches!(
            health.warnings[..],
            [DiskWarning::UnconfirmedOverLimit { limit_bytes: 1, .. }]
        ),
        "{health:?}"
    );
    assert!(health.unconfirmed_bytes >= 3 * CHUNK_BYTES);

    // A second pass has nothing left it may delete.
    assert_eq!(guard.check().unwrap().evicted_last_pass, 0);
}

#[test]
fn under_the_free_space_floor_the_guard_frees_only_confirmed_chunks_and_warns() {
    let s = spool();
    let limits = DiskLimits {
        spool_limit_bytes: u64::MAX,
        min_free_bytes: u64::MAX,
    };
    let health = DiskGuard::new(s.dir.path(), limits).check().unwrap();

    assert_eq!(health.evicted_last_pass, 3);
    assert!(s.files[2].exists() && s.files[4].exists());
    assert!(
        matches!(health.warnings[..], [DiskWarning::LowFreeSpace { .. }]),
        "{health:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn the_guard_runs_again_every_interval_and_frees_what_was_confirmed_since() {
    let s = spool();
    let limits = DiskLimits {
        spool_limit_bytes: 1,
        min_free_bytes: 0,
    };
    let guard = DiskGuard::new(s.dir.path(), limits);
    let mut health = guard.health();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(guard.run(Duration::from_secs(30), async move {
        let _ = stopped.await;
    }));

    health.changed().await.unwrap();
    assert_eq!(
        health.borrow_and_update().evicted_last_pass,
        3,
        "the first pass runs at once"
    );
    assert!(s.files[2].exists());

    // The upload confirms the earlier recording's last chunk; the next pass deletes it.
    s.earlier.confirm("presenter", 2).unwrap();
    health.changed().await.unwrap();
    assert_eq!(health.borrow_and_update().evicted_last_pass, 1);
    assert!(!s.files[2].exists());
    assert_eq!(state_of(&s.earlier, 2), ChunkState::Evicted);
    assert!(s.files[4].exists(), "the unconfirmed chunk stays");

    stop.send(()).unwrap();
    running.await.unwrap();
}
