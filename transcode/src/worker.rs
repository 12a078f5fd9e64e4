//! The worker's life: register with the catalog (a host and a range of SRT ports), then
//! poll the catalog for the live sessions assigned to it and run each on its own port,
//! concurrently, beside the on-demand jobs (one at a time) and the `/metrics` endpoint,
//! until shutdown.
//!
//! Polling every [`POLL`] adds up to that much to a session's start (the box's SRT caller
//! retries meanwhile); a long-poll of `GET /api/v1/worker/sessions` would remove it and is a
//! later improvement.

use crate::catalog::CatalogClient;
use crate::config::Config;
use crate::error::WorkerError;
use crate::jobs::JobRunner;
use crate::live::session::{self, Outcome};
use crate::metrics::WorkerMetrics;
use crate::timed_storage::TimedStorage;
use lectern_packager::Storage;
use lectern_wire::worker::LiveSession;
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How often the worker asks the catalog for its sessions.
const POLL: Duration = Duration::from_secs(1);

/// How often the worker tells the catalog it is still there.
const HEARTBEAT: Duration = Duration::from_secs(20);

/// A worker that has registered with the catalog and is ready to take sessions.
pub struct Worker {
    config: Config,
    catalog: CatalogClient,
    storage: Arc<dyn Storage>,
    metrics: WorkerMetrics,
    /// Bound to `metrics_listen`, when set.
    metrics_listener: Option<TcpListener>,
}

impl Worker {
    /// Initialises GStreamer, binds `metrics_listen` and registers with the catalog
    /// (retrying while it is away). When this returns, capture boxes are sent to this worker.
    pub async fn start(config: Config) -> Result<Worker, WorkerError> {
        gst::init().map_err(|e| WorkerError::Gst(format!("GStreamer did not initialise: {e}")))?;
        let metrics_listener = match config.metrics_listen {
            Some(address) => Some(TcpListener::bind(address).await.map_err(|e| {
                WorkerError::Settings(lectern_client::SettingsError::Invalid {
                    key: "metrics_listen",
                    message: format!("cannot be listened on ({address}): {e}"),
                })
            })?),
            None => None,
        };
        let catalog = CatalogClient::new(&config.catalog_url, &config.token);
        let srt_host = config.advertised_srt_host();
        let ports = config.srt_ports().map_err(|message| {
            WorkerError::Settings(lectern_client::SettingsError::Invalid {
                key: "srt_port_range",
                message,
            })
        })?;
        catalog.register(&srt_host, ports).await?;
        tracing::info!(%srt_host, first_port = ports.0, last_port = ports.1, catalog = %config.catalog_url, "registered with the catalog");
        let metrics = WorkerMetrics::new();
        let storage = TimedStorage::wrap(config.open_storage()?, metrics.clone());
        match storage.check().await {
            Ok(()) => tracing::info!(kind = ?config.storage.kind, "storage is ready"),
            // A store that is down now may be back by the first segment.
            Err(e) => {
                tracing::warn!(error = %e, "storage is not usable yet; check the [storage] settings if this persists")
            }
        }
        Ok(Worker {
            config,
            catalog,
            storage,
            metrics,
            metrics_listener,
        })
    }

    /// Where `/metrics` is served (`metrics_listen` with its port resolved), if anywhere.
    pub fn metrics_address(&self) -> Option<SocketAddr> {
        self.metrics_listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
    }

    /// Runs the live sessions the catalog assigns, each in its own task on its own port,
    /// until `shutdown` resolves; sessions in progress are flushed and closed before this
    /// returns.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), WorkerError> {
        let Worker {
            config,
            catalog,
            storage,
            metrics,
            metrics_listener,
        } = self;
        let config = Arc::new(config);
        let (stop_tx, stop_rx) = watch::channel(false);
        tokio::spawn(async move {
            shutdown.await;
            let _ = stop_tx.send(true);
        });

