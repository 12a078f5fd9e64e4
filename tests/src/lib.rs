//! The harness of Lectern's end-to-end suites: a [`Stack`] of the real catalog (on SQLite),
//! a transcode worker and a simulated capture box, each on its own random ports and
//! temporary directories, cleaned up on drop; more workers as processes of their own
//! ([`worker_process`], for tests that kill one); a [`Client`] that talks to the catalog as
//! a person would; and [`probe`] helpers that run ffprobe/ffmpeg as independent players.
#![forbid(unsafe_code)]

pub mod probe;
pub mod worker_process;

pub use worker_process::WorkerProcess;

use anyhow::{bail, Context};
use reqwest::StatusCode;
use serde_json::Value;
use std::future::Future;
use std::net::UdpSocket;
use std::path::PathBuf;
use std::time::Duration;
use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const PASSWORD: &str = "lectern-demo";
pub const STUDENT: &str = "student@demo.lectern.test";
pub const OUTSIDER: &str = "outsider@demo.lectern.test";
const AGENT_TOKEN: &str = "e2e-agent-token-0123456789abcdef";
const WORKER_TOKEN: &str = "e2e-worker-token-0123456789abcdef";
const MEDIA_KEY: &str = "6c65637465726e2d65326520746573742d6b65792d3332206279746573212121";
/// The bearer token that scrapes the catalog's `/metrics`.
pub const METRICS_TOKEN: &str = "e2e-metrics-token-0123456789abcdef";

/// A catalog and (unless [`StackBuilder::without_worker`]) a registered transcode worker,
/// running in this process.
pub struct Stack {
    pub url: String,
    /// The worker's SRT listener ports (first, last).
    pub srt_ports: (u16, u16),
    database_url: String,
    dir: TempDir,
    catalog: Option<Running>,
    worker: std::sync::Mutex<Option<Running>>,
    /// The settings the worker runs with (and worker processes start from).
    pub worker_config: lectern_transcode::Config,
    /// Where the in-process worker serves `/metrics`, when its settings ask for it.
    pub worker_metrics: Option<std::net::SocketAddr>,
}

type CatalogChange = Box<dyn FnOnce(&mut lectern_catalog::Config) + Send>;
type WorkerChange = Box<dyn FnOnce(&mut lectern_transcode::Config) + Send>;

/// What a [`Stack`] starts with: [`Stack::builder`], changed, then [`StackBuilder::start`].
#[must_use]
pub struct StackBuilder {
    catalog: Vec<CatalogChange>,
    worker: Vec<WorkerChange>,
    in_process_worker: bool,
}

impl StackBuilder {
    /// Changes the catalog's settings (e.g. a short `jobs.lease_seconds`).
    pub fn catalog(
        mut self,
        change: impl FnOnce(&mut lectern_catalog::Config) + Send + 'static,
    ) -> Self {
        self.catalog.push(Box::new(change));
        self
    }

    /// Changes the worker's settings (e.g. a smaller ladder), for the in-process worker and
    /// the worker processes alike.
    pub fn worker(
        mut self,
        change: impl FnOnce(&mut lectern_transcode::Config) + Send + 'static,
    ) -> Self {
        self.worker.push(Box::new(change));
        self
    }

    /// Catalog and workers keep media in `storage` (e.g. the S3 test server's bucket).
    pub fn storage(self, storage: lectern_packager::StorageConfig) -> Self {
        let for_worker = storage.clone();
        self.catalog(move |c| c.storage = storage)
            .worker(move |w| w.storage = for_worker)
    }

    /// No worker in this process: the test starts its own ([`Stack::spawn_worker`]).
    pub fn without_worker(mut self) -> Self {
        self.in_process_worker = false;
        self
    }

