//! Requests per second of authorised, token-rewritten media playlists from the catalog,
//! next to nginx serving the very same bytes as static files, both loaded by `wrk` with the
//! same script over the same paths.

use anyhow::{bail, Context};
use bytes::Bytes;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::api::Api;
use crate::shape::Shape;

/// One media playlist as a viewer fetches it.
pub struct Playlist {
    /// `/media/<lecture>/<track>/<rung>/index.m3u8?token=…`
    pub uri: String,
    /// The body the catalog served for `uri`.
    pub body: Bytes,
}

impl Playlist {
    /// `uri` without its query: where nginx finds the same bytes.
    pub fn file(&self) -> &str {
        self.uri.split_once('?').map_or(&self.uri, |(path, _)| path)
    }
}

/// Walks the viewer's path for each playlist lecture: playback (enrolment checked, token
/// handed out), the master playlist, then its first media playlist, which must list the
/// lecture's segments.
pub async fn fetch(api: &Api, shape: &Shape, cookies: &[String]) -> anyhow::Result<Vec<Playlist>> {
    let mut playlists = Vec::new();
    for picked in &shape.playlist_lectures {
        let lecture = &shape.lectures[picked.lecture as usize];
        let cookie = Some(cookies[picked.student].as_str());
        let playback = api
            .get_ok(&format!("/api/v1/lectures/{}/playback", lecture.id), cookie)
            .await?;
        let playback: serde_json::Value = serde_json::from_slice(&playback)?;
        let master = playback["master"]
            .as_str()
            .context("playback without a master URL")?;
        let master_body = api.get_ok(master, None).await?;
        let media = String::from_utf8_lossy(&master_body)
            .lines()
            .find(|line| !line.is_empty() && !line.starts_with('#'))
            .with_context(|| format!("{master} lists no media playlist"))?
            .to_owned();
        let uri = format!("/media/{}/{media}", lecture.id);
        if !uri
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
        {
            bail!("unexpected characters in the media playlist URI {uri:?}");
        }
        let body = api.get_ok(&uri, None).await?;
        let segments = String::from_utf8_lossy(&body).matches("#EXTINF").count();
        if segments != lecture.segments as usize {
            bail!(
                "{uri} lists {segments} segments, {} expected",
                lecture.segments
            );
        }
        playlists.push(Playlist { uri, body });
    }
    if playlists.is_empty() {
        bail!("no playlist lectures to load (see --playlists)");
    }
    Ok(playlists)
}

/// How `wrk` loads a server.
#[derive(Debug, Clone)]
pub struct Load {
    pub threads: u32,
    pub connections: u32,
    pub seconds: u32,
}

/// Writes the wrk script that requests the playlists' URIs in turn; returns its path.
pub fn wrk_script(dir: &Path, playlists: &[Playlist]) -> anyhow::Result<PathBuf> {
    let mut lua = String::from("local uris = {\n");
    for p in playlists {
        writeln!(lua, "  \"{}\",", p.uri)?;
    }
    lua.push_str(
        "}\nlocal i = 0\nrequest = function()\n  i = i % #uris + 1\n  \
         return wrk.format(\"GET\", uris[i])\nend\n",
    );
    let path = dir.join("playlists.lua");
    std::fs::write(&path, lua)?;
    Ok(path)
}

/// Requests per second that `base` sustained under `wrk` with `script`, after a short
/// untimed warm-up. Any answer but 2xx/3xx is an error: the figure would be meaningless.
pub fn requests_per_second(base: &str, script: &Path, load: &Load) -> anyhow::Result<f64> {
    run_wrk(base, script, load, 2)?;
    run_wrk(base, script, load, load.seconds)
}

fn run_wrk(base: &str, script: &Path, load: &Load, seconds: u32) -> anyhow::Result<f64> {
    let output = Command::new("wrk")
        .arg(format!("-t{}", load.threads))
        .arg(format!("-c{}", load.connections))
        .arg(format!("-d{seconds}s"))
        .arg("-s")
        .arg(script)
        .arg(base)
        .output()
        .context("running wrk (apt-get install wrk, or catalog/bench/catalog.sh)")?;
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "wrk failed ({}): {text}{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    if let Some(line) = text.lines().find(|l| l.contains("Non-2xx or 3xx")) {
        bail!("wrk against {base}: {}\n{text}", line.trim());
    }
    if let Some(line) = text.lines().find(|l| l.contains("Socket errors")) {
        eprintln!("  wrk against {base}: {}", line.trim());
    }
    text.lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|n| n.trim().parse().ok())
        .with_context(|| format!("no Requests/sec in wrk's output:\n{text}"))
}
