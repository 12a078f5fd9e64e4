//! Helpers shared by the ingest integration tests.
#![allow(dead_code)]

use sha2::{Digest, Sha256};
use std::path::Path;
use std::process::Command;

/// SHA-256 of a file, computed here rather than by the code under test.
pub fn sha256_of(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    hex::encode(Sha256::digest(&bytes))
}

/// Decodes the video of `path` with ffprobe; returns the frames decoded and what ffprobe
/// printed on stderr (empty for a clean file).
pub fn ffprobe_decode(path: &Path) -> (u64, String) {
    let output = Command::new("ffprobe")
        .args(["-v", "error", "-count_frames", "-select_streams", "v:0"])
        .args(["-show_entries", "stream=nb_read_frames", "-of", "csv=p=0"])
        .arg(path)
        .output()
        .expect("ffprobe runs (install the Debian package ffmpeg)");
    assert!(
        output.status.success(),
        "ffprobe failed on {}",
        path.display()
    );
    // MPEG-TS lists the stream under its program too: the first number is the count.
    let frames = String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|line| line.trim().trim_end_matches(',').parse().ok())
        .unwrap_or(0);
    (frames, String::from_utf8_lossy(&output.stderr).into_owned())
}

/// The `.ts` files of a track directory, by name.
pub fn chunk_files(track_dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(track_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ts"))
        .collect();
    files.sort();
    files
}