    /// Starts the catalog with the demo seeded, then the worker, and returns once the worker
    /// has registered (so a recording started now is pushed live).
    pub async fn start(self) -> anyhow::Result<Stack> {
        let _ = tracing_subscriber::fmt()
            .with_test_writer()
            .with_env_filter("info")
            .try_init();
        let dir = tempfile::tempdir()?;
        let storage = dir.path().join("storage");
        let database_url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("catalog.db").display()
        );
        let mut config = lectern_catalog::Config::from_toml(&format!(
            r#"
            database_url = "{database_url}"
            storage_dir = "{storage}"
            media_key = "{MEDIA_KEY}"
            metrics_token = "{METRICS_TOKEN}"
            [demo]
            seed = true
            agent_token = "{AGENT_TOKEN}"
            worker_token = "{WORKER_TOKEN}"
            "#,
            storage = storage.display(),
        ))?;
        for change in self.catalog {
            change(&mut config);
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let (stop, stopped) = stop_signal();
        let handle = tokio::spawn(async move {
            if let Err(e) = lectern_catalog::run(config, listener, stopped).await {
                panic!("the catalog failed: {e}");
            }
        });
        let catalog = Some((stop, handle));

        let srt_ports = free_udp_ports(4)?;
        let mut worker_config = lectern_transcode::Config {
            catalog_url: url.clone(),
            token: WORKER_TOKEN.into(),
            srt_port_range: format!("{}-{}", srt_ports.0, srt_ports.1),
            storage_dir: storage,
            ..lectern_transcode::Config::default()
        };
        for change in self.worker {
            change(&mut worker_config);
        }
        let (worker, worker_metrics) = if self.in_process_worker {
            let (worker, metrics) = start_worker(worker_config.clone()).await?;
            (Some(worker), metrics)
        } else {
            (None, None)
        };
        Ok(Stack {
            url,
            srt_ports,
            database_url,
            dir,
            catalog,
            worker: std::sync::Mutex::new(worker),
            worker_config,
            worker_metrics,
        })
    }
}

fn stop_signal() -> (
    oneshot::Sender<()>,
    impl Future<Output = ()> + Send + 'static,
) {
    let (tx, rx) = oneshot::channel::<()>();
    (tx, async move {
        let _ = rx.await;
    })
}

/// `n` consecutive UDP ports nobody listens on right now (SRT runs over UDP): the worker's
/// port range.
fn free_udp_ports(n: u16) -> anyhow::Result<(u16, u16)> {
    for _ in 0..100 {
        let first = UdpSocket::bind("127.0.0.1:0")?.local_addr()?.port();
        let Some(last) = first.checked_add(n - 1) else {
            continue;
        };
        if (first..=last).all(|p| UdpSocket::bind(("127.0.0.1", p)).is_ok()) {
            return Ok((first, last));
        }
    }
    bail!("found no {n} consecutive free UDP ports")
}

/// A running part of the stack: its stop switch and its task.
type Running = (oneshot::Sender<()>, JoinHandle<()>);

/// Starts a worker (registered when this returns) and runs it until told to stop; where it
/// serves `/metrics`, if it does.
async fn start_worker(
    config: lectern_transcode::Config,
) -> anyhow::Result<(Running, Option<std::net::SocketAddr>)> {
    let worker = lectern_transcode::Worker::start(config)
        .await
        .context("starting the worker")?;
    let metrics = worker.metrics_address();
    let (stop, stopped) = stop_signal();
    let handle = tokio::spawn(async move {
        if let Err(e) = worker.run(stopped).await {
            panic!("the worker failed: {e}");
        }
    });
    Ok(((stop, handle), metrics))
}

impl Stack {
    /// Starts the catalog with the demo seeded, then a worker, and returns once the worker
    /// has registered (so a recording started now is pushed live).
    pub async fn start() -> anyhow::Result<Stack> {
        Stack::builder().start().await
    }

    /// [`Stack::start`] with the worker's settings changed by `change` (e.g. a smaller
    /// ladder for a quicker test).
    pub async fn start_with(
        change: impl FnOnce(&mut lectern_transcode::Config) + Send + 'static,
    ) -> anyhow::Result<Stack> {
        Stack::builder().worker(change).start().await
    }

    /// The settings of a stack to start, to change first.
    pub fn builder() -> StackBuilder {
        StackBuilder {
            catalog: Vec::new(),
            worker: Vec::new(),
            in_process_worker: true,
        }
    }

    /// Stops the worker (flushing its sessions, as at a crash-free restart) and starts a new
    /// one on the same ports, as an operator restarting it mid-lecture would.
    pub async fn restart_worker(&self) -> anyhow::Result<()> {
        let old = self.worker.lock().expect("worker lock").take();
        if let Some((stop, handle)) = old {
            let _ = stop.send(());
            handle.await?;
        }
        let (new, _) = start_worker(self.worker_config.clone()).await?;
        *self.worker.lock().expect("worker lock") = Some(new);
        Ok(())
    }

