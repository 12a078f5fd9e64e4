//! The worker's calls to the catalog's worker API, and the packager's [`Reporter`] over them.

use crate::error::WorkerError;
use async_trait::async_trait;
use lectern_client::{ApiClient, Attempts};
use lectern_packager::{ReportError, Reporter};
use lectern_wire::jobs::{CompleteJob, FailJob, Job, JobHeartbeat};
use lectern_wire::worker::{
    FinishLecture, LiveSession, RegisterWorker, RenditionReport, SegmentReport, ThumbnailReport,
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

    /// The oldest runnable job, now this worker's, or `None` (one try: the caller polls).
    pub async fn claim_job(&self) -> Result<Option<Job>, WorkerError> {
        let job: Option<Job> = self
            .api
            .post("/api/v1/worker/jobs/claim", &(), Attempts::AtMost(1))
            .await?;
        Ok(job)
    }

    /// Moves the job's lease on and records `progress` (0 to 1).
    pub async fn heartbeat_job(&self, job: &str, progress: f64) -> Result<(), WorkerError> {
        let path = format!("/api/v1/worker/jobs/{job}/heartbeat");
        let body = JobHeartbeat {
            progress: progress.clamp(0.0, 1.0),
        };
        Ok(self.api.post(&path, &body, Attempts::AtMost(3)).await?)
    }

    /// Completes the job with the index it stored (idempotent at the catalog).
    pub async fn complete_job(&self, job: &str, index: &CompleteJob) -> Result<(), WorkerError> {
        let path = format!("/api/v1/worker/jobs/{job}/complete");
        Ok(self.api.post(&path, index, REPORT_ATTEMPTS).await?)
    }

    /// Fails this attempt of the job with `error`, written for a person; `retry` false when
    /// another attempt would fail the same way (the input's fault), so the job fails at once.
    pub async fn fail_job(&self, job: &str, error: &str, retry: bool) -> Result<(), WorkerError> {
        let path = format!("/api/v1/worker/jobs/{job}/fail");
        let body = FailJob {
            error: error.to_owned(),
            retry,
        };
        Ok(self.api.post(&path, &body, REPORT_ATTEMPTS).await?)
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

    async fn thumbnails(&self, lecture: &str, report: &ThumbnailReport) -> Result<(), ReportError> {
        let path = format!("/api/v1/worker/lectures/{lecture}/thumbnails");
        Ok(self.api.post(&path, report, REPORT_ATTEMPTS).await?)
    }
}
