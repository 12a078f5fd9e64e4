//! The anchor: Debian's nginx serving the playlists as static files from a temporary
//! directory on a free loopback port, with a configuration of its own (nothing in
//! /etc/nginx is read or touched). Stopped when dropped.

use anyhow::{bail, Context};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tempfile::TempDir;

use crate::playlists::Playlist;

const START_TIMEOUT: Duration = Duration::from_secs(10);

pub struct Nginx {
    pub base: String,
    server: Child,
    dir: TempDir,
}

impl Nginx {
    /// Writes each playlist's body where its URI's path points and starts nginx on it.
    pub fn start(playlists: &[Playlist]) -> anyhow::Result<Nginx> {
        let binary = ["/usr/sbin/nginx", "/usr/local/sbin/nginx"]
            .into_iter()
            .find(|p| Path::new(p).is_file())
            .context(
                "nginx is not installed (apt-get install nginx-light, or catalog/bench/catalog.sh)",
            )?;
        let dir = tempfile::Builder::new()
            .prefix("lectern-nginx-")
            .tempdir()?;
        let root = dir.path().join("root");
        for playlist in playlists {
            let file = root.join(playlist.file().trim_start_matches('/'));
            fs::create_dir_all(file.parent().context("a playlist path has a parent")?)?;
            fs::write(&file, &playlist.body)?;
        }
        // Under root, nginx's workers run as nobody: they must be able to read the files.
        for entry in walk(dir.path())? {
            let mode = if entry.is_dir() { 0o755 } else { 0o644 };
            fs::set_permissions(&entry, fs::Permissions::from_mode(mode))?;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let conf = dir.path().join("nginx.conf");
        fs::write(&conf, config(dir.path(), port))?;
        let server = Command::new(binary)
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(&conf)
            .arg("-e")
            .arg(dir.path().join("error.log"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting nginx")?;
        let mut nginx = Nginx {
            base: format!("http://127.0.0.1:{port}"),
            server,
            dir,
        };
        nginx.wait_until_listening(port)?;
        Ok(nginx)
    }

    fn wait_until_listening(&mut self, port: u16) -> anyhow::Result<()> {
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = self.server.try_wait()? {
                let log = fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default();
                bail!("nginx exited ({status}):\n{log}");
            }
            if started.elapsed() > START_TIMEOUT {
                bail!("nginx did not listen on port {port} within {START_TIMEOUT:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGQUIT: the master lets its workers finish and exits with them.
        let _ = Command::new("kill")
            .arg("-QUIT")
            .arg(self.server.id().to_string())
            .status();
        let started = Instant::now();
        while matches!(self.server.try_wait(), Ok(None)) && started.elapsed() < START_TIMEOUT {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

/// A static-file server tuned as one would for HLS playlists: no access log, sendfile,
/// long keep-alive, as many workers as cores.
fn config(dir: &Path, port: u16) -> String {
    let d = dir.display();
    format!(
        r#"daemon off;
worker_processes auto;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    types {{ application/vnd.apple.mpegurl m3u8; }}
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {d}/root;
        add_header Cache-Control no-store;
    }}
}}
"#
    )
}

/// `dir` and everything below it.
fn walk(dir: &Path) -> anyhow::Result<Vec<std::path::PathBuf>> {
    let mut all = vec![dir.to_owned()];
    let mut i = 0;
    while i < all.len() {
        if all[i].is_dir() {
            for entry in fs::read_dir(&all[i])? {
                all.push(entry?.path());
            }
        }
        i += 1;
    }
    Ok(all)
}