    /// The catalog's `/metrics` text (scraped with its metrics token).
    pub async fn catalog_metrics(&self) -> anyhow::Result<String> {
        scrape(&format!("{}/metrics", self.url), Some(METRICS_TOKEN)).await
    }

    /// Adds a worker named `name` with a token of its own to the catalog; its token.
    pub async fn add_worker(&self, name: &str) -> anyhow::Result<String> {
        let token = format!("e2e-worker-{name}-0123456789abcdef").replace(' ', "-");
        let store = self.store().await?;
        store
            .upsert_worker(name, &lectern_catalog::auth::token_hash(&token))
            .await?;
        store.close().await;
        Ok(token)
    }

    /// Records from the simulated classroom's test sources for `seconds`, through the real
    /// SRT path, and returns when the capture box has stopped cleanly.
    pub async fn record(&self, seconds: f64) -> anyhow::Result<()> {
        self.record_with(AGENT_TOKEN, self.spool_dir(), seconds)
            .await
    }

    /// Records for `seconds` as the capture box with `token` (see
    /// [`Stack::add_capture_box`]), spooling to `spool_dir`.
    pub async fn record_with(
        &self,
        token: &str,
        spool_dir: PathBuf,
        seconds: f64,
    ) -> anyhow::Result<()> {
        let config = lectern_ingest::Config {
            catalog_url: self.url.clone(),
            token: token.into(),
            spool_dir,
            ..lectern_ingest::Config::default()
        };
        let stop = tokio::time::sleep(Duration::from_secs_f64(seconds));
        lectern_ingest::run(config, stop)
            .await
            .context("the capture box failed")
    }

    /// The catalog's database, for what a test checks below the API (close it after).
    pub async fn store(&self) -> anyhow::Result<lectern_catalog::store::Store> {
        Ok(lectern_catalog::store::Store::connect(&self.database_url).await?)
    }

    /// Adds a capture box in a new room `room` of the demo institute, recording into the
    /// demo course (through the catalog's provisioning helpers); returns its token.
    pub async fn add_capture_box(&self, room: &str) -> anyhow::Result<String> {
        let student = Client::login(self, STUDENT).await?;
        let courses = student.json("/api/v1/courses").await?;
        let course = courses[0]["id"]
            .as_str()
            .context("the student has the demo course")?
            .to_owned();
        let store = self.store().await?;
        let institute = store
            .ensure_institute(lectern_catalog::store::DEMO_INSTITUTE)
            .await?;
        let room_id = store.ensure_room(&institute, room, &course).await?;
        let token = format!("e2e-agent-{room}-0123456789abcdef").replace(' ', "-");
        store
            .upsert_agent(
                &format!("{room} box"),
                &room_id,
                &lectern_catalog::auth::token_hash(&token),
            )
            .await?;
        store.close().await;
        Ok(token)
    }

    /// A scratch directory of the stack (e.g. another box's spool).
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The capture box's local spool.
    pub fn spool_dir(&self) -> PathBuf {
        self.dir.path().join("spool")
    }

    /// The catalog's and worker's storage directory.
    pub fn storage_dir(&self) -> PathBuf {
        self.dir.path().join("storage")
    }

    /// The demo capture box's client of the catalog's agent API.
    pub fn box_client(&self) -> lectern_ingest::catalog::CatalogClient {
        lectern_ingest::catalog::CatalogClient::new(&self.url, AGENT_TOKEN)
    }

    /// Stops the worker and the catalog and waits until they have.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        let worker = self.worker.lock().expect("worker lock").take();
        for part in [worker, self.catalog.take()].into_iter().flatten() {
            let (stop, handle) = part;
            let _ = stop.send(());
            handle.await?;
        }
        Ok(())
    }
}

/// GETs Prometheus text from `url`, with `token` as bearer when given; fails unless 200.
pub async fn scrape(url: &str, token: Option<&str>) -> anyhow::Result<String> {
    let mut request = reqwest::Client::new().get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await?;
    let status = response.status();
    let text = response.text().await?;
    if status != StatusCode::OK {
        bail!("GET {url} answered {status}: {text}");
    }
    Ok(text)
}

