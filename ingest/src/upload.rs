//! Uploads what the catalog lacks. After a recording, and at start-up for recordings an
//! earlier run left, the box asks the catalog which chunks it holds, checks each missing chunk
//! on disk against the journal, uploads it, and marks it confirmed in the journal once the
//! catalog holds it (only then may the disk guard free it). A chunk the catalog already holds
//! is never sent again, so an interrupted upload resumes where it stopped.

use crate::catalog::CatalogClient;
use crate::error::{IngestError, SpoolError};
use crate::spool::journal::{self, ChunkRecord, ChunkState, Journal};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The file in a recording directory that names the recording in the catalog.
const LINK_FILE: &str = "catalog.json";

#[derive(Debug, Serialize, Deserialize)]
struct CatalogLink {
    recording_id: String,
}

/// What one upload pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct UploadReport {
    /// Chunks sent in this pass.
    pub uploaded: usize,
    /// Chunks the catalog already held (confirmed without sending).
    pub already_held: usize,
    /// Chunks whose file no longer matches the journal; left on disk for an admin.
    pub damaged: usize,
}

/// Records, durably, that the recording in `recording_dir` is `recording_id` in the catalog
/// (written beside, then renamed, then the directory synced).
pub fn link_recording(recording_dir: &Path, recording_id: &str) -> Result<(), SpoolError> {
    let body = serde_json::to_vec(&CatalogLink {
        recording_id: recording_id.to_owned(),
    })
    .expect("a link serialises");
    let tmp = recording_dir.join(format!("{LINK_FILE}.tmp"));
    std::fs::write(&tmp, body).map_err(SpoolError::io(&tmp))?;
    let file = std::fs::File::open(&tmp).map_err(SpoolError::io(&tmp))?;
    file.sync_all().map_err(SpoolError::io(&tmp))?;
    std::fs::rename(&tmp, recording_dir.join(LINK_FILE)).map_err(SpoolError::io(recording_dir))?;
    journal::sync_dir(recording_dir)
}

/// The catalog's id of the recording in `recording_dir`, once the catalog has answered.
pub fn linked_recording(recording_dir: &Path) -> Option<String> {
    let text = std::fs::read(recording_dir.join(LINK_FILE)).ok()?;
    serde_json::from_slice::<CatalogLink>(&text)
        .ok()
        .map(|l| l.recording_id)
}

/// Uploads every chunk of the recording in `recording_dir` the catalog lacks. A recording the
/// catalog never heard of is left for a later pass.
pub async fn upload_recording(
    catalog: &CatalogClient,
    recording_dir: &Path,
) -> Result<UploadReport, IngestError> {
    let mut report = UploadReport::default();
    let Some(recording) = linked_recording(recording_dir) else {
        return Ok(report);
    };
    let dir = recording_dir.to_owned();
    let chunks = tokio::task::spawn_blocking(move || journal::read_chunks(&dir))
        .await
        .map_err(|e| IngestError::Gst(format!("reading the journal panicked: {e}")))??;
    let mut pending: Vec<ChunkRecord> = chunks
        .into_iter()
        .filter(|c| c.state == ChunkState::Recorded)
        .collect();
    if pending.is_empty() {
        return Ok(report);
    }
    pending.sort_by_key(|c| c.start);
    let held = catalog.held_chunks(&recording).await?;
    let journal = Journal::open(recording_dir)?;
    for chunk in pending {
        let already = held
            .chunks
            .iter()
            .any(|h| h.track == chunk.track && h.index == chunk.index && h.sha256 == chunk.sha256);
        if !already {
            let path = chunk.path_in(recording_dir);
            let Some(body) = read_checked(&path, &chunk).await? else {
                report.damaged += 1;
                continue;
            };
            catalog.put_chunk(&recording, &chunk, body).await?;
            report.uploaded += 1;
        } else {
            report.already_held += 1;
        }
        journal.confirm(&chunk.track, chunk.index)?;
    }
    tracing::info!(%recording, uploaded = report.uploaded, already_held = report.already_held, damaged = report.damaged, "the catalog holds the recording's chunks");
    Ok(report)
}

/// Uploads what the catalog lacks of every recording in `spool_dir` but `except`.
pub async fn upload_spool(
    catalog: &CatalogClient,
    spool_dir: &Path,
    except: Option<&Path>,
) -> Result<(), IngestError> {
    let mut dirs: Vec<PathBuf> = match std::fs::read_dir(spool_dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_dir())
            .collect(),
        Err(_) => return Ok(()),
    };
    dirs.sort();
    for dir in dirs.into_iter().filter(|d| Some(d.as_path()) != except) {
        if let Err(e) = upload_recording(catalog, &dir).await {
            tracing::warn!(recording = %dir.display(), error = %e, "upload left for later");
        }
    }
    Ok(())
}

/// The chunk's bytes, when size and SHA-256 still match the journal; `None` (and an error
/// in the log) when the file changed or vanished, which a person must look at.
async fn read_checked(
    path: &Path,
    chunk: &ChunkRecord,
) -> Result<Option<bytes::Bytes>, IngestError> {
    let body = match tokio::fs::read(path).await {
        Ok(body) => body,
        Err(e) => {
            tracing::error!(path = %path.display(), error = %e, "a journaled chunk cannot be read; not uploaded");
            return Ok(None);
        }
    };
    let sha256 = hex::encode(Sha256::digest(&body));
    if body.len() as u64 != chunk.bytes || sha256 != chunk.sha256 {
        tracing::error!(path = %path.display(), "a chunk no longer matches its journal entry; not uploaded");
        return Ok(None);
    }
    Ok(Some(body.into()))
}
