//! What operators and their probes ask: `/healthz` (the process is up), `/readyz` (the
//! database answers and the storage directory takes writes) and `/metrics` (Prometheus
//! text). Every catalog has its own [`Metrics`] recorder, so catalogs in one process (the
//! tests) never mix their figures.
//!
//! `/metrics` tells how busy the service is and how many lectures it holds, so it is not
//! public: it answers only when `metrics_token` is configured, and only to
//! `Authorization: Bearer <metrics_token>` (401 otherwise); without the key it is a 404.

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::{CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use lectern_packager::StorageKind;
use lectern_wire::api::{ErrorBody, ErrorDetail, LectureState};
use lectern_wire::jobs::JobState;
use metrics::{Counter, Histogram};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use crate::error::ApiError;
use crate::startup::AppState;

/// Requests by method, route template and status (counter).
pub const HTTP_REQUESTS: &str = "lectern_http_requests_total";
/// Request latency by method and route template (histogram, seconds).
pub const HTTP_DURATION: &str = "lectern_http_request_duration_seconds";
/// Lectures by state, counted when scraped (gauge).
pub const LECTURES: &str = "lectern_lectures";
/// Jobs by state, counted when scraped (gauge).
pub const JOBS: &str = "lectern_jobs";
/// Segments workers reported stored (counter).
pub const SEGMENTS_REPORTED: &str = "lectern_segments_reported_total";
/// Playlists served, by where they came from: `memory` (rendered before, see
/// `media::cache`) or `database` (counter).
pub const PLAYLISTS_SERVED: &str = "lectern_playlists_served_total";

/// Latency buckets: API answers take milliseconds, segment downloads can take seconds.
const DURATION_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// How long `/readyz` waits for the database.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// The routes of this module, at the root.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

/// One catalog's Prometheus recorder. Cheap to clone.
#[derive(Clone)]
pub struct Metrics {
    recorder: Arc<PrometheusRecorder>,
    handle: PrometheusHandle,
    /// The request counter and histogram of each route, method and status seen, registered
    /// once: every request counts, and registering builds and looks up its labels each time.
    requests: Arc<RwLock<HashMap<Box<str>, Vec<RequestMetrics>>>>,
    /// [`PLAYLISTS_SERVED`] from memory and from the database.
    playlists: [Counter; 2],
}

/// The metrics of one route, method and status.
struct RequestMetrics {
    method: &'static str,
    status: u16,
    count: Counter,
    duration: Histogram,
}

impl fmt::Debug for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// A fresh recorder with nothing recorded.
    pub fn new() -> Metrics {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(HTTP_DURATION.into()), &DURATION_BUCKETS)
            .expect("the latency buckets are not empty")
            .build_recorder();
        let playlists = metrics::with_local_recorder(&recorder, || {
            ["memory", "database"].map(|from| metrics::counter!(PLAYLISTS_SERVED, "from" => from))
        });
        Metrics {
            handle: recorder.handle(),
            recorder: Arc::new(recorder),
            requests: Arc::default(),
            playlists,
        }
    }

    fn with<T>(&self, f: impl FnOnce() -> T) -> T {
        metrics::with_local_recorder(self.recorder.as_ref(), f)
    }

    /// Counts one answered request and its latency. `route` is the route template (e.g.
    /// `/api/v1/lectures/{id}`), never the raw path, so IDs do not become label values.
    pub fn http_request(&self, method: &'static str, route: &str, status: u16, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        let known = self.requests.read().unwrap_or_else(PoisonError::into_inner);
        if let Some(m) = find(&known, method, route, status) {
            m.count.increment(1);
            m.duration.record(seconds);
            return;
        }
        drop(known);
        let mut known = self
            .requests
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if find(&known, method, route, status).is_none() {
            let m = self.with(|| RequestMetrics {
                method,
                status,
                count: metrics::counter!(HTTP_REQUESTS, "method" => method, "route" => route.to_owned(), "status" => status.to_string()),
                duration: metrics::histogram!(HTTP_DURATION, "method" => method, "route" => route.to_owned()),
            });
            known.entry(route.into()).or_default().push(m);
        }
        let m = find(&known, method, route, status).expect("registered above");
        m.count.increment(1);
        m.duration.record(seconds);
    }

    /// Counts a playlist served, rendered before (`from_memory`) or from the database.
    pub fn playlist_served(&self, from_memory: bool) {
        self.playlists[usize::from(!from_memory)].increment(1);
    }

    /// Counts a segment a worker reported stored.
    pub fn segment_reported(&self) {
        self.with(|| metrics::counter!(SEGMENTS_REPORTED).increment(1));
    }

    /// Folds the latency samples recorded since the last time into the histograms. Rendering
    /// does it too, but without scrapes (no `metrics_token`) the samples would pile up: 8
    /// bytes a request, forever.
    pub fn run_upkeep(&self) {
        self.handle.run_upkeep();
    }

    /// The Prometheus text exposition, with the lecture and job gauges set to `counts`
    /// first (a state without a count shows 0).
    pub fn render(&self, counts: &Counts) -> String {
        self.with(|| {
            for state in ALL_STATES {
                let count = count_of(&counts.lectures, state);
                metrics::gauge!(LECTURES, "state" => state_label(state)).set(count);
            }
            for state in JobState::ALL {
                let count = count_of(&counts.jobs, state);
                metrics::gauge!(JOBS, "state" => state.as_str()).set(count);
            }
        });
        self.handle.run_upkeep();
        self.handle.render()
    }
}

