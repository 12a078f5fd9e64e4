//! Turns `splitmuxsink`'s bus messages into journal lines.
//!
//! `splitmuxsink-fragment-opened` gives a chunk's start (running time, mapped to wall-clock
//! time through the pipeline's clock), `splitmuxsink-fragment-closed` says the file is
//! complete. A closed chunk is then synced, hashed and journaled on the blocking pool, one
//! at a time in the order they closed, so the bus loop (and so the pipeline) never waits.

use crate::error::SpoolError;
use crate::spool::journal::{sync_dir, ChunkRecord, ChunkState, Journal};
use chrono::{DateTime, Utc};
use gst::prelude::*;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinHandle;

/// A chunk file that `splitmuxsink` has closed.
#[derive(Debug)]
struct ClosedChunk {
    path: PathBuf,
    track: String,
    index: u32,
    start: DateTime<Utc>,
    duration_ns: u64,
}

/// Journals the chunks of one recording as the pipeline closes them. Feed it every bus
/// message with [`ChunkWriter::handle`]; [`ChunkWriter::finish`] waits for the last one.
pub struct ChunkWriter {
    journal: Arc<Journal>,
    /// Chunks opened but not closed yet: file → (wall-clock start, running time).
    open: HashMap<PathBuf, (DateTime<Utc>, gst::ClockTime)>,
    closed: mpsc::UnboundedSender<ClosedChunk>,
    journaled: broadcast::Sender<ChunkRecord>,
    task: JoinHandle<Result<Vec<ChunkRecord>, SpoolError>>,
}

impl ChunkWriter {
    /// Starts the writer for `journal`; needs a tokio runtime.
    pub fn new(journal: Journal) -> ChunkWriter {
        let journal = Arc::new(journal);
        let (closed, mut queue) = mpsc::unbounded_channel::<ClosedChunk>();
        let (journaled, _) = broadcast::channel(64);
        let task = tokio::spawn({
            let journal = journal.clone();
            let journaled = journaled.clone();
            async move {
                let mut records = Vec::new();
                let mut first_failure = None;
                while let Some(chunk) = queue.recv().await {
                    let journal = journal.clone();
                    let path = chunk.path.clone();
                    let record =
                        tokio::task::spawn_blocking(move || journal_chunk(&journal, chunk))
                            .await
                            .map_err(|_| SpoolError::WriterGone)
                            .and_then(|r| r);
                    match record {
                        Ok(record) => {
                            tracing::info!(
                                recording = %record.recording, track = %record.track, index = record.index,
                                bytes = record.bytes, seconds = record.duration_ns as f64 / 1e9,
                                "chunk journaled"
                            );
                            let _ = journaled.send(record.clone());
                            records.push(record);
                        }
                        // Keep journaling the next chunks; the start-up repair journals this
                        // one from its file.
                        Err(e) => {
                            tracing::error!(chunk = %path.display(), error = %e, "could not journal a chunk");
                            first_failure.get_or_insert(e);
                        }
                    }
                }
                first_failure.map_or(Ok(records), Err)
            }
        });
        ChunkWriter {
            journal,
            open: HashMap::new(),
            closed,
            journaled,
            task,
        }
    }

    /// The journal this writer appends to.
    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    /// Every record this writer journals from now on, as it is journaled.
    pub fn subscribe(&self) -> broadcast::Receiver<ChunkRecord> {
        self.journaled.subscribe()
    }

    /// Looks at one bus message; returns whether it was a `splitmuxsink` fragment message.
    pub fn handle(&mut self, message: &gst::Message) -> bool {
        let gst::MessageView::Element(element) = message.view() else {
            return false;
        };
        let Some(s) = element.structure() else {
            return false;
        };
        let opened = s.name() == "splitmuxsink-fragment-opened";
        if !opened && s.name() != "splitmuxsink-fragment-closed" {
            return false;
        }
        let (Ok(location), Ok(running_time)) = (
            s.get::<String>("location"),
            s.get::<u64>("running-time")
                .map(gst::ClockTime::from_nseconds),
        ) else {
            tracing::warn!(message = %s, "a splitmuxsink message without location or running time");
            return true;
        };
        let path = PathBuf::from(location);
        if opened {
            let start = wall_clock_at(message.src(), running_time);
            self.open.insert(path, (start, running_time));
        } else {
            self.close(path, running_time);
        }
        true
    }

