//! Transcode workers as processes of their own: the `lectern-transcode` binary as shipped,
//! started against a [`Stack`]'s catalog with an identity (token) of its own and configured
//! through its environment, as a container would be, so that a test can kill one with
//! SIGKILL, as a crash or the kernel's OOM killer would.

use crate::{scrape, Stack};
use anyhow::{bail, Context};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

/// How long a worker process may take to register and serve `/healthz`.
const START_DEADLINE: Duration = Duration::from_secs(60);

/// A `lectern-transcode` process; killed when dropped.
pub struct WorkerProcess {
    name: String,
    child: Child,
    metrics: SocketAddr,
    log: PathBuf,
}

impl Stack {
    /// Starts the worker binary as a new worker `name` (added to the catalog with its own
    /// token) with the stack's worker settings, serving `/metrics` on a port of its own;
    /// returns once it has registered and serves `/healthz`.
    pub async fn spawn_worker(&self, name: &str) -> anyhow::Result<WorkerProcess> {
        let binary = worker_binary()?;
        let token = self.add_worker(name).await?;
        let metrics = free_tcp_address()?;
        let (first, last) = crate::free_udp_ports(2)?;
        let log = self.path(&format!("{name}.log"));
        let config = &self.worker_config;
        let mut command = Command::new(binary);
        for (variable, _) in std::env::vars().filter(|(v, _)| v.starts_with(ENV)) {
            command.env_remove(variable);
        }
        let ladder: Vec<String> = config
            .ladder
            .iter()
            .map(|r| {
                format!(
                    "{{name=\"{}\", width={}, height={}, bitrate_kbps={}}}",
                    r.name, r.width, r.height, r.bitrate_kbps
                )
            })
            .collect();
        let settings = [
            ("CATALOG_URL", config.catalog_url.clone()),
            ("TOKEN", token),
            ("SRT_PORT_RANGE", format!("{first}-{last}")),
            ("STORAGE_DIR", config.storage_dir.display().to_string()),
            ("SEGMENT_SECONDS", config.segment_seconds.to_string()),
            ("FRAME_RATE", config.frame_rate.to_string()),
            ("LADDER", format!("[{}]", ladder.join(", "))),
            ("JOBS", config.jobs.to_string()),
            ("METRICS_LISTEN", metrics.to_string()),
        ];
        for (key, value) in settings.into_iter().chain(storage_settings(config)) {
            command.env(format!("{ENV}{key}"), value);
        }
        let output = std::fs::File::create(&log)?;
        command
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::from(output.try_clone()?))
            .stderr(Stdio::from(output));
        let child = command
            .spawn()
            .with_context(|| format!("starting the worker process {name}"))?;
        let mut worker = WorkerProcess {
            name: name.to_owned(),
            child,
            metrics,
            log,
        };
        worker.wait_until_serving().await?;
        Ok(worker)
    }
}

/// The prefix of the worker's environment settings.
const ENV: &str = "LECTERN_TRANSCODE_";

/// `[storage]` as environment settings, for an S3 stack (a local one needs none).
fn storage_settings(config: &lectern_transcode::Config) -> Vec<(&'static str, String)> {
    if config.storage.kind == lectern_packager::StorageKind::Local {
        return Vec::new();
    }
    let s3 = &config.storage.s3;
    vec![
        ("STORAGE__KIND", "s3".into()),
        ("STORAGE__ENDPOINT", s3.endpoint.clone()),
        ("STORAGE__REGION", s3.region.clone()),
        ("STORAGE__BUCKET", s3.bucket.clone()),
        ("STORAGE__ACCESS_KEY_ID", s3.access_key_id.clone()),
        ("STORAGE__SECRET_ACCESS_KEY", s3.secret_access_key.clone()),
        ("STORAGE__PATH_STYLE", s3.path_style.to_string()),
    ]
}

impl WorkerProcess {
    async fn wait_until_serving(&mut self) -> anyhow::Result<()> {
        let healthz = format!("http://{}/healthz", self.metrics);
        let deadline = tokio::time::Instant::now() + START_DEADLINE;
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "the worker process {} exited at start ({status}):\n{}",
                    self.name,
                    self.log()
                );
            }
            if scrape(&healthz, None).await.is_ok() {
                return Ok(());
            }
            if tokio::time::Instant::now() > deadline {
                bail!(
                    "the worker process {} did not serve {healthz} within {START_DEADLINE:?}:\n{}",
                    self.name,
                    self.log()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Kills the process with SIGKILL (`kill -9`: no shutdown, no last report) and reaps it.
    pub fn kill(&mut self) -> anyhow::Result<()> {
        // std's kill is SIGKILL on Unix.
        self.child.kill().context("killing the worker process")?;
        self.child.wait()?;
        Ok(())
    }

    /// Stops the process with SIGSTOP, as a frozen machine would: it holds its job and says
    /// nothing until [`WorkerProcess::thaw`].
    pub fn freeze(&self) -> anyhow::Result<()> {
        self.signal("STOP")
    }

    /// Lets a frozen process run on (SIGCONT).
    pub fn thaw(&self) -> anyhow::Result<()> {
        self.signal("CONT")
    }

    fn signal(&self, name: &str) -> anyhow::Result<()> {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.id().to_string())
            .status()
            .context("running kill")?;
        if !status.success() {
            bail!("kill -{name} {} failed: {status}", self.id());
        }
        Ok(())
    }

    /// The worker's `/metrics` text.
    pub async fn metrics(&self) -> anyhow::Result<String> {
        scrape(&format!("http://{}/metrics", self.metrics), None).await
    }

    /// What the worker logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback address with a port that was free just now.
fn free_tcp_address() -> anyhow::Result<SocketAddr> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?)
}

/// The `lectern-transcode` binary, built by cargo first (once per test process).
///
/// Cargo hands an integration test the paths of its own package's binaries only; asking
/// cargo to build the worker's (nothing to do when `./lectern build` or an earlier test did)
/// makes sure the test runs the worker as the source stands, never a stale file in `target/`.
fn worker_binary() -> anyhow::Result<PathBuf> {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            build_binary("lectern-transcode", "lectern-transcode").map_err(|e| format!("{e:#}"))
        })
        .clone()
        .map_err(anyhow::Error::msg)
}

fn build_binary(package: &str, binary: &str) -> anyhow::Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = Command::new(&cargo)
        .current_dir(workspace)
        .args(["build", "--quiet", "--message-format=json", "-p", package])
        .args(["--bin", binary])
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("running {cargo} build -p {package}"))?;
    if !output.status.success() {
        bail!("cargo build -p {package} failed ({})", output.status);
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| message["target"]["name"] == binary)
        .find_map(|message| message["executable"].as_str().map(PathBuf::from))
        .with_context(|| format!("cargo built no executable named {binary}"))
}
