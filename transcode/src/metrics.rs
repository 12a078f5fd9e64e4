//! What the worker tells Prometheus: its live sessions, its jobs, how fast it encodes and
//! how long storage takes to take a segment. Each worker has its own recorder, so workers
//! in one process (the tests) never mix their figures.
//!
//! Served as text at `/metrics` (and `/healthz`) on `metrics_listen` when that is set. The
//! depth of the job queue is not here: the queue lives in the catalog's database, and the
//! catalog's own `/metrics` counts it (`lectern_jobs{state="queued"}`) once for the whole
//! fleet; every worker repeating it would be the same number, stale, many times over.

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use metrics::{Counter, Gauge, Histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// Live sessions this worker runs: listening for their capture box or receiving (gauge).
pub const LIVE_SESSIONS: &str = "lectern_worker_live_sessions";
/// On-demand jobs this worker runs now (gauge).
pub const JOBS_RUNNING: &str = "lectern_worker_jobs_running";
/// Jobs that ended here, by `outcome` (counter): `done`, `failed`, `lost` (another worker
/// holds it now) or `unreported` (the catalog did not take the end; the job runs again).
pub const JOBS: &str = "lectern_worker_jobs_total";
/// Seconds of media encoded per wall-clock second by the job encoding now, else by the last
/// one (gauge; 2 means an hour of lecture takes half an hour). Updated at each heartbeat.
pub const REALTIME_FACTOR: &str = "lectern_worker_realtime_factor";
/// How long storing one object (a segment, a playlist) took (histogram, seconds).
pub const UPLOAD_DURATION: &str = "lectern_worker_storage_upload_seconds";
/// Objects storage refused or did not take in time (counter).
pub const UPLOAD_FAILURES: &str = "lectern_worker_storage_upload_failures_total";

/// From a segment on a local disk (milliseconds) to a large one on a slow link to S3.
const UPLOAD_BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// How often latency samples are folded into the histogram when nobody scrapes.
const UPKEEP: Duration = Duration::from_secs(5);

/// How a job left this worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobOutcome {
    Done,
    Failed,
    Lost,
    Unreported,
}

impl JobOutcome {
    const ALL: [JobOutcome; 4] = [
        JobOutcome::Done,
        JobOutcome::Failed,
        JobOutcome::Lost,
        JobOutcome::Unreported,
    ];

    fn label(self) -> &'static str {
        match self {
            JobOutcome::Done => "done",
            JobOutcome::Failed => "failed",
            JobOutcome::Lost => "lost",
            JobOutcome::Unreported => "unreported",
        }
    }
}

/// One worker's figures. Cheap to clone.
#[derive(Clone)]
pub struct WorkerMetrics(Arc<Figures>);

struct Figures {
    handle: PrometheusHandle,
    live_sessions: Gauge,
    jobs_running: Gauge,
    jobs: [Counter; 4],
    realtime_factor: Gauge,
    upload_duration: Histogram,
    upload_failures: Counter,
}

impl std::fmt::Debug for WorkerMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WorkerMetrics")
    }
}

impl Default for WorkerMetrics {
    fn default() -> Self {
        WorkerMetrics::new()
    }
}

impl WorkerMetrics {
    /// A fresh recorder with every figure at zero.
    pub fn new() -> WorkerMetrics {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(UPLOAD_DURATION.into()), &UPLOAD_BUCKETS)
            .expect("the upload buckets are not empty")
            .build_recorder();
        let handle = recorder.handle();
        let figures = metrics::with_local_recorder(&recorder, || Figures {
            handle,
            live_sessions: metrics::gauge!(LIVE_SESSIONS),
            jobs_running: metrics::gauge!(JOBS_RUNNING),
            jobs: JobOutcome::ALL.map(|o| metrics::counter!(JOBS, "outcome" => o.label())),
            realtime_factor: metrics::gauge!(REALTIME_FACTOR),
            upload_duration: metrics::histogram!(UPLOAD_DURATION),
            upload_failures: metrics::counter!(UPLOAD_FAILURES),
        });
        WorkerMetrics(Arc::new(figures))
    }

    /// The number of live sessions running now.
    #[allow(clippy::cast_precision_loss)] // Gauges are f64; no worker runs 2^53 sessions.
    pub fn live_sessions(&self, running: usize) {
        self.0.live_sessions.set(running as f64);
    }

    /// A job was claimed and starts.
    pub fn job_started(&self) {
        self.0.jobs_running.increment(1.0);
    }

    /// A job left this worker.
    pub fn job_ended(&self, outcome: JobOutcome) {
        self.0.jobs_running.decrement(1.0);
        let index = JobOutcome::ALL
            .iter()
            .position(|o| *o == outcome)
            .expect("every outcome is listed");
        self.0.jobs[index].increment(1);
    }

    /// The job encoding now (or that just ended) encoded `media` seconds in `wall` seconds.
    pub fn encoding(&self, media: f64, wall: Duration) {
        if !wall.is_zero() {
            self.0.realtime_factor.set(media / wall.as_secs_f64());
        }
    }

    /// Storing one object took `elapsed`, or failed.
    pub fn upload(&self, elapsed: Duration, stored: bool) {
        if stored {
            self.0.upload_duration.record(elapsed.as_secs_f64());
        } else {
            self.0.upload_failures.increment(1);
        }
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        self.0.handle.render()
    }

    /// Serves `/metrics` and `/healthz` on `listener` until `shutdown` resolves.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let upkeep = {
            let handle = self.0.handle.clone();
            tokio::spawn(async move {
                let mut every = tokio::time::interval(UPKEEP);
                loop {
                    every.tick().await;
                    handle.run_upkeep();
                }
            })
        };
        let app = Router::new()
            .route("/metrics", get(exposition))
            .route("/healthz", get(|| async { "ok" }))
            .with_state(self);
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await;
        upkeep.abort();
        served
    }
}

async fn exposition(State(metrics): State<WorkerMetrics>) -> impl IntoResponse {
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        metrics.render(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_and_the_realtime_factor_show_in_the_text() {
        let metrics = WorkerMetrics::new();
        metrics.live_sessions(2);
        metrics.job_started();
        metrics.encoding(6.0, Duration::from_secs(2));
        let text = metrics.render();
        for line in [
            "lectern_worker_live_sessions 2",
            "lectern_worker_jobs_running 1",
            "lectern_worker_realtime_factor 3",
            "lectern_worker_jobs_total{outcome=\"done\"} 0",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in {text}");
        }
        metrics.job_ended(JobOutcome::Done);
        let text = metrics.render();
        for line in [
            "lectern_worker_jobs_running 0",
            "lectern_worker_jobs_total{outcome=\"done\"} 1",
            "lectern_worker_jobs_total{outcome=\"lost\"} 0",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in {text}");
        }
    }
}