    fn close(&mut self, path: PathBuf, end: gst::ClockTime) {
        let Some((start, opened_at)) = self.open.remove(&path) else {
            tracing::warn!(chunk = %path.display(), "a chunk closed that never opened; the start-up repair will journal it");
            return;
        };
        let Some((track, index)) = track_and_index(&path) else {
            tracing::error!(chunk = %path.display(), "{}", SpoolError::NotAChunk { path: path.clone() });
            return;
        };
        let chunk = ClosedChunk {
            path,
            track,
            index,
            start,
            duration_ns: end.saturating_sub(opened_at).nseconds(),
        };
        // The receiver lives until `finish`, which takes `self`.
        let _ = self.closed.send(chunk);
    }

    /// Waits until every closed chunk is journaled; returns the records journaled, or the
    /// first failure (later chunks were still journaled).
    pub async fn finish(self) -> Result<Vec<ChunkRecord>, SpoolError> {
        for path in self.open.keys() {
            tracing::warn!(chunk = %path.display(), "a chunk never closed; the start-up repair will journal it");
        }
        drop(self.closed);
        self.task.await.map_err(|_| SpoolError::WriterGone)?
    }
}

/// The wall-clock time at `running_time` of the pipeline `src` belongs to.
fn wall_clock_at(src: Option<&gst::Object>, running_time: gst::ClockTime) -> DateTime<Utc> {
    let now = Utc::now();
    let element = src.and_then(|s| s.downcast_ref::<gst::Element>());
    let current = element.and_then(|e| Some((e.clock()?.time(), e.base_time()?)));
    match current {
        Some((clock, base)) => {
            let behind =
                clock.saturating_sub(base).nseconds() as i64 - running_time.nseconds() as i64;
            now - chrono::Duration::nanoseconds(behind)
        }
        None => now,
    }
}

/// `(<track>, <index>)` from `<recording>/<track>/<index>.ts`.
pub(crate) fn track_and_index(path: &Path) -> Option<(String, u32)> {
    if path.extension()? != "ts" {
        return None;
    }
    let index = path.file_stem()?.to_str()?.parse().ok()?;
    let track = path.parent()?.file_name()?.to_str()?.to_owned();
    Some((track, index))
}

/// Makes the chunk durable, hashes it and appends its record.
fn journal_chunk(journal: &Journal, chunk: ClosedChunk) -> Result<ChunkRecord, SpoolError> {
    let (bytes, sha256) = sync_and_hash(&chunk.path)?;
    if let Some(dir) = chunk.path.parent() {
        sync_dir(dir)?;
    }
    let record = ChunkRecord {
        recording: journal.recording_id(),
        track: chunk.track,
        index: chunk.index,
        start: chunk.start,
        duration_ns: chunk.duration_ns,
        bytes,
        sha256,
        state: ChunkState::Recorded,
        repaired: false,
    };
    journal.append(&record)?;
    Ok(record)
}

/// `fsync`s a file, then returns its size and SHA-256 (lower-case hex).
pub(crate) fn sync_and_hash(path: &Path) -> Result<(u64, String), SpoolError> {
    let mut file = std::fs::File::open(path).map_err(SpoolError::io(path))?;
    file.sync_all().map_err(SpoolError::io(path))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 256 * 1024];
    let mut bytes = 0u64;
    loop {
        let n = file.read(&mut buffer).map_err(SpoolError::io(path))?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        bytes += n as u64;
    }
    Ok((bytes, hex::encode(hasher.finalize())))
}
