//! The box's client of the catalog's agent API.

use crate::error::IngestError;
use backon::{ExponentialBuilder, Retryable};
use lectern_wire::agent::{RecordingStarted, StartRecording, StopRecording};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::time::Duration;

/// Talks to `/api/v1/agent/*` with the box's token.
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

    /// Tells the catalog a recording started; retried until the catalog answers.
    pub async fn start(&self, request: &StartRecording) -> Result<RecordingStarted, IngestError> {
        self.post("/api/v1/agent/recordings", request, usize::MAX)
            .await
    }

    /// Tells the catalog the recording stopped.
    pub async fn stop(&self, recording: &str, request: &StopRecording) -> Result<(), IngestError> {
        self.post::<_, serde::de::IgnoredAny>(
            &format!("/api/v1/agent/recordings/{recording}/stop"),
            request,
            10,
        )
        .await
        .map(|_| ())
    }

    async fn post<T: Serialize + Sync, R: DeserializeOwned>(
        &self,
        path: &str,
        body: &T,
        attempts: usize,
    ) -> Result<R, IngestError> {
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
                Ok(r) if r.status().is_success() => {
                    let text = r.text().await.map_err(|e| e.to_string())?;
                    // An empty answer (204) reads as `null`.
                    let text = if text.is_empty() {
                        "null".to_owned()
                    } else {
                        text
                    };
                    Ok(
                        serde_json::from_str::<R>(&text).map_err(|e| IngestError::Catalog {
                            url: url.clone(),
                            message: format!("unexpected answer: {e}"),
                        }),
                    )
                }
                Ok(r) if r.status().is_client_error() => {
                    let status = r.status();
                    let text = r.text().await.unwrap_or_default();
                    Ok(Err(IngestError::Catalog {
                        url: url.clone(),
                        message: format!("{status}: {text}"),
                    }))
                }
                Ok(r) => Err(r.status().to_string()),
                Err(e) => Err(e.to_string()),
            }
        };
        attempt
            .retry(ExponentialBuilder::default().with_max_times(attempts).with_max_delay(Duration::from_secs(10)))
            .notify(|e, after| tracing::warn!(%url, error = %e, ?after, "the catalog did not answer; retrying"))
            .await
            .map_err(|message| IngestError::Catalog { url: url.clone(), message })?
    }
}
