//! The worker's client of the catalog's worker API. Every call is retried with backoff, so a
//! catalog that restarts during a lecture costs nothing but a delay.

use crate::error::WorkerError;
use async_trait::async_trait;
use backon::{ExponentialBuilder, Retryable};
use lectern_packager::{ReportError, Reporter};
use lectern_wire::worker::{FinishLecture, RegisterWorker, RenditionReport, SegmentReport};
use serde::Serialize;
use std::time::Duration;

/// Talks to `/api/v1/worker/*` with the worker's token.
#[derive(Debug, Clone)]
pub struct CatalogClient {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl CatalogClient {
    /// A client of the catalog at `base` (e.g. `http://127.0.0.1:8080`).
    pub fn new(base: &str, token: &str) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("a client with only a timeout set builds");
        CatalogClient {
            base: base.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
            http,
        }
    }

    /// Tells the catalog this worker takes live sessions at `srt_url`.
    pub async fn register(&self, srt_url: &str) -> Result<(), WorkerError> {
        self.post(
            "/api/v1/worker/register",
            &RegisterWorker {
                srt_url: srt_url.to_owned(),
            },
        )
        .await
    }

    /// POSTs `body` as JSON, retrying transport failures and server errors with backoff; a
    /// refusal (4xx) is final.
    async fn post<T: Serialize + Sync>(&self, path: &str, body: &T) -> Result<(), WorkerError> {
        let url = format!("{}{path}", self.base);
        let attempt = || async {
            let response = self
                .http
                .post(&url)
                .bearer_auth(&self.token)
                .json(body)
                .send()
                .await;
            match response {
                Ok(r) if r.status().is_success() => Ok(Ok(())),
                Ok(r) if r.status().is_client_error() => {
                    let status = r.status();
                    let text = r.text().await.unwrap_or_default();
                    Ok(Err(WorkerError::Catalog {
                        url: url.clone(),
                        message: format!("{status}: {text}"),
                    }))
                }
                Ok(r) => Err(format!("{}", r.status())),
                Err(e) => Err(e.to_string()),
            }
        };
        attempt
            .retry(ExponentialBuilder::default().with_max_times(8).with_max_delay(Duration::from_secs(10)))
            .notify(|e, after| tracing::warn!(%url, error = %e, ?after, "the catalog did not answer; retrying"))
            .await
            .map_err(|message| WorkerError::Catalog { url: url.clone(), message })?
    }
}

#[async_trait]
impl Reporter for CatalogClient {
    async fn rendition(
        &self,
        lecture: &str,
        rendition: &RenditionReport,
    ) -> Result<(), ReportError> {
        Ok(self
            .post(
                &format!("/api/v1/worker/lectures/{lecture}/renditions"),
                rendition,
            )
            .await?)
    }

    async fn segment(&self, lecture: &str, segment: &SegmentReport) -> Result<(), ReportError> {
        Ok(self
            .post(
                &format!("/api/v1/worker/lectures/{lecture}/segments"),
                segment,
            )
            .await?)
    }

    async fn finish(&self, lecture: &str, finish: &FinishLecture) -> Result<(), ReportError> {
        Ok(self
            .post(&format!("/api/v1/worker/lectures/{lecture}/finish"), finish)
            .await?)
    }
}
