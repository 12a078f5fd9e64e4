//! Uploaded files become lectures through real GStreamer: files of each container and codec
//! are generated with ffmpeg, uploaded through the API, encoded by the worker's job loop and
//! played back with ffprobe; an empty file is refused at upload, and a truncated MP4 and an
//! image with a video extension fail their job with a message a person understands. A
//! lecture-like upload gets a poster, timeline thumbnails and chapters at its slide changes.

use anyhow::{bail, Context};
use lectern_packager::{keys, vtt};
use lectern_tests::{probe, Client, Stack, OUTSIDER};
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

/// The cues of the WebVTT file at `url` (a catalog path with its token).
async fn webvtt(client: &Client, url: &str) -> anyhow::Result<Vec<vtt::Cue>> {
    let (status, text) = client.get(url).await?;
    if status != StatusCode::OK {
        bail!("GET {url} answered {status}: {text}");
    }
    vtt::parse(&text).with_context(|| format!("{url} is not WebVTT: {text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_uploaded_lecture_gets_a_poster_timeline_thumbnails_and_chapters_at_its_slides(
) -> anyhow::Result<()> {
    let stack = Stack::start_with(|worker| {
        worker.ladder.retain(|rung| rung.name == "360p");
    })
    .await?;
    let dir = tempfile::tempdir()?;
    let seconds = 60.0;
    let changes = [17.0, 33.0, 46.0];
    let video = dir.path().join("lecture.mp4");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../transcode/tests/slides-video.sh");
    let made = std::process::Command::new("bash")
        .arg(&script)
        .arg(&video)
        .args(["60", "1", "17", "33", "46"])
        .output()
        .context("running slides-video.sh")?;
    if !made.status.success() {
        bail!("slides-video.sh: {}", String::from_utf8_lossy(&made.stderr));
    }

    let instructor = Client::login(&stack, INSTRUCTOR).await?;
    let courses = instructor.json("/api/v1/courses").await?;
    let course = courses[0]["id"]
        .as_str()
        .context("the demo course")?
        .to_owned();
    let lecture = instructor.upload_file(&course, &video).await?;
    let body = settled(&instructor, &lecture).await?;
    assert_eq!(body["state"], "ready", "{body}");
    let playback = instructor
        .json(&format!("/api/v1/lectures/{lecture}/playback"))
        .await?;

    // The poster: a JPEG ffprobe decodes, 640 wide and shaped as the 1280 × 720 video.
    let poster = playback["poster"].as_str().context("a poster")?;
    assert_eq!(
        body["poster"].as_str().map(|p| p.split('?').next()),
        Some(poster.split('?').next())
    );
    let (codec, width, height) = probe::picture(&instructor.url(poster))?;
    assert_eq!((codec.as_str(), width, height), ("mjpeg", 640, 360));

    // The timeline thumbnails cover the whole lecture, and every sheet they name is there.
    let thumbnails = playback["thumbnails"].as_str().context("thumbnails")?;
    let base = thumbnails.rsplit_once('/').context("a path")?.0;
    let cues = webvtt(&instructor, thumbnails).await?;
    assert_eq!(cues[0].start, 0.0);
    assert!(cues.windows(2).all(|w| w[0].end == w[1].start), "{cues:?}");
    let end = cues.last().context("a cue")?.end;
    assert!(
        end >= seconds - 0.1,
        "the thumbnails end at {end} s of {seconds}"
    );
    let mut sheets: Vec<&str> = cues
        .iter()
        .map(|c| c.text.split('#').next().unwrap_or_default())
        .collect();
    sheets.dedup();
    for sheet in sheets {
        let (name, query) = sheet.split_once('?').context("a sheet URI with a query")?;
        let index = keys::parse_sprite_name(name).context("a sprite sheet's name")?;
        assert!(
            query.starts_with("token="),
            "{sheet} carries the viewer's token"
        );
        let (codec, width, _) = probe::picture(&instructor.url(&format!("{base}/{sheet}")))?;
        assert_eq!((codec.as_str(), width), ("mjpeg", 1600), "sheet {index}");
    }

    // A chapter per slide, each starting within one sample (5 s) after its slide appeared.
    let chapters = webvtt(
        &instructor,
        playback["chapters"].as_str().context("chapters")?,
    )
    .await?;
    let titles: Vec<&str> = chapters.iter().map(|c| c.text.as_str()).collect();
    assert_eq!(titles, ["Slide 1", "Slide 2", "Slide 3", "Slide 4"]);
    for (chapter, truth) in chapters[1..].iter().zip(changes) {
        let late = chapter.start - truth;
        assert!(
            (0.0..5.0).contains(&late),
            "the slide from {truth} s was found at {} s",
            chapter.start
        );
    }

    // The pictures are the lecture's viewers' only: not without the token, not to outsiders.
    let bare = poster.split('?').next().unwrap_or_default();
    assert_eq!(instructor.get(bare).await?.0, StatusCode::NOT_FOUND);
    let outsider = Client::login(&stack, OUTSIDER).await?;
    let (status, _) = outsider
        .get(&format!("/api/v1/lectures/{lecture}/playback"))
        .await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    stack.stop().await
}
