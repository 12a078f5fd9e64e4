//! The worker's life: register with the catalog, then run live sessions one after another
//! until shutdown.

use crate::catalog::CatalogClient;
use crate::config::Config;
use crate::error::WorkerError;
use crate::live::session::{self, Outcome};
use lectern_packager::Storage;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// How often the worker tells the catalog it is still there.
const HEARTBEAT: Duration = Duration::from_secs(20);

/// A worker that has registered with the catalog and is ready to take sessions.
pub struct Worker {
    config: Config,
    catalog: CatalogClient,
    storage: Arc<dyn Storage>,
}

impl Worker {
    /// Initialises GStreamer and registers with the catalog (retrying while it is away).
    /// When this returns, capture boxes are sent to this worker.
    pub async fn start(config: Config) -> Result<Worker, WorkerError> {
        gst::init().map_err(|e| WorkerError::Gst(format!("GStreamer did not initialise: {e}")))?;
        let catalog = CatalogClient::new(&config.catalog_url, &config.token);
        let srt_url = config.advertised_srt_url();
        catalog.register(&srt_url).await?;
        tracing::info!(%srt_url, catalog = %config.catalog_url, "registered with the catalog");
        let storage = config.open_storage()?;
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
        })
    }

    /// Runs live sessions one after another until `shutdown` resolves; a session in progress
    /// is flushed and closed before this returns.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), WorkerError> {
        let Worker {
            config,
            catalog,
            storage,
        } = self;
        let (stop_tx, stop_rx) = watch::channel(false);
        tokio::spawn(async move {
            shutdown.await;
            let _ = stop_tx.send(true);
        });
        let stopped = |mut rx: watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|stop| *stop).await;
        };

        let heartbeat = {
            let catalog = catalog.clone();
            let srt_url = config.advertised_srt_url();
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(HEARTBEAT).await;
                    if let Err(e) = catalog.register(&srt_url).await {
                        tracing::warn!(error = %e, "heartbeat to the catalog failed");
                    }
                }
            })
        };

        let result = loop {
            if *stop_rx.borrow() {
                break Ok(());
            }
            match session::run(
                &config,
                storage.clone(),
                catalog.clone(),
                stopped(stop_rx.clone()),
            )
            .await
            {
                Ok(Outcome::Stopped) => break Ok(()),
                Ok(Outcome::Finished { lecture, segments }) => {
                    tracing::info!(%lecture, segments, "lecture packaged; ready for the next session")
                }
                Err(e @ WorkerError::ElementMissing { .. }) => break Err(e),
                Err(e) => {
                    tracing::error!(error = %e, "live session failed; listening again");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        };
        heartbeat.abort();
        result
    }
}

/// Starts a worker and runs it until `shutdown` resolves.
pub async fn run(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), WorkerError> {
    Worker::start(config).await?.run(shutdown).await
}
