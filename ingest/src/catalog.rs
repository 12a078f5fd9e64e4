//! The box's calls to the catalog's agent API.

use crate::error::IngestError;
use crate::spool::journal::ChunkRecord;
use lectern_client::{ApiClient, Attempts};
use lectern_wire::agent::{RecordingStarted, StartRecording, StopRecording};
use lectern_wire::chunks::{HeldChunks, DURATION_HEADER, SHA256_HEADER, START_HEADER};

/// Talks to `/api/v1/agent/*` with the box's token.
#[derive(Debug, Clone)]
pub struct CatalogClient {
    api: ApiClient,
}

impl CatalogClient {
    /// A client of the catalog at `base` (e.g. `http://127.0.0.1:8080`).
    pub fn new(base: &str, token: &str) -> Self {
        CatalogClient {
            api: ApiClient::new(base, token),
        }
    }

    /// Tells the catalog a recording started; retried until the catalog answers, while the
    /// box records regardless.
    pub async fn start(&self, request: &StartRecording) -> Result<RecordingStarted, IngestError> {
        Ok(self
            .api
            .post("/api/v1/agent/recordings", request, Attempts::Forever)
            .await?)
    }

    /// Tells the catalog the recording stopped.
    pub async fn stop(&self, recording: &str, request: &StopRecording) -> Result<(), IngestError> {
        let path = format!("/api/v1/agent/recordings/{recording}/stop");
        Ok(self.api.post(&path, request, Attempts::AtMost(10)).await?)
    }

    /// The chunks of `recording` the catalog already holds.
    pub async fn held_chunks(&self, recording: &str) -> Result<HeldChunks, IngestError> {
        Ok(self
            .api
            .get(&format!("/api/v1/agent/recordings/{recording}/chunks"))
            .await?)
    }

    /// Uploads one chunk's bytes with its checksum, start and duration from the journal.
    pub async fn put_chunk(
        &self,
        recording: &str,
        chunk: &ChunkRecord,
        body: bytes::Bytes,
    ) -> Result<(), IngestError> {
        let path = format!(
            "/api/v1/agent/recordings/{recording}/chunks/{}/{}",
            chunk.track, chunk.index
        );
        let headers = [
            (SHA256_HEADER, chunk.sha256.clone()),
            (START_HEADER, chunk.start.to_rfc3339()),
            (DURATION_HEADER, chunk.duration_ns.to_string()),
        ];
        Ok(self
            .api
            .put_bytes(&path, body, &headers, Attempts::AtMost(6))
            .await?)
    }
}
