//! A throwaway PostgreSQL cluster started from the installed server binaries (design: "How
//! we test"). Shared by the API tests (`tests/api/pg_cluster.rs`, one cluster per test
//! binary) and the catalog benchmark (`examples/catalog-bench`), which include this file.
//!
//! - Binaries: `initdb` and `postgres` from `$LECTERN_TEST_PG_BIN`, `PATH`, `/usr/local/bin`
//!   or `/usr/lib/postgresql/<version>/bin` (newest first). None is an error that names the
//!   Debian package.
//! - Files: a temporary directory holding `data/`, the unix socket directory `socket/` and
//!   `postgres.log`. The server listens on a free loopback port too, and trusts local
//!   connections: it lives only as long as its [`Cluster`].
//! - Root: PostgreSQL refuses to run as root, so under root (CI) `initdb` and `postgres` run
//!   as the `postgres` user that Debian's package creates (or `nobody`).
//! - Stopping: a watchdog (`sh`) waits for end-of-file on a pipe whose only writer is the
//!   [`Cluster`]. When it is dropped, or the process exits however it exits (even killed;
//!   Rust never drops statics), the pipe closes and the watchdog stops the server and removes
//!   the directory. Server and watchdog have their own process group, so a Ctrl-C meant for
//!   the process reaches them only through this path.

