//! The worker's calls to the catalog's worker API, and the packager's [`Reporter`] over them.

use crate::error::WorkerError;
use async_trait::async_trait;
use lectern_client::{ApiClient, Attempts};
use lectern_packager::{ReportError, Reporter};
use lectern_wire::worker::{
    FinishLecture, LiveSession, RegisterWorker, RenditionReport, SegmentReport,
};

/// Reports keep trying for about two minutes: long enough for a catalog restart.
const REPORT_ATTEMPTS: Attempts = Attempts::AtMost(12);

/// Talks to `/api/v1/worker/*` with the worker's token.
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

    /// Tells the catalog this worker takes live sessions at `srt_host` on the ports
    /// `ports.0..=ports.1`; this is also the worker's heartbeat.
    pub async fn register(&self, srt_host: &str, ports: (u16, u16)) -> Result<(), WorkerError> {
        let body = RegisterWorker {
            srt_host: srt_host.to_owned(),
            srt_ports: [ports.0, ports.1],
        };
        Ok(self
            .api
            .post("/api/v1/worker/register", &body, Attempts::AtMost(8))
            .await?)
    }

    /// The live sessions the catalog assigned to this worker (one try: the caller polls).
    pub async fn sessions(&self) -> Result<Vec<LiveSession>, WorkerError> {
        Ok(self.api.get("/api/v1/worker/sessions").await?)
    }
}

#[async_trait]
impl Reporter for CatalogClient {
    async fn rendition(
        &self,
        lecture: &str,
        rendition: &RenditionReport,
    ) -> Result<(), ReportError> {
        let path = format!("/api/v1/worker/lectures/{lecture}/renditions");
        Ok(self.api.post(&path, rendition, REPORT_ATTEMPTS).await?)
    }

    async fn segment(&self, lecture: &str, segment: &SegmentReport) -> Result<(), ReportError> {
        let path = format!("/api/v1/worker/lectures/{lecture}/segments");
        Ok(self.api.post(&path, segment, REPORT_ATTEMPTS).await?)
    }

    async fn finish(&self, lecture: &str, finish: &FinishLecture) -> Result<(), ReportError> {
        let path = format!("/api/v1/worker/lectures/{lecture}/finish");
        Ok(self.api.post(&path, finish, REPORT_ATTEMPTS).await?)
    }
}