fn find<'a>(
    known: &'a HashMap<Box<str>, Vec<RequestMetrics>>,
    method: &str,
    route: &str,
    status: u16,
) -> Option<&'a RequestMetrics> {
    known
        .get(route)?
        .iter()
        .find(|m| m.method == method && m.status == status)
}

/// What the gauges show, counted in the database at each scrape.
#[derive(Debug, Default)]
pub struct Counts {
    pub lectures: Vec<(LectureState, u64)>,
    pub jobs: Vec<(JobState, u64)>,
}

#[allow(clippy::cast_precision_loss)] // Gauges are f64; no count comes near 2^53.
fn count_of<S: PartialEq>(counts: &[(S, u64)], state: S) -> f64 {
    counts
        .iter()
        .find(|(s, _)| *s == state)
        .map_or(0.0, |(_, n)| *n as f64)
}

const ALL_STATES: [LectureState; 5] = [
    LectureState::Scheduled,
    LectureState::Capturing,
    LectureState::Processing,
    LectureState::Ready,
    LectureState::Failed,
];

fn state_label(state: LectureState) -> &'static str {
    match state {
        LectureState::Scheduled => "scheduled",
        LectureState::Capturing => "capturing",
        LectureState::Processing => "processing",
        LectureState::Ready => "ready",
        LectureState::Failed => "failed",
    }
}

/// Middleware: counts every request by its route template and status.
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = request.extensions().get::<MatchedPath>().cloned();
    let method = method_label(request.method());
    let response = next.run(request).await;
    state.metrics.http_request(
        method,
        route.as_ref().map_or("unmatched", MatchedPath::as_str),
        response.status().as_u16(),
        start.elapsed(),
    );
    response
}

/// A request's method as a label: the ones the catalog answers, and `other`.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

fn not_ready(message: &str) -> Response {
    let body = ErrorBody {
        error: ErrorDetail {
            code: "not_ready".into(),
            message: message.into(),
        },
    };
    (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
}

/// 200 `ok` when the database answers and the storage takes writes (the directory) or
/// answers (the bucket); otherwise
/// 503 with `{"error":{"code":"not_ready","message"}}` naming which (details go to the log).
async fn readyz(State(state): State<AppState>) -> Response {
    match tokio::time::timeout(READY_TIMEOUT, state.store.ping()).await {
        Ok(Ok(())) => {}
        Ok(Err(error)) => {
            tracing::warn!(%error, "not ready: the database does not answer");
            return not_ready("the database does not answer");
        }
        Err(_) => {
            tracing::warn!("not ready: the database did not answer in time");
            return not_ready("the database does not answer");
        }
    }
    match state.config.storage.kind {
        StorageKind::Local => {
            if let Err(error) = probe_storage(&state.config.storage_dir).await {
                tracing::warn!(%error, dir = %state.config.storage_dir.display(), "not ready: storage");
                return not_ready("the storage directory is not writable");
            }
        }
        StorageKind::S3 => {
            if let Err(error) = state.storage.check().await {
                tracing::warn!(%error, "not ready: storage");
                return not_ready("the storage bucket does not answer");
            }
        }
    }
    "ok".into_response()
}

/// Writes and removes a small file in `dir` (creating `dir` like the storage would).
async fn probe_storage(dir: &std::path::Path) -> std::io::Result<()> {
    tokio::fs::create_dir_all(dir).await?;
    let probe = dir.join(format!(".readyz-{}", crate::auth::new_token()));
    tokio::fs::write(&probe, b"ready").await?;
    tokio::fs::remove_file(&probe).await
}

/// True when the request's bearer token is the configured metrics token.
fn may_scrape(headers: &HeaderMap, expected: &str) -> bool {
    let Some(given) = headers
        .get(lectern_wire::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
    else {
        return false;
    };
    // Compare digests, so the time taken says nothing about how much of the token matched.
    Sha256::digest(given.as_bytes()) == Sha256::digest(expected.as_bytes())
}

async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(expected) = state.config.metrics_token.as_deref() else {
        return ApiError::NotFound.into_response();
    };
    if !may_scrape(&headers, expected) {
        let mut response = ApiError::Unauthenticated.into_response();
        response
            .headers_mut()
            .insert(WWW_AUTHENTICATE, "Bearer".parse().expect("a valid header"));
        return response;
    }
    let counts = match counts(&state).await {
        Ok(counts) => counts,
        Err(e) => return ApiError::Store(e).into_response(),
    };
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        state.metrics.render(&counts),
    )
        .into_response()
}

async fn counts(state: &AppState) -> Result<Counts, crate::store::StoreError> {
    Ok(Counts {
        lectures: state.store.lecture_counts().await?,
        jobs: state.store.job_counts().await?,
    })
}
