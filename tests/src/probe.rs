//! ffprobe and ffmpeg as independent players of what Lectern produces.

use anyhow::{bail, Context};
use std::path::Path;
use std::process::Command;

fn run(program: &str, args: &[&str]) -> anyhow::Result<std::process::Output> {
    Command::new(program).args(args).output().with_context(|| {
        format!("could not run {program}: install the Debian package ffmpeg (./lectern setup does)")
    })
}

/// Runs ffmpeg with `args` (quietly, overwriting), failing with what it said.
pub fn ffmpeg(args: &[&str]) -> anyhow::Result<()> {
    let out = run(
        "ffmpeg",
        &[&["-v", "error", "-nostdin", "-y"], args].concat(),
    )?;
    if !out.status.success() {
        bail!("ffmpeg {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(())
}

/// Writes `seconds` of a test picture of `size` (`1280x720`) at 25 fps and a tone to `path`,
/// as H.264 and AAC in MP4: what a person uploads.
pub fn test_lecture(path: &Path, seconds: f64, size: &str) -> anyhow::Result<()> {
    let picture = format!("testsrc=size={size}:rate=25");
    let seconds = seconds.to_string();
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        &picture,
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=48000",
        "-t",
        &seconds,
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        &path.to_string_lossy(),
    ])
}

/// Decodes everything at `url` and returns what ffmpeg complained about (empty when clean).
pub fn decode_errors(url: &str) -> anyhow::Result<String> {
    let out = run(
        "ffmpeg",
        &["-v", "error", "-nostdin", "-i", url, "-f", "null", "-"],
    )?;
    let mut errors = String::from_utf8_lossy(&out.stderr).into_owned();
    if !out.status.success() && errors.is_empty() {
        errors = format!("ffmpeg exited with {}", out.status);
    }
    Ok(errors)
}

/// What ffprobe reads of the picture at `url`: its codec, width and height.
pub fn picture(url: &str) -> anyhow::Result<(String, u32, u32)> {
    let out = run(
        "ffprobe",
        &[
            "-v",
            "error",
            "-show_entries",
            "stream=codec_name,width,height",
            "-of",
            "csv=p=0",
            url,
        ],
    )?;
    let text = String::from_utf8_lossy(&out.stdout);
    let fields: Vec<&str> = text.trim().split(',').collect();
    match fields.as_slice() {
        [codec, width, height] => Ok(((*codec).to_owned(), width.parse()?, height.parse()?)),
        _ => bail!(
            "ffprobe read no picture at {url}: {text:?} {}",
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

/// The media duration ffprobe reads at `url`, in seconds.
pub fn duration(url: &str) -> anyhow::Result<f64> {
    let out = run(
        "ffprobe",
        &[
            "-v",
            "error",
            "-show_entries",
            "format=duration",
            "-of",
            "csv=p=0",
            url,
        ],
    )?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.trim()
        .parse()
        .with_context(|| format!("ffprobe gave no duration for {url}: {text:?}"))
}

/// The presentation time of the first video packet at `url`, and whether it is a keyframe.
pub fn first_video_packet(url: &str) -> anyhow::Result<(f64, bool)> {
    let out = run(
        "ffprobe",
        &[
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-read_intervals",
            "%+#1",
            "-show_entries",
            "packet=pts_time,flags",
            "-of",
            "csv=p=0",
            url,
        ],
    )?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().next().unwrap_or_default();
    let Some((pts, flags)) = line.split_once(',') else {
        bail!("ffprobe found no video packet in {url}: {text:?}");
    };
    Ok((
        pts.parse().with_context(|| format!("bad pts {pts:?}"))?,
        flags.starts_with('K'),
    ))
}

/// A stream ffprobe finds at a URL.
#[derive(Debug, Clone, PartialEq)]
pub struct Stream {
    /// `video` or `audio`.
    pub kind: String,
    pub codec: String,
    pub width: u32,
    pub height: u32,
}

/// The streams ffprobe finds at `url` (a file, a media playlist), once each.
pub fn streams(url: &str) -> anyhow::Result<Vec<Stream>> {
    let out = run(
        "ffprobe",
        &[
            "-v",
            "error",
            "-show_entries",
            "stream=codec_type,codec_name,width,height",
            "-of",
            "json",
            url,
        ],
    )?;
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)
        .with_context(|| format!("ffprobe gave no JSON for {url}"))?;
    let text = |s: &serde_json::Value, key: &str| s[key].as_str().unwrap_or_default().to_owned();
    let number = |s: &serde_json::Value, key: &str| s[key].as_u64().unwrap_or(0) as u32;
    let mut found: Vec<Stream> = Vec::new();
    for s in json["streams"].as_array().into_iter().flatten() {
        let stream = Stream {
            kind: text(s, "codec_type"),
            codec: text(s, "codec_name"),
            width: number(s, "width"),
            height: number(s, "height"),
        };
        if !found.contains(&stream) {
            found.push(stream);
        }
    }
    Ok(found)
}

/// Of the first ten pictures at `url`, how many are coded as interlaced (two fields).
pub fn interlaced_pictures(url: &str) -> anyhow::Result<usize> {
    let out = run(
        "ffprobe",
        &[
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-read_intervals",
            "%+#10",
            "-show_entries",
            "frame=interlaced_frame",
            "-of",
            "csv=p=0",
            url,
        ],
    )?;
    let text = String::from_utf8_lossy(&out.stdout);
    let flags: Vec<char> = text
        .lines()
        .filter_map(|line| line.trim().chars().next())
        .collect();
    if flags.is_empty() {
        bail!("ffprobe found no picture at {url}");
    }
    Ok(flags.iter().filter(|c| **c == '1').count())
}

/// The first picture at `url` as `width`x`height` grey pixels, as ffmpeg shows it (turned
/// upright by its rotation metadata), after the ffmpeg filters `filter` (e.g. `vflip`).
pub fn grey_picture(
    url: &str,
    width: u32,
    height: u32,
    filter: Option<&str>,
) -> anyhow::Result<Vec<u8>> {
    let mut filters = format!("scale={width}:{height}");
    if let Some(filter) = filter {
        filters = format!("{filters},{filter}");
    }
    let out = run(
        "ffmpeg",
        &[
            "-v",
            "error",
            "-nostdin",
            "-i",
            url,
            "-frames:v",
            "1",
            "-vf",
            &filters,
            "-f",
            "rawvideo",
            "-pix_fmt",
            "gray",
            "-",
        ],
    )?;
    let expected = (width * height) as usize;
    if out.stdout.len() != expected {
        bail!(
            "ffmpeg gave {} bytes of picture for {url}, not {expected}: {}",
            out.stdout.len(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(out.stdout)
}

/// The mean absolute difference of two grey pictures of one size (0 alike, 255 opposite).
pub fn difference(a: &[u8], b: &[u8]) -> f64 {
    let total: u64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| u64::from(x.abs_diff(*y)))
        .sum();
    total as f64 / a.len().max(1) as f64
}
