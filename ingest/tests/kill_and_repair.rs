//! `kill -9` of the daemon mid-recording: every chunk journaled before stays valid media,
//! and the next start journals the chunk it was writing.

mod common;

use common::{chunk_files, ffprobe_decode, sha256_of};
use lectern_ingest::spool::journal::read_chunks;
use lectern_ingest::spool::ChunkRecord;
use notify::{RecursiveMode, Watcher};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long the test waits for the daemon before it calls the run a failure.
const PATIENCE: Duration = Duration::from_secs(90);

/// Starts the real daemon on test sources, recording two-second chunks into `spool` while
/// it tries a catalog that nobody answers.
fn start_daemon(spool: &Path, log: &Path, extra: &[&str]) -> Child {
    // A port that was just free: connections to it are refused.
    let nobody = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_lectern-ingest"));
    for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("LECTERN_INGEST_")) {
        command.env_remove(name);
    }
    command
        .args(extra)
        .env("LECTERN_INGEST_CATALOG_URL", format!("http://{nobody}"))
        .env("LECTERN_INGEST_TOKEN", "box-token")
        .env("LECTERN_INGEST_SPOOL_DIR", spool)
        .env("LECTERN_INGEST_CHUNK_SECONDS", "2")
        .env("LECTERN_INGEST_KEYFRAME_SECONDS", "1")
        .env("LECTERN_INGEST_SOURCE__WIDTH", "320")
        .env("LECTERN_INGEST_SOURCE__HEIGHT", "240")
        .env("LECTERN_INGEST_SOURCE__FRAME_RATE", "15")
        .env("LECTERN_INGEST_SOURCE__VIDEO_BITRATE_KBPS", "400")
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::from(std::fs::File::create(log).unwrap()))
        .stderr(Stdio::from(
            std::fs::OpenOptions::new().append(true).open(log).unwrap(),
        ));
    command.spawn().expect("the lectern-ingest binary starts")
}

/// The recording directories under `spool`.
fn recordings(spool: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(spool)
        .map(|entries| {
            entries
                .map(|e| e.unwrap().path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    dirs.sort();
    dirs
}

/// The recording once at least two chunks are journaled and the next chunk's file has
/// bytes on disk: the moment to kill the daemon mid-chunk.
fn mid_third_chunk(spool: &Path) -> Option<(PathBuf, Vec<ChunkRecord>)> {
    let recording = recordings(spool).pop()?;
    let chunks = read_chunks(&recording).ok()?;
    let next = recording
        .join("presenter")
        .join(ChunkRecord::file_name(chunks.len() as u32));
    let writing = std::fs::metadata(next)
        .map(|m| m.len() > 0)
        .unwrap_or(false);
    (chunks.len() >= 2 && writing).then_some((recording, chunks))
}

/// Waits on file-system events under `spool` until `ready` holds.
fn watch_until<T>(
    spool: &Path,
    daemon: &mut Child,
    log: &Path,
    ready: impl Fn(&Path) -> Option<T>,
) -> T {
    let (tx, events) = mpsc::channel();
    let mut watcher = notify::recommended_watcher(tx).unwrap();
    watcher.watch(spool, RecursiveMode::Recursive).unwrap();
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        if let Some(found) = ready(spool) {
            return found;
        }
        if let Some(status) = daemon.try_wait().unwrap() {
            panic!(
                "the daemon exited ({status}): {}",
                std::fs::read_to_string(log).unwrap()
            );
        }
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match events.recv_timeout(left) {
            Ok(_) => {}
            Err(_) => panic!(
                "the journal never reached the state the test waits for: {}",
                std::fs::read_to_string(log).unwrap()
            ),
        }
    }
}

/// Waits for a child to exit, at most `PATIENCE`.
fn wait_bounded(mut child: Child, log: &Path) {
    let (tx, done) = mpsc::channel();
    let pid = child.id();
    std::thread::spawn(move || tx.send(child.wait()));
    match done.recv_timeout(PATIENCE) {
        Ok(status) => assert!(
            status.unwrap().success(),
            "{}",
            std::fs::read_to_string(log).unwrap()
        ),
        Err(_) => panic!(
            "the daemon (pid {pid}) did not stop: {}",
            std::fs::read_to_string(log).unwrap()
        ),
    }
}

#[test]
fn a_killed_daemon_leaves_valid_chunks_and_the_restart_journals_the_one_it_was_writing() {
    let dir = tempfile::tempdir().unwrap();
    let spool = dir.path().join("spool");
    std::fs::create_dir_all(&spool).unwrap();
    let log = dir.path().join("first.log");

    let mut daemon = start_daemon(&spool, &log, &[]);
    let (recording, before) = watch_until(&spool, &mut daemon, &log, mid_third_chunk);
    daemon.kill().unwrap(); // SIGKILL
    daemon.wait().unwrap();

    // Every chunk journaled before the kill is intact and decodes cleanly.
    for chunk in &before {
        let file = chunk.path_in(&recording);
        assert_eq!(
            chunk.bytes,
            std::fs::metadata(&file).unwrap().len(),
            "{file:?}"
        );
        assert_eq!(chunk.sha256, sha256_of(&file), "{file:?}");
        let (frames, errors) = ffprobe_decode(&file);
        assert!(
            frames > 0 && errors.is_empty(),
            "{file:?}: {frames} frames, {errors}"
        );
    }
    let unjournaled = recording
        .join("presenter")
        .join(ChunkRecord::file_name(before.len() as u32));
    assert!(unjournaled.exists());

    // The restart repairs the killed recording, then records a new one of its own.
    let log = dir.path().join("second.log");
    wait_bounded(start_daemon(&spool, &log, &["--record-seconds", "1"]), &log);

    let after = read_chunks(&recording).unwrap();
    assert_eq!(
        after[..before.len()],
        before[..],
        "journaled chunks are left as they were"
    );
    let repaired = &after[before.len()..];
    assert!(!repaired.is_empty(), "the chunk being written is journaled");
    for chunk in repaired {
        let file = chunk.path_in(&recording);
        assert!(chunk.repaired);
        assert_eq!(chunk.bytes % 188, 0, "cut to whole TS packets");
        assert_eq!(chunk.bytes, std::fs::metadata(&file).unwrap().len());
        assert_eq!(chunk.sha256, sha256_of(&file));
        assert!(
            chunk.duration_ns > 0 && chunk.duration_ns <= 3_000_000_000,
            "{chunk:?}"
        );
        assert!(chunk.start >= before.last().unwrap().start);
        let (frames, _) = ffprobe_decode(&file);
        assert!(frames > 0, "{file:?} decodes");
    }
    let files = chunk_files(&recording.join("presenter"));
    let journaled: Vec<PathBuf> = after.iter().map(|c| c.path_in(&recording)).collect();
    assert_eq!(files, journaled, "every chunk file left is journaled");

    let parts = recordings(&spool);
    assert_eq!(parts.len(), 2, "the restart records a new part: {parts:?}");
    assert!(
        !read_chunks(&parts[1]).unwrap().is_empty(),
        "{}",
        std::fs::read_to_string(&log).unwrap()
    );
}