use sqlx::{Connection, Executor, PgConnection};
use std::fs;
use std::net::TcpListener;
use std::os::unix::fs::{chown, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The Debian package that provides `initdb` and `postgres`.
const DEBIAN_PACKAGE: &str = "postgresql";
/// The superuser `initdb` creates; it connects without a password (`--auth=trust`).
const SUPERUSER: &str = "lectern";
/// How long the server may take to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Stops the server and removes its directory once stdin reaches end-of-file. `$1` is the
/// server's pid, `$2` the cluster's directory. SIGINT is PostgreSQL's fast shutdown; the
/// server removes `postmaster.pid` when it is done.
const WATCHDOG: &str = r#"
trap '' INT TERM HUP
while read -r _; do :; done
kill -INT "$1" 2>/dev/null
i=0
while [ -e "$2/data/postmaster.pid" ] && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
kill -KILL "$1" 2>/dev/null
rm -rf "$2"
"#;

/// A running cluster; dropping it stops the server and removes its files.
pub struct Cluster {
    port: u16,
    /// The server, kept so it is not reaped by anyone else.
    _server: Mutex<Child>,
    /// The write end of the watchdog's pipe: closing it stops the server.
    _watchdog: Mutex<ChildStdin>,
}

impl Cluster {
    fn url(&self, database: &str) -> String {
        format!("postgres://{SUPERUSER}@127.0.0.1:{}/{database}", self.port)
    }

    /// Creates the empty database `name` and returns its URL.
    pub async fn create_database(&self, name: &str) -> Result<String, String> {
        let mut admin = PgConnection::connect(&self.url("postgres"))
            .await
            .map_err(|e| format!("connecting to the cluster: {e}"))?;
        admin
            .execute(format!(r#"CREATE DATABASE "{name}""#).as_str())
            .await
            .map_err(|e| format!("creating database {name}: {e}"))?;
        admin.close().await.ok();
        Ok(self.url(name))
    }

    /// initdb, start, wait until ready. Errors are whole messages (a test's failure, the
    /// benchmark's error).
    pub fn start() -> Result<Cluster, String> {
        let bin = find_binaries()?;
        let user = server_user()?;
        let dir = tempfile::Builder::new()
            .prefix("lectern-pg-")
            .tempdir()
            .map_err(|e| format!("creating the cluster's directory: {e}"))?
            .keep();
        let socket = dir.join("socket");
        fs::create_dir(&socket).map_err(|e| format!("creating {}: {e}", socket.display()))?;
        for path in [&dir, &socket] {
            fs::set_permissions(path, fs::Permissions::from_mode(0o700))
                .and_then(|()| match user {
                    Some((uid, gid)) => chown(path, Some(uid), Some(gid)),
                    None => Ok(()),
                })
                .map_err(|e| format!("preparing {}: {e}", path.display()))?;
        }
        let data = dir.join("data");

        let mut initdb = as_user(Command::new(bin.join("initdb")), user);
        initdb
            .arg("--pgdata")
            .arg(&data)
            .args([
                "--username",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--no-locale",
                "--no-sync",
            ])
            .current_dir(&dir);
        let out = initdb
            .output()
            .map_err(|e| format!("running {}: {e}", bin.join("initdb").display()))?;
        if !out.status.success() {
            return Err(format!(
                "initdb failed ({}):\n{}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }

        let port = free_port()?;
        let log_path = dir.join("postgres.log");
        let log = fs::File::create(&log_path).map_err(|e| format!("creating the log: {e}"))?;
        let log_err = log.try_clone().map_err(|e| format!("the log: {e}"))?;
        let mut postgres = as_user(Command::new(bin.join("postgres")), user);
        postgres
            .arg("-D")
            .arg(&data)
            .arg("-p")
            .arg(port.to_string())
            .arg("-k")
            .arg(&socket)
            // Speed over durability: the cluster is thrown away after the run.
            .args(["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"])
            .args(["-c", "synchronous_commit=off", "-c", "full_page_writes=off"])
            .args(["-c", "max_connections=200"])
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .process_group(0);
        let mut server = postgres
            .spawn()
            .map_err(|e| format!("running {}: {e}", bin.join("postgres").display()))?;

        let mut watchdog = Command::new("sh")
            .args(["-c", WATCHDOG, "lectern-pg-watchdog"])
            .arg(server.id().to_string())
            .arg(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .map_err(|e| format!("starting the cluster's watchdog (sh): {e}"))?;
        let pipe = watchdog.stdin.take().expect("piped stdin");

        wait_until_ready(&mut server, &data, &log_path)?;
        Ok(Cluster {
            port,
            _server: Mutex::new(server),
            _watchdog: Mutex::new(pipe),
        })
    }
}

/// The directory holding both `initdb` and `postgres`.
fn find_binaries() -> Result<PathBuf, String> {
    let mut candidates: Vec<PathBuf> = std::env::var_os("LECTERN_TEST_PG_BIN")
        .map(PathBuf::from)
        .into_iter()
        .collect();
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&path));
    }
    candidates.push("/usr/local/bin".into());
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .collect();
    versions.sort_by_key(|(version, _)| std::cmp::Reverse(*version));
    candidates.extend(versions.into_iter().map(|(_, bin)| bin));
    candidates
        .into_iter()
        .find(|dir| dir.join("initdb").is_file() && dir.join("postgres").is_file())
        .ok_or_else(|| {
            format!(
                "the catalog's PostgreSQL tests and benchmark need the server binaries initdb and postgres, found in \
                 neither $LECTERN_TEST_PG_BIN, PATH, /usr/local/bin nor \
                 /usr/lib/postgresql/<version>/bin: install the Debian package \
                 `{DEBIAN_PACKAGE}` (apt-get install {DEBIAN_PACKAGE}, or ./lectern setup)"
            )
        })
}

/// `Some((uid, gid))` of the user to run the server as when this process is root (the
/// server refuses root), `None` when it can run as ourselves.
fn server_user() -> Result<Option<(u32, u32)>, String> {
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    let euid = status
        .lines()
        .find_map(|line| line.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        .and_then(|id| id.parse::<u32>().ok());
    if euid != Some(0) {
        return Ok(None);
    }
    let passwd = fs::read_to_string("/etc/passwd").unwrap_or_default();
    for name in ["postgres", "nobody"] {
        let found = passwd.lines().find_map(|line| {
            let fields: Vec<&str> = line.split(':').collect();
            (fields.len() > 3 && fields[0] == name)
                .then(|| Some((fields[2].parse().ok()?, fields[3].parse().ok()?)))
                .flatten()
        });
        if let Some(ids) = found {
            return Ok(Some(ids));
        }
    }
    Err(format!(
        "the tests run as root and PostgreSQL refuses root, but there is neither a `postgres` \
         nor a `nobody` user to run it as: install the Debian package `{DEBIAN_PACKAGE}` \
         (it creates `postgres`)"
    ))
}

fn as_user(mut command: Command, user: Option<(u32, u32)>) -> Command {
    if let Some((uid, gid)) = user {
        // std drops the supplementary groups too when root changes uid.
        command.uid(uid).gid(gid);
    }
    command
}

/// A loopback port nobody listens on right now.
fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .map_err(|e| format!("finding a free port: {e}"))
}

/// Waits until `postmaster.pid` reports `ready` (its 8th line), failing with the server's
/// log when it exits or takes longer than [`START_TIMEOUT`].
fn wait_until_ready(server: &mut Child, data: &Path, log: &Path) -> Result<(), String> {
    let started = Instant::now();
    let log_text = || fs::read_to_string(log).unwrap_or_default();
    loop {
        let status = fs::read_to_string(data.join("postmaster.pid")).unwrap_or_default();
        if status.lines().nth(7).map(str::trim) == Some("ready") {
            return Ok(());
        }
        if let Ok(Some(exit)) = server.try_wait() {
            return Err(format!("postgres exited ({exit}):\n{}", log_text()));
        }
        if started.elapsed() > START_TIMEOUT {
            return Err(format!(
                "postgres did not get ready in {START_TIMEOUT:?}:\n{}",
                log_text()
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
