//! Uploaded files become lectures through real GStreamer: files of every container and codec
//! staff bring (MP4, MOV, MKV, WebM, TS, MP3, M4A, Opus; H.264, HEVC, VP8, VP9, MPEG-2, AAC,
//! Opus, Vorbis, MP3, MP2), sound alone, a picture without sound, a phone video with rotation
//! metadata, interlaced video and odd picture sizes are generated with ffmpeg, uploaded
//! through the API, encoded by the worker's job loop and played back with ffprobe/ffmpeg. An
//! empty file is refused at upload; a file that is not media, an image with a video
//! extension, and MP4s cut short (index at the end, and index first) fail their job on the
//! first attempt with a message a person understands. A lecture-like upload gets a poster,
//! timeline thumbnails and chapters at its slide changes.

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

/// A file to generate: its name, what it holds and ffmpeg's output arguments.
struct Sample {
    name: &'static str,
    /// The test picture's size, `None` for sound alone.
    picture: Option<&'static str>,
    sound: bool,
    args: &'static [&'static str],
    /// Rotation metadata (degrees clockwise) written afterwards, as a phone held upright does.
    rotate: Option<u32>,
}

impl Sample {
    const fn av(name: &'static str, args: &'static [&'static str]) -> Sample {
        Sample {
            name,
            picture: Some("320x240"),
            sound: true,
            args,
            rotate: None,
        }
    }

    /// The picture's size as shown: turned by its rotation.
    fn shown(&self) -> Option<(u32, u32)> {
        let (w, h) = self.picture?.split_once('x')?;
        let (w, h) = (w.parse().ok()?, h.parse().ok()?);
        Some(match self.rotate {
            Some(90 | 270) => (h, w),
            _ => (w, h),
        })
    }

    fn interlaced(&self) -> bool {
        self.args.contains(&"+ilme+ildct")
    }
}

const H264: &[&str] = &[
    "-c:v",
    "libx264",
    "-preset",
    "ultrafast",
    "-pix_fmt",
    "yuv420p",
];
const H264_AAC: &[&str] = &[
    "-c:v",
    "libx264",
    "-preset",
    "ultrafast",
    "-pix_fmt",
    "yuv420p",
    "-c:a",
    "aac",
];
const VP9_OPUS: &[&str] = &[
    "-c:v",
    "libvpx-vp9",
    "-deadline",
    "realtime",
    "-cpu-used",
    "8",
    "-c:a",
    "libopus",
];

const GOOD: &[Sample] = &[
    Sample::av("h264-aac.mp4", H264_AAC),
    Sample::av("vp9-opus.mkv", VP9_OPUS),
    Sample::av(
        "vp8-vorbis.webm",
        &[
            "-c:v",
            "libvpx",
            "-deadline",
            "realtime",
            "-cpu-used",
            "8",
            "-c:a",
            "libvorbis",
        ],
    ),
    Sample::av("h264-aac.mov", H264_AAC),
    Sample::av("mpeg2-mp2.ts", &["-c:v", "mpeg2video", "-c:a", "mp2"]),
    Sample::av(
        "hevc-aac.mp4",
        &[
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
    ),
    // Odd sizes: VP9 takes them as they are; H.264 at a tiny size.
    Sample {
        picture: Some("321x241"),
        ..Sample::av("vp9-opus-odd-size.webm", VP9_OPUS)
    },
    Sample {
        picture: Some("96x64"),
        ..Sample::av("h264-aac-tiny.mp4", H264_AAC)
    },
    // A phone held upright: landscape pixels with rotation metadata.
    Sample {
        rotate: Some(90),
        ..Sample::av("phone-rotated-90.mp4", H264_AAC)
    },
    Sample {
        rotate: Some(270),
        ..Sample::av("phone-rotated-270.mov", H264_AAC)
    },
    // Interlaced (TV, older camcorders), top field first.
    Sample {
        picture: Some("352x288"),
        ..Sample::av(
            "mpeg2-interlaced.ts",
            &[
                "-c:v",
                "mpeg2video",
                "-flags",
                "+ilme+ildct",
                "-top",
                "1",
                "-c:a",
                "mp2",
            ],
        )
    },
    Sample {
        picture: Some("352x288"),
        ..Sample::av(
            "h264-interlaced.ts",
            &[
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-pix_fmt",
                "yuv420p",
                "-flags",
                "+ilme+ildct",
                "-top",
                "1",
                "-c:a",
                "aac",
            ],
        )
    },
    // Sound alone: a podcast-style lecture.
    Sample {
        picture: None,
        ..Sample::av("lecture.mp3", &["-c:a", "libmp3lame"])
    },
    Sample {
        picture: None,
        ..Sample::av("mp2-audio.mp3", &["-c:a", "mp2", "-f", "mp2"])
    },
    Sample {
        picture: None,
        ..Sample::av("aac-audio.m4a", &["-c:a", "aac"])
    },
    Sample {
        picture: None,
        ..Sample::av("opus-audio.opus", &["-c:a", "libopus"])
    },
    // A picture without sound: a screen recording without a microphone.
    Sample {
        sound: false,
        ..Sample::av("screen-no-sound.mp4", H264)
    },
];

const AUDIO: &str = "sine=frequency=440:sample_rate=48000";

/// Generates `sample` (SECONDS of a test picture and/or a tone) in `dir`.
fn generate(dir: &Path, sample: &Sample) -> anyhow::Result<PathBuf> {
    let path = dir.join(sample.name);
    let seconds = SECONDS.to_string();
    let video = sample
        .picture
        .map(|size| format!("testsrc=size={size}:rate=25"));
    let mut args = Vec::new();
    if let Some(video) = &video {
        args.extend(["-f", "lavfi", "-i", video]);
    }
    if sample.sound {
        args.extend(["-f", "lavfi", "-i", AUDIO]);
    }
    args.extend(["-t", &seconds]);
    args.extend_from_slice(sample.args);
    let encoded = match sample.rotate {
        // ffmpeg 5.1 writes rotation metadata only when copying streams.
        Some(_) => dir.join(format!("unrotated-{}", sample.name)),
        None => path.clone(),
    };
    let out = encoded.to_string_lossy().into_owned();
    args.push(&out);
    probe::ffmpeg(&args)?;
    if let Some(degrees) = sample.rotate {
        probe::ffmpeg(&[
            "-i",
            &out,
            "-c",
            "copy",
            "-metadata:s:v:0",
            &format!("rotate={degrees}"),
            &path.to_string_lossy(),
        ])?;
    }
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

/// The bad files: what each is, and a phrase its lecture's error must hold.
fn bad_files(dir: &Path) -> anyhow::Result<Vec<(PathBuf, &'static str)>> {
    let mut bad = Vec::new();
    // An MP4 as ffmpeg and phones write it (its index at the end), cut in half.
    let whole = generate(dir, &GOOD[0])?;
    let bytes = std::fs::read(&whole)?;
    let truncated = dir.join("truncated.mp4");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2])?;
    bad.push((truncated, "not a video or audio file"));
    // An MP4 made for the web (its index first), cut in half: it opens, and ends early.
    let web = dir.join("web.mp4");
    let web_path = web.to_string_lossy();
    let inputs = [
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=320x240:rate=25",
        "-f",
        "lavfi",
        "-i",
        AUDIO,
        "-t",
        "12",
    ];
    let output = ["-movflags", "+faststart", &web_path];
    probe::ffmpeg(&[&inputs[..], H264_AAC, &output[..]].concat())?;
    let bytes = std::fs::read(&web)?;
    let cut = dir.join("web-cut-short.mp4");
    std::fs::write(&cut, &bytes[..bytes.len() / 2])?;
    bad.push((cut, "cut short"));
    // A slide saved as a picture, with a video's extension.
    let image = dir.join("slide.mp4");
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
    bad.push((image, "still image"));
    // Not media at all.
    let notes = dir.join("notes.mov");
    std::fs::write(&notes, "Lecture 4: bring the slides.\n".repeat(100))?;
    bad.push((notes, "not a video or audio file"));
    Ok(bad)
}

/// What is wrong with how `lecture`, made of `sample`, plays (empty when nothing).
async fn check_plays(
    client: &Client,
    lecture: &str,
    sample: &Sample,
    source: &Path,
) -> anyhow::Result<Vec<String>> {
    let mut wrong = Vec::new();
    let playback = client
        .json(&format!("/api/v1/lectures/{lecture}/playback"))
        .await?;
    let master = client.url(playback["master"].as_str().context("a master")?);
    let errors = probe::decode_errors(&master)?;
    if !errors.is_empty() {
        wrong.push(format!("does not decode cleanly: {errors}"));
    }
    let duration = probe::duration(&master)?;
    if (duration - SECONDS).abs() > 0.5 {
        wrong.push(format!("plays {duration} s, not {SECONDS} ± 0.5 s"));
    }

    let (status, text) = client.get(&master).await?;
    if status != StatusCode::OK {
        bail!("the master playlist answered {status}");
    }
    let parsed = m3u8_rs::parse_master_playlist_res(text.as_bytes())
        .map_err(|e| anyhow::anyhow!("the master playlist does not parse: {e:?}\n{text}"))?;
    let base = master
        .rsplit_once('/')
        .map(|(base, _)| base.to_owned())
        .context("a master URL")?;
    for variant in &parsed.variants {
        let codecs = variant.codecs.clone().unwrap_or_default();
        let url = format!("{base}/{}", variant.uri);
        let streams = probe::streams(&url)?;
        let video: Vec<&probe::Stream> = streams.iter().filter(|s| s.kind == "video").collect();
        let has_audio = streams.iter().any(|s| s.kind == "audio");
        if has_audio != sample.sound || codecs.contains("mp4a") != sample.sound {
            wrong.push(format!(
                "variant {} says CODECS={codecs:?} and holds sound: {has_audio}; the file has sound: {}",
                variant.uri, sample.sound
            ));
        }
        let Some(shown) = sample.shown() else {
            // Sound alone: an audio-only variant, as hls.js and Safari expect it.
            if !video.is_empty() || variant.resolution.is_some() || codecs != "mp4a.40.2" {
                wrong.push(format!(
                    "sound alone should be an audio-only variant (CODECS \"mp4a.40.2\", no RESOLUTION), not {variant:?} holding {streams:?}"
                ));
            }
            continue;
        };
        let [picture] = video.as_slice() else {
            wrong.push(format!(
                "variant {} should hold one picture: {streams:?}",
                variant.uri
            ));
            continue;
        };
        if !codecs.starts_with("avc1.") {
            wrong.push(format!("variant {} says CODECS={codecs:?}", variant.uri));
        }
        let (w, h) = (picture.width, picture.height);
        let resolution = variant.resolution.map(|r| (r.width, r.height));
        if resolution != Some((u64::from(w), u64::from(h))) {
            wrong.push(format!(
                "variant {} says RESOLUTION {resolution:?} but holds {w}x{h}",
                variant.uri
            ));
        }
        // Even sides, never upscaled, the aspect kept (to the pixel the even sides cost).
        let aspect = |w: u32, h: u32| f64::from(w) / f64::from(h);
        if w % 2 != 0
            || h % 2 != 0
            || w > shown.0
            || h > shown.1
            || (aspect(w, h) - aspect(shown.0, shown.1)).abs() > 2.0 / f64::from(h.min(w))
        {
            wrong.push(format!(
                "variant {} is {w}x{h} for a picture shown at {}x{}",
                variant.uri, shown.0, shown.1
            ));
        }
        if sample.interlaced() {
            let interlaced = probe::interlaced_pictures(&url)?;
            if interlaced > 0 {
                wrong.push(format!(
                    "variant {} is still interlaced: {interlaced} of its first pictures",
                    variant.uri
                ));
            }
        }
        if sample.rotate.is_some() {
            // Upright as ffmpeg shows the source, not turned the other way round.
            let out = probe::grey_picture(&url, w, h, None)?;
            let upright = probe::grey_picture(&source.to_string_lossy(), w, h, None)?;
            let turned = probe::grey_picture(&source.to_string_lossy(), w, h, Some("hflip,vflip"))?;
            let (near, far) = (
                probe::difference(&out, &upright),
                probe::difference(&out, &turned),
            );
            if h <= w || near * 2.0 > far {
                wrong.push(format!(
                    "variant {} ({w}x{h}) is not upright: it differs from the upright picture by {near:.1} and from the one turned over by {far:.1}",
                    variant.uri
                ));
            }
        }
    }
    Ok(wrong)
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

    let mut bad = Vec::new();
    for (path, says) in bad_files(dir.path())? {
        let lecture = instructor.upload_file(&course, &path).await?;
        bad.push((path, says, lecture));
    }
    let mut good = Vec::new();
    for sample in GOOD {
        let path = generate(dir.path(), sample)?;
        if sample.interlaced() {
            let interlaced = probe::interlaced_pictures(&path.to_string_lossy())?;
            assert!(
                interlaced > 0,
                "the sample {} is not interlaced",
                sample.name
            );
        }
        let lecture = instructor.upload_file(&course, &path).await?;
        good.push((sample, path, lecture));
    }
    eprintln!(
        "generated and uploaded {} files in {:?}",
        good.len() + bad.len(),
        started.elapsed()
    );

    for (path, says, lecture) in &bad {
        let body = settled(&instructor, lecture).await?;
        assert_eq!(body["state"], "failed", "{}: {body}", path.display());
        let error = body["error"].as_str().unwrap_or_default();
        assert!(
            error.contains(says),
            "{}: the error should say what is wrong with the file ({says:?}): {error:?}",
            path.display()
        );
        // The file's fault: failed on its first attempt, not retried.
        let jobs = instructor
            .json(&format!("/api/v1/lectures/{lecture}/jobs"))
            .await?;
        assert_eq!(jobs[0]["state"], "failed", "{jobs}");
        assert_eq!(jobs[0]["attempts"], 1, "{}: {jobs}", path.display());
        assert_eq!(jobs[0]["error"], error, "{jobs}");
        eprintln!("{} failed: {error}", path.display());
    }

    let mut wrong = Vec::new();
    for (sample, path, lecture) in &good {
        let body = settled(&instructor, lecture).await?;
        let jobs = instructor
            .json(&format!("/api/v1/lectures/{lecture}/jobs"))
            .await?;
        if body["state"] != "ready" {
            wrong.push(format!("{}: {body} {jobs}", sample.name));
            continue;
        }
        assert_eq!(jobs[0]["state"], "done", "{jobs}");
        assert_eq!(jobs[0]["progress"], 1.0, "{jobs}");
        assert_eq!(jobs[0]["attempts"], 1, "{jobs}");
        let problems = check_plays(&instructor, lecture, sample, path).await?;
        wrong.extend(problems.iter().map(|p| format!("{}: {p}", sample.name)));
        eprintln!(
            "{} plays {:.2} s",
            sample.name,
            body["duration_seconds"].as_f64().unwrap_or_default()
        );
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
