//! Uploaded files become lectures through real GStreamer: files of each container and codec
//! are generated with ffmpeg, uploaded through the API, encoded by the worker's job loop and
//! played back with ffprobe; an empty file is refused at upload, and a truncated MP4 and an
//! image with a video extension fail their job with a message a person understands.

use anyhow::{bail, Context};
use lectern_tests::{probe, Client, Stack};
use reqwest::StatusCode;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;

const INSTRUCTOR: &str = "instructor@demo.lectern.test";
/// Each generated file's length: short, to keep the test quick on two cores.
const SECONDS: f64 = 4.0;
/// How long one upload may take to be encoded (they queue behind each other).
const JOB_DEADLINE: Duration = Duration::from_secs(120);

/// A file to generate: its name and ffmpeg's output arguments.
struct Sample {
    name: &'static str,
    args: &'static [&'static str],
}

const VIDEO: &str = "testsrc=size=320x240:rate=25";
const AUDIO: &str = "sine=frequency=440:sample_rate=48000";

const GOOD: &[Sample] = &[
    Sample {
        name: "h264-aac.mp4",
        args: &[
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
        ],
    },
    Sample {
        name: "vp9-opus.mkv",
        args: &[
            "-c:v",
            "libvpx-vp9",
            "-deadline",
            "realtime",
            "-cpu-used",
            "8",
            "-c:a",
            "libopus",
        ],
    },
    Sample {
        name: "vp8-vorbis.webm",
        args: &[
            "-c:v",
            "libvpx",
            "-deadline",
            "realtime",
            "-cpu-used",
            "8",
            "-c:a",
            "libvorbis",
        ],
    },
    Sample {
        name: "h264-aac.mov",
        args: &[
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
        ],
    },
    Sample {
        name: "mpeg2-mp2.ts",
        args: &["-c:v", "mpeg2video", "-c:a", "mp2"],
    },
    Sample {
        name: "hevc-aac.mp4",
        args: &[
            "-c:v",
            "libx265",
            "-preset",
            "ultrafast",
            "-tag:v",
            "hvc1",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
        ],
    },
];

/// Generates `sample` (SECONDS of a test picture and a tone) in `dir`.
fn generate(dir: &Path, sample: &Sample) -> anyhow::Result<PathBuf> {
    let path = dir.join(sample.name);
    let seconds = SECONDS.to_string();
    let mut args = vec![
        "-f", "lavfi", "-i", VIDEO, "-f", "lavfi", "-i", AUDIO, "-t", &seconds,
    ];
    args.extend_from_slice(sample.args);
    let out = path.to_string_lossy().into_owned();
    args.push(&out);
    probe::ffmpeg(&args)?;
    Ok(path)
}

/// Waits until the lecture is `ready` or `failed` (polling with a deadline); its body.
async fn settled(client: &Client, lecture: &str) -> anyhow::Result<Value> {
    let deadline = tokio::time::Instant::now() + JOB_DEADLINE;
    loop {
        let body = client.json(&format!("/api/v1/lectures/{lecture}")).await?;
        if body["state"] == "ready" || body["state"] == "failed" {
            return Ok(body);
        }
        if tokio::time::Instant::now() > deadline {
            let jobs = client
                .json(&format!("/api/v1/lectures/{lecture}/jobs"))
                .await?;
            bail!("lecture {lecture} did not settle within {JOB_DEADLINE:?}: {body} {jobs}");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploaded_files_of_every_container_play_and_bad_files_fail_clearly() -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let stack = Stack::start_with(|worker| {
        // One small rung: the test is about containers and codecs, not the ladder.
        worker.ladder.retain(|rung| rung.name == "360p");
    })
    .await?;
    let dir = tempfile::tempdir()?;
    let instructor = Client::login(&stack, INSTRUCTOR).await?;
    let courses = instructor.json("/api/v1/courses").await?;
    let course = courses[0]["id"]
        .as_str()
        .context("the demo course")?
        .to_owned();

    // Bad files first: an empty file is refused at once, nothing queued.
    let (status, body) = instructor.upload(&course, "empty.mp4", b"").await?;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.contains("empty"), "{body}");

    let whole = generate(dir.path(), &GOOD[0])?;
    let bytes = std::fs::read(&whole)?;
    let truncated = dir.path().join("truncated.mp4");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2])?;
    let image = dir.path().join("slide.mp4");
    probe::ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=320x240",
        "-frames:v",
        "1",
        "-f",
        "image2",
        "-c:v",
        "png",
        &image.to_string_lossy(),
    ])?;

    let mut bad = Vec::new();
    for path in [&truncated, &image] {
        bad.push((path.clone(), instructor.upload_file(&course, path).await?));
    }
    let mut good = vec![(
        whole.clone(),
        instructor.upload_file(&course, &whole).await?,
    )];
    for sample in &GOOD[1..] {
        let path = generate(dir.path(), sample)?;
        good.push((path.clone(), instructor.upload_file(&course, &path).await?));
    }
    eprintln!(
        "generated and uploaded {} files in {:?}",
        good.len() + bad.len(),
        started.elapsed()
    );

    for (path, lecture) in &bad {
        let body = settled(&instructor, lecture).await?;
        assert_eq!(body["state"], "failed", "{}: {body}", path.display());
        let error = body["error"].as_str().unwrap_or_default();
        assert!(
            error.contains("not a video or audio file") || error.contains("still image"),
            "{}: the error should say what is wrong with the file: {error:?}",
            path.display()
        );
        eprintln!("{} failed: {error}", path.display());
    }

    let mut wrong = Vec::new();
    for (path, lecture) in &good {
        let body = settled(&instructor, lecture).await?;
        if body["state"] != "ready" {
            let jobs = instructor
                .json(&format!("/api/v1/lectures/{lecture}/jobs"))
                .await?;
            wrong.push(format!("{}: {body} {jobs}", path.display()));
            continue;
        }
        let playback = instructor
            .json(&format!("/api/v1/lectures/{lecture}/playback"))
            .await?;
        let master = instructor.url(playback["master"].as_str().context("a master")?);
        let duration = probe::duration(&master)?;
        if (duration - SECONDS).abs() > 0.5 {
            wrong.push(format!(
                "{}: plays {duration} s, not {SECONDS} ± 0.5 s",
                path.display()
            ));
        }
        let jobs = instructor
            .json(&format!("/api/v1/lectures/{lecture}/jobs"))
            .await?;
        assert_eq!(jobs[0]["state"], "done", "{jobs}");
        assert_eq!(jobs[0]["progress"], 1.0, "{jobs}");
        eprintln!("{} plays {duration:.2} s", path.display());
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    eprintln!("all uploads settled in {:?}", started.elapsed());
    stack.stop().await
}
