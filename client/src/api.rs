//! [`ApiClient`]: POSTs JSON to the catalog with a bearer token, retrying what may succeed
//! later (no answer, 5xx) and giving up at once on a refusal (4xx).

use backon::{ExponentialBuilder, Retryable};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::time::Duration;

/// How long one request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest pause between two attempts.
const MAX_DELAY: Duration = Duration::from_secs(10);

/// How many times to try a request.
#[derive(Debug, Clone, Copy)]
pub enum Attempts {
    /// Give up after this many retries.
    AtMost(usize),
    /// Keep trying for as long as it takes (a recording must reach the catalog eventually).
    Forever,
}

/// Why a call to the catalog failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("the catalog refused {url}: {status}: {body}")]
    Refused {
        url: String,
        status: u16,
        body: String,
    },
    #[error("the catalog at {url} did not answer: {message}")]
    Unreachable { url: String, message: String },
    #[error("the catalog's answer to {url} is not what this version expects: {message}")]
    BadAnswer { url: String, message: String },
}

/// A client of the catalog's API, authenticated with this process's token.
#[derive(Debug, Clone)]
pub struct ApiClient {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl ApiClient {
    /// A client of the catalog at `base` (e.g. `http://127.0.0.1:8080`) using `token`.
    pub fn new(base: &str, token: &str) -> Self {
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .expect("a client with only a timeout set builds");
        ApiClient {
            base: base.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
            http,
        }
    }

    /// The catalog's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// GETs `path` and reads the JSON answer, once: callers that poll try again anyway.
    pub async fn get<R: DeserializeOwned>(&self, path: &str) -> Result<R, ApiError> {
        let url = format!("{}{path}", self.base);
        let unreachable = |e: reqwest::Error| ApiError::Unreachable {
            url: url.clone(),
            message: e.to_string(),
        };
        let response = self
            .http
            .get(&url)
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(unreachable)?;
        let status = response.status();
        let text = response.text().await.map_err(unreachable)?;
        if !status.is_success() {
            return Err(ApiError::Refused {
                url: url.clone(),
                status: status.as_u16(),
                body: text,
            });
        }
        serde_json::from_str(&text).map_err(|e| ApiError::BadAnswer {
            url: url.clone(),
            message: e.to_string(),
        })
    }

    /// POSTs `body` to `path` and reads the JSON answer (an empty answer reads as `null`, so
    /// `R = ()` fits a 204).
    pub async fn post<T, R>(&self, path: &str, body: &T, attempts: Attempts) -> Result<R, ApiError>
    where
        T: Serialize + Sync,
        R: DeserializeOwned,
    {
        let url = format!("{}{path}", self.base);
        let text = self
            .send(&url, || self.http.post(&url).json(body), attempts)
            .await?;
        let text = if text.is_empty() { "null" } else { &text };
        serde_json::from_str(text).map_err(|e| ApiError::BadAnswer {
            url: url.clone(),
            message: e.to_string(),
        })
    }

    /// PUTs raw `body` bytes to `path` with extra `headers`; a 2xx is success.
    pub async fn put_bytes(
        &self,
        path: &str,
        body: bytes::Bytes,
        headers: &[(&str, String)],
        attempts: Attempts,
    ) -> Result<(), ApiError> {
        let url = format!("{}{path}", self.base);
        let request = || {
            headers.iter().fold(
                self.http.put(&url).body(body.clone()),
                |r, (name, value)| r.header(*name, value),
            )
        };
        self.send(&url, request, attempts).await.map(|_| ())
    }

    /// Sends what `request` builds with the token, retrying transport failures and server
    /// errors with backoff; a refusal (4xx) is final. The answer's body on success.
    async fn send(
        &self,
        url: &str,
        request: impl Fn() -> reqwest::RequestBuilder,
        attempts: Attempts,
    ) -> Result<String, ApiError> {
        // Outer error: worth another attempt; inner: final.
        let attempt = || async {
            let response = request().bearer_auth(&self.token).send().await;
            let response = response.map_err(|e| e.to_string())?;
            let status = response.status();
            if status.is_server_error() {
                return Err(status.to_string());
            }
            let text = response.text().await.map_err(|e| e.to_string())?;
            if !status.is_success() {
                return Ok(Err(ApiError::Refused {
                    url: url.to_owned(),
                    status: status.as_u16(),
                    body: text,
                }));
            }
            Ok(Ok(text))
        };
        let backoff = ExponentialBuilder::default().with_max_delay(MAX_DELAY);
        let backoff = match attempts {
            Attempts::AtMost(n) => backoff.with_max_times(n),
            Attempts::Forever => backoff.without_max_times(),
        };
        attempt
            .retry(backoff)
            .notify(|e, after| tracing::warn!(%url, error = %e, ?after, "the catalog did not answer; retrying"))
            .await
            .map_err(|message| ApiError::Unreachable { url: url.to_owned(), message })?
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpListener;

    /// A one-shot HTTP server answering each connection with the next canned response.
    fn serve(responses: Vec<&'static str>) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            for response in responses {
                let (mut stream, _) = listener.accept().unwrap();
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf);
                stream.write_all(response.as_bytes()).unwrap();
            }
        });
        url
    }

    #[tokio::test]
    async fn a_server_error_is_retried_and_the_answer_read() {
        let url = serve(vec![
            "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 7\r\nconnection: close\r\n\r\n{\"a\":1}",
        ]);
        let client = ApiClient::new(&url, "t");
        let answer: serde_json::Value = client.post("/x", &(), Attempts::AtMost(3)).await.unwrap();
        assert_eq!(answer["a"], 1);
    }

    #[tokio::test]
    async fn a_refusal_is_final_and_says_why() {
        let url = serve(vec![
            "HTTP/1.1 401 Unauthorized\r\ncontent-length: 8\r\nconnection: close\r\n\r\nno token",
        ]);
        let client = ApiClient::new(&url, "t");
        let err = client
            .post::<_, ()>("/x", &(), Attempts::AtMost(3))
            .await
            .unwrap_err();
        assert!(
            matches!(err, ApiError::Refused { status: 401, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("no token"), "{err}");
    }

    #[tokio::test]
    async fn an_empty_answer_reads_as_unit() {
        let url = serve(vec!["HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n"]);
        ApiClient::new(&url, "t")
            .post::<_, ()>("/x", &(), Attempts::AtMost(0))
            .await
            .unwrap();
    }
}
