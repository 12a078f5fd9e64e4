//! The catalog under test: `lectern_catalog::run` on a loopback port, on a runtime and
//! threads of its own (as many workers as cores, like the real binary), so the benchmark's
//! client does not share its threads.

use anyhow::{bail, Context};
use lectern_catalog::Config;
use std::net::SocketAddr;
use std::path::Path;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// How long the catalog may take to answer `/healthz` (it migrates first).
const START_TIMEOUT: Duration = Duration::from_secs(60);

pub struct Catalog {
    pub base: String,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<anyhow::Result<()>>>,
}

impl Catalog {
    /// Starts a catalog on `database_url` with media tokens signed by `media_key` (hex), and
    /// waits until it answers.
    pub async fn start(
        database_url: &str,
        storage: &Path,
        media_key: &str,
    ) -> anyhow::Result<Catalog> {
        let config = Config::from_toml(&format!(
            r#"
            database_url = "{database_url}"
            storage_dir = "{}"
            media_key = "{media_key}"
            "#,
            storage.display()
        ))?;
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let address: SocketAddr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("catalog".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .enable_all()
                    .build()?;
                runtime.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener)?;
                    let shutdown = async {
                        stopped.await.ok();
                    };
                    lectern_catalog::run(config, listener, shutdown).await?;
                    Ok(())
                })
            })?;
        let mut catalog = Catalog {
            base: format!("http://{address}"),
            stop: Some(stop),
            thread: Some(thread),
        };
        catalog.wait_until_ready().await?;
        Ok(catalog)
    }

    async fn wait_until_ready(&mut self) -> anyhow::Result<()> {
        let client = reqwest::Client::new();
        let started = Instant::now();
        loop {
            let answer = client.get(format!("{}/healthz", self.base)).send().await;
            if answer.is_ok_and(|a| a.status().is_success()) {
                return Ok(());
            }
            if self.thread.as_ref().is_some_and(JoinHandle::is_finished) {
                self.join().context("the catalog failed to start")?;
                bail!("the catalog stopped while starting");
            }
            if started.elapsed() > START_TIMEOUT {
                bail!("the catalog did not answer /healthz within {START_TIMEOUT:?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops the catalog after its open requests and returns how it ended.
    pub fn stop(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            stop.send(()).ok();
        }
        self.join()
    }

    fn join(&mut self) -> anyhow::Result<()> {
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => bail!("the catalog's thread panicked"),
            None => Ok(()),
        }
    }
}

impl Drop for Catalog {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            stop.send(()).ok();
        }
    }
}