/// The value of the sample `name` (with its labels, e.g. `lectern_jobs{state="queued"}`) in
/// Prometheus text, when it is there.
pub fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| {
            line.strip_prefix(name)?
                .strip_prefix(' ')?
                .trim()
                .parse()
                .ok()
        })
}

/// A person's browser, reduced to a session cookie.
pub struct Client {
    base: String,
    http: reqwest::Client,
    cookie: String,
}

impl Client {
    /// Logs in with the demo password.
    pub async fn login(stack: &Stack, email: &str) -> anyhow::Result<Client> {
        let http = reqwest::Client::new();
        let response = http
            .post(format!("{}/api/v1/auth/login", stack.url))
            .json(&serde_json::json!({ "email": email, "password": PASSWORD }))
            .send()
            .await?;
        if response.status() != StatusCode::OK {
            bail!("login as {email} answered {}", response.status());
        }
        let cookie = response
            .headers()
            .get("set-cookie")
            .context("login set no cookie")?
            .to_str()?
            .split(';')
            .next()
            .unwrap_or_default()
            .to_owned();
        Ok(Client {
            base: stack.url.clone(),
            http,
            cookie,
        })
    }

    /// GETs `path` (relative to the catalog) with the session; the status and the body.
    pub async fn get(&self, path: &str) -> anyhow::Result<(StatusCode, String)> {
        let response = self
            .http
            .get(self.url(path))
            .header("cookie", &self.cookie)
            .send()
            .await?;
        Ok((response.status(), response.text().await?))
    }

    /// POSTs `body` as `content_type` with the session; the status and the body.
    pub async fn post_bytes(
        &self,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> anyhow::Result<(StatusCode, String)> {
        let response = self
            .http
            .post(self.url(path))
            .header("cookie", &self.cookie)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await?;
        Ok((response.status(), response.text().await?))
    }

    /// Uploads `bytes` as the file `file_name` to `course` (`multipart/form-data`, as a
    /// browser's form sends it); the status and the answer.
    pub async fn upload(
        &self,
        course: &str,
        file_name: &str,
        bytes: &[u8],
    ) -> anyhow::Result<(StatusCode, String)> {
        const BOUNDARY: &str = "lectern-upload-test";
        let mut body = format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
        self.post_bytes(
            &format!("/api/v1/courses/{course}/uploads"),
            &format!("multipart/form-data; boundary={BOUNDARY}"),
            body,
        )
        .await
    }

    /// Uploads the file at `path` to `course`; the id of the lecture it becomes.
    pub async fn upload_file(
        &self,
        course: &str,
        path: &std::path::Path,
    ) -> anyhow::Result<String> {
        let name = path
            .file_name()
            .context("a file name")?
            .to_string_lossy()
            .into_owned();
        let (status, body) = self.upload(course, &name, &std::fs::read(path)?).await?;
        if status != StatusCode::CREATED {
            bail!("uploading {name} answered {status}: {body}");
        }
        let answer: Value = serde_json::from_str(&body)?;
        Ok(answer["lecture_id"]
            .as_str()
            .context("a lecture id")?
            .to_owned())
    }

    /// The id of the first course the person sees (the demo course).
    pub async fn first_course(&self) -> anyhow::Result<String> {
        let courses = self.json("/api/v1/courses").await?;
        Ok(courses[0]["id"].as_str().context("a course")?.to_owned())
    }

    /// GETs JSON, failing unless the answer is 200.
    pub async fn json(&self, path: &str) -> anyhow::Result<Value> {
        let (status, body) = self.get(path).await?;
        if status != StatusCode::OK {
            bail!("GET {path} answered {status}: {body}");
        }
        Ok(serde_json::from_str(&body)?)
    }

    /// `path` as an absolute URL of the catalog.
    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        }
    }

    /// Waits until the lecture reaches `state`, polling its API (the answer a player sees),
    /// for at most `timeout`.
    pub async fn wait_for_state(
        &self,
        lecture: &str,
        state: &str,
        timeout: Duration,
    ) -> anyhow::Result<Value> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let body = self.json(&format!("/api/v1/lectures/{lecture}")).await?;
            if body["state"] == state {
                return Ok(body);
            }
            if tokio::time::Instant::now() > deadline {
                bail!("lecture {lecture} did not become {state} within {timeout:?}: {body}");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}