        let heartbeat = {
            let catalog = catalog.clone();
            let srt_host = config.advertised_srt_host();
            let ports = config.srt_ports().unwrap_or((0, 0));
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(HEARTBEAT).await;
                    if let Err(e) = catalog.register(&srt_host, ports).await {
                        tracing::warn!(error = %e, "heartbeat to the catalog failed");
                    }
                }
            })
        };

        let metrics_server = metrics_listener.map(|listener| {
            if let Ok(address) = listener.local_addr() {
                tracing::info!(url = %format!("http://{address}/metrics"), "serving metrics");
            }
            let mut stop = stop_rx.clone();
            let stopped = async move {
                let _ = stop.wait_for(|s| *s).await;
            };
            tokio::spawn(metrics.clone().serve(listener, stopped))
        });

        let jobs = config.jobs.then(|| {
            let runner = JobRunner {
                config: config.clone(),
                storage: storage.clone(),
                catalog: catalog.clone(),
                metrics: metrics.clone(),
            };
            tokio::spawn(crate::jobs::run(runner, stop_rx.clone()))
        });

        // A lecture the catalog still lists after its session ended lost its box mid-lecture
        // (a network cut): it gets a new listener, and the packager continues behind a
        // discontinuity.
        let mut running: HashMap<String, Running> = HashMap::new();
        let mut stop = stop_rx.clone();
        loop {
            if *stop.borrow() {
                break;
            }
            match catalog.sessions().await {
                Ok(sessions) => {
                    let listed: HashSet<&str> =
                        sessions.iter().map(|s| s.lecture_id.as_str()).collect();
                    // A session the catalog no longer lists stops unless its box is connected.
                    for (lecture, session) in &running {
                        if !listed.contains(lecture.as_str()) {
                            let _ = session.withdrawn.send(true);
                        }
                    }
                    for session in sessions {
                        if running.contains_key(&session.lecture_id) {
                            continue;
                        }
                        tracing::info!(lecture = %session.lecture_id, port = session.port, "starting a live session");
                        let lecture = session.lecture_id.clone();
                        let task = spawn_session(
                            config.clone(),
                            session,
                            storage.clone(),
                            catalog.clone(),
                            stop_rx.clone(),
                        );
                        running.insert(lecture, task);
                    }
                }
                Err(e) => tracing::warn!(error = %e, "could not ask the catalog for live sessions"),
            }
            // Reap the sessions that ended.
            let ended: Vec<String> = running
                .iter()
                .filter(|(_, r)| r.task.is_finished())
                .map(|(l, _)| l.clone())
                .collect();
            for lecture in ended {
                let finished = running.remove(&lecture).expect("listed above");
                if let Err(e) = finished.task.await {
                    tracing::error!(%lecture, error = %e, "a live session panicked");
                }
            }
            metrics.live_sessions(running.len());
            tokio::select! {
                _ = tokio::time::sleep(POLL) => {}
                _ = stop.wait_for(|s| *s) => {}
            }
        }
        for (lecture, session) in running {
            if let Err(e) = session.task.await {
                tracing::error!(%lecture, error = %e, "a live session panicked");
            }
        }
        if let Some(jobs) = jobs {
            // A job in progress is dropped: its lease runs out and it runs again elsewhere.
            jobs.abort();
        }
        heartbeat.abort();
        if let Some(server) = metrics_server {
            match server.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "the metrics endpoint failed"),
                Err(e) => tracing::error!(error = %e, "the metrics endpoint panicked"),
            }
        }
        Ok(())
    }
}

/// A session's task and its withdrawal switch.
struct Running {
    task: JoinHandle<()>,
    withdrawn: watch::Sender<bool>,
}

fn spawn_session(
    config: Arc<Config>,
    session: LiveSession,
    storage: Arc<dyn Storage>,
    catalog: CatalogClient,
    stop: watch::Receiver<bool>,
) -> Running {
    let (withdrawn_tx, withdrawn_rx) = watch::channel(false);
    let on = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|v| *v).await;
    };
    let task = tokio::spawn(async move {
        let lecture = session.lecture_id.clone();
        match session::run(
            &config,
            &session,
            storage,
            catalog,
            on(stop),
            on(withdrawn_rx),
        )
        .await
        {
            Ok(Outcome::Stopped) => {
                tracing::info!(%lecture, "live session stopped before its capture box connected");
            }
            Ok(Outcome::Finished { lecture, segments }) => {
                tracing::info!(%lecture, segments, "live session closed; listening again if the box still records");
            }
            Err(e) => {
                tracing::error!(%lecture, error = %e, "live session failed; listening again if the catalog still lists it");
                // Do not spin on a port that cannot be bound.
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    });
    Running {
        task,
        withdrawn: withdrawn_tx,
    }
}

/// Starts a worker and runs it until `shutdown` resolves.
pub async fn run(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), WorkerError> {
    Worker::start(config).await?.run(shutdown).await
}
