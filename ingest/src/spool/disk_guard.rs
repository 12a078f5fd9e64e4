//! The disk guard: keeps the spool under its size limit by deleting chunks the catalog has
//! confirmed, oldest first, and never one it has not.
//!
//! Each pass reads every recording's journal and measures the spool on disk (including the
//! chunk being written and anything unjournaled). While the spool is over its limit, or the
//! disk's free space is under its floor, it deletes the oldest confirmed chunk (the file
//! first, then an `evicted` journal line, so a crash in between leaves a confirmed chunk
//! without a file, which the next pass journals as evicted). When only unconfirmed data is
//! left and the limit or floor is still crossed, it warns: the box needs its uploads (or an
//! admin) before the disk fills, and the warning is in [`SpoolHealth`] for the heartbeat.

use crate::error::SpoolError;
use crate::spool::journal::{self, ChunkRecord, ChunkState, Journal};
use crate::spool::repair::recording_dirs;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::watch;

/// The guard's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiskLimits {
    /// The most the spool may hold, in bytes.
    pub spool_limit_bytes: u64,
    /// The least free space the spool's file system should keep, in bytes.
    pub min_free_bytes: u64,
}

/// Something an admin should hear about the spool's disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DiskWarning {
    /// Data the catalog does not hold yet is more than the spool limit; nothing can be freed.
    UnconfirmedOverLimit {
        unconfirmed_bytes: u64,
        limit_bytes: u64,
    },
    /// The file system has less free space than the floor, even after freeing what could be.
    LowFreeSpace { free_bytes: u64, floor_bytes: u64 },
}

/// The spool's state after a guard pass, for the heartbeat.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SpoolHealth {
    /// Everything under the spool directory.
    pub spool_bytes: u64,
    /// Bytes of chunks the catalog does not hold yet (recorded, unjournaled, being written).
    pub unconfirmed_bytes: u64,
    /// Free space on the spool's file system, for unprivileged writers.
    pub free_bytes: u64,
    /// Chunks deleted by the last pass.
    pub evicted_last_pass: usize,
    pub warnings: Vec<DiskWarning>,
}

/// A confirmed chunk that may be deleted.
struct Evictable {
    record: ChunkRecord,
    path: PathBuf,
    recording_dir: PathBuf,
}

/// Guards one spool directory.
#[derive(Debug)]
pub struct DiskGuard {
    spool_dir: PathBuf,
    limits: DiskLimits,
    health: watch::Sender<SpoolHealth>,
}

impl DiskGuard {
    /// A guard of `spool_dir` with `limits`.
    pub fn new(spool_dir: &Path, limits: DiskLimits) -> DiskGuard {
        DiskGuard {
            spool_dir: spool_dir.to_owned(),
            limits,
            health: watch::channel(SpoolHealth::default()).0,
        }
    }

    /// The health after each pass (the heartbeat reports it).
    pub fn health(&self) -> watch::Receiver<SpoolHealth> {
        self.health.subscribe()
    }

    /// One pass: frees space if needed and allowed, then publishes and returns the health.
    pub fn check(&self) -> Result<SpoolHealth, SpoolError> {
        let mut spool_bytes = tree_size(&self.spool_dir)?;
        let mut free_bytes = free_space(&self.spool_dir)?;
        let mut evictable = self.evictable()?;
        let confirmed: u64 = evictable.iter().map(|e| e.record.bytes).sum();
        let unconfirmed_bytes = spool_bytes.saturating_sub(confirmed);
        evictable.sort_by(|a, b| {
            (
                a.record.start,
                &a.record.recording,
                &a.record.track,
                a.record.index,
            )
                .cmp(&(
                    b.record.start,
                    &b.record.recording,
                    &b.record.track,
                    b.record.index,
                ))
        });
        let mut evicted = 0;
        for chunk in evictable {
            if spool_bytes <= self.limits.spool_limit_bytes
                && free_bytes >= self.limits.min_free_bytes
            {
                break;
            }
            evict(&chunk)?;
            spool_bytes = spool_bytes.saturating_sub(chunk.record.bytes);
            free_bytes += chunk.record.bytes;
            evicted += 1;
        }
        let mut warnings = Vec::new();
        if unconfirmed_bytes > self.limits.spool_limit_bytes {
            warnings.push(DiskWarning::UnconfirmedOverLimit {
                unconfirmed_bytes,
                limit_bytes: self.limits.spool_limit_bytes,
            });
        }
        if free_bytes < self.limits.min_free_bytes {
            warnings.push(DiskWarning::LowFreeSpace {
                free_bytes,
                floor_bytes: self.limits.min_free_bytes,
            });
        }
        let health = SpoolHealth {
            spool_bytes,
            unconfirmed_bytes,
            free_bytes,
            evicted_last_pass: evicted,
            warnings,
        };
        self.report(&health);
        Ok(health)
    }

    /// Runs a pass now and then every `interval` until `stop` resolves. A failed pass is
    /// logged and retried at the next tick: the guard must not stop the recording.
    pub async fn run(self, interval: Duration, stop: impl std::future::Future<Output = ()>) {
        let guard = std::sync::Arc::new(self);
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tokio::pin!(stop);
        loop {
            tokio::select! {
                _ = &mut stop => return,
                _ = ticks.tick() => {
                    let pass = guard.clone();
                    match tokio::task::spawn_blocking(move || pass.check()).await {
                        Ok(Ok(_)) => {}
                        Ok(Err(e)) => tracing::error!(error = %e, "the disk guard's pass failed"),
                        Err(e) => tracing::error!(error = %e, "the disk guard's pass panicked"),
                    }
                }
            }
        }
    }

    /// Logs a warning when it first appears, and when it clears.
    fn report(&self, health: &SpoolHealth) {
        let kind = |w: &DiskWarning| std::mem::discriminant(w);
        let before: Vec<_> = self.health.borrow().warnings.iter().map(kind).collect();
        for warning in &health.warnings {
            if !before.contains(&kind(warning)) {
                match warning {
                    DiskWarning::UnconfirmedOverLimit { unconfirmed_bytes, limit_bytes } => tracing::warn!(
                        unconfirmed_bytes, limit_bytes,
                        "the spool holds more unconfirmed data than its limit; nothing can be deleted until the catalog confirms uploads"
                    ),
                    DiskWarning::LowFreeSpace { free_bytes, floor_bytes } => tracing::warn!(
                        free_bytes, floor_bytes,
                        "the spool's disk is under its free-space floor"
                    ),
                }
            }
        }
        if !before.is_empty() && health.warnings.is_empty() {
            tracing::info!("the spool's disk is within its limits again");
        }
        self.health.send_replace(health.clone());
    }

    /// The confirmed chunks whose files exist. A confirmed chunk without its file (the guard
    /// died between deleting and journaling) is journaled as evicted here.
    fn evictable(&self) -> Result<Vec<Evictable>, SpoolError> {
        let mut chunks = Vec::new();
        for recording_dir in recording_dirs(&self.spool_dir)? {
            for record in journal::read_chunks(&recording_dir)? {
                if record.state != ChunkState::Confirmed {
                    continue;
                }
                let path = record.path_in(&recording_dir);
                if path.exists() {
                    chunks.push(Evictable {
                        record,
                        path,
                        recording_dir: recording_dir.clone(),
                    });
                } else {
                    Journal::open(&recording_dir)?.set_state(
                        &record.track,
                        record.index,
                        ChunkState::Evicted,
                    )?;
                }
            }
        }
        Ok(chunks)
    }
}

fn evict(chunk: &Evictable) -> Result<(), SpoolError> {
    std::fs::remove_file(&chunk.path).map_err(SpoolError::io(&chunk.path))?;
    let record = &chunk.record;
    Journal::open(&chunk.recording_dir)?.set_state(
        &record.track,
        record.index,
        ChunkState::Evicted,
    )?;
    tracing::info!(
        recording = %record.recording, track = %record.track, index = record.index, bytes = record.bytes,
        "deleted a confirmed chunk to make room"
    );
    Ok(())
}

/// Bytes of every file under `dir`.
fn tree_size(dir: &Path) -> Result<u64, SpoolError> {
    let mut total = 0;
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(SpoolError::io(dir)(e)),
    };
    for entry in entries {
        let entry = entry.map_err(SpoolError::io(dir))?;
        let kind = entry.file_type().map_err(SpoolError::io(entry.path()))?;
        if kind.is_dir() {
            total += tree_size(&entry.path())?;
        } else if kind.is_file() {
            // A file deleted since the listing (an eviction, a finished upload) counts 0.
            total += entry.metadata().map(|m| m.len()).unwrap_or(0);
        }
    }
    Ok(total)
}

/// Free space for unprivileged writers on the file system holding `dir`.
fn free_space(dir: &Path) -> Result<u64, SpoolError> {
    let stat = rustix::fs::statvfs(dir).map_err(|e| SpoolError::io(dir)(e.into()))?;
    Ok(stat.f_bavail.saturating_mul(stat.f_frsize))
}
