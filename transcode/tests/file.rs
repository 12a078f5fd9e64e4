//! The file transcoder on real media made by GStreamer: a good file becomes a complete,
//! aligned ladder; bad files fail with a message a person understands.

use gst::prelude::*;
use lectern_transcode::error::WorkerError;
use lectern_transcode::file::transcode_to_directory;
use lectern_transcode::ladder::{Ladder, Rung, Streams};
use std::path::Path;
use std::process::Command;

fn ladder() -> Ladder {
    Ladder {
        rungs: vec![
            "360p=640x360@800".parse::<Rung>().unwrap(),
            "180p=320x180@300".parse::<Rung>().unwrap(),
        ],
        frame_rate: 30,
        segment_seconds: 1,
        streams: Streams::BOTH,
    }
}

/// Writes `seconds` of 30 fps video with a tone into an MP4, deterministically.
fn make_mp4(path: &Path, seconds: u32) {
    gst::init().unwrap();
    let frames = seconds * 30;
    let samples = seconds * 48_000 / 1024;
    let pipeline = gst::parse::launch(&format!(
        "videotestsrc num-buffers={frames} pattern=ball ! video/x-raw,width=640,height=360,framerate=30/1 \
         ! x264enc speed-preset=ultrafast ! h264parse ! mp4mux name=mux ! filesink location={} \
         audiotestsrc num-buffers={samples} samplesperbuffer=1024 ! audio/x-raw,rate=48000 ! avenc_aac ! aacparse ! mux.",
        path.display()
    ))
    .unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
    let bus = pipeline.bus().unwrap();
    let message = bus.timed_pop_filtered(
        gst::ClockTime::from_seconds(60),
        &[gst::MessageType::Eos, gst::MessageType::Error],
    );
    pipeline.set_state(gst::State::Null).unwrap();
    assert!(
        matches!(message.map(|m| m.type_()), Some(gst::MessageType::Eos)),
        "could not make the test file"
    );
}

/// Runs a `gst-launch`-style pipeline description to its end (a test file's maker).
fn make_with(description: &str) {
    gst::init().unwrap();
    let pipeline = gst::parse::launch(description).unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
    let bus = pipeline.bus().unwrap();
    let message = bus.timed_pop_filtered(
        gst::ClockTime::from_seconds(60),
        &[gst::MessageType::Eos, gst::MessageType::Error],
    );
    pipeline.set_state(gst::State::Null).unwrap();
    assert!(
        matches!(message.map(|m| m.type_()), Some(gst::MessageType::Eos)),
        "could not make the test file"
    );
}

fn ffprobe_duration(path: &Path) -> f64 {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "format=duration",
            "-of",
            "csv=p=0",
        ])
        .arg(path)
        .output()
        .expect("ffprobe runs (install ffmpeg)");
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

#[tokio::test]
async fn a_media_file_becomes_a_complete_ladder_with_every_rung_cut_alike() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.mp4");
    make_mp4(&input, 4);
    let out = dir.path().join("out");
    let segments = transcode_to_directory(&input, &out, "lec", &ladder())
        .await
        .unwrap();
    assert_eq!(segments, 8, "4 s in 1 s segments, two rungs");
    let mut listings = Vec::new();
    for rung in ["360p", "180p"] {
        let playlist = out.join(format!("lectures/lec/v1/main/{rung}/index.m3u8"));
        let text = std::fs::read_to_string(&playlist).unwrap();
        assert!(text.contains("#EXT-X-ENDLIST"), "{text}");
        let duration = ffprobe_duration(&playlist);
        assert!((duration - 4.0).abs() < 0.1, "{rung} lasts {duration} s");
        listings.push(
            text.lines()
                .filter(|l| l.starts_with("#EXTINF"))
                .map(str::to_owned)
                .collect::<Vec<_>>(),
        );
    }
    assert_eq!(
        listings[0], listings[1],
        "both rungs cut at the same instants"
    );
    assert!(out.join("lectures/lec/v1/main/master.m3u8").is_file());
}

#[tokio::test]
async fn a_file_that_is_not_media_fails_with_a_readable_message() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("slides.mp4");
    std::fs::write(&input, b"these are not the frames you are looking for").unwrap();
    gst::init().unwrap();
    let err = transcode_to_directory(&input, &dir.path().join("out"), "lec", &ladder())
        .await
        .unwrap_err();
    assert!(matches!(err, WorkerError::Input { .. }), "{err}");
    assert!(err.to_string().contains("slides.mp4"), "{err}");
}

#[tokio::test]
async fn an_existing_output_is_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir_all(out.join("lectures/lec")).unwrap();
    let err = transcode_to_directory(&dir.path().join("x.mp4"), &out, "lec", &ladder())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("already exists"), "{err}");
}

#[tokio::test]
async fn sound_alone_becomes_one_audio_only_rendition() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("podcast.m4a");
    let samples = 4 * 44_100 / 1024;
    make_with(&format!(
        "audiotestsrc num-buffers={samples} samplesperbuffer=1024 ! audio/x-raw,rate=44100,channels=1 \
         ! avenc_aac ! aacparse ! mp4mux ! filesink location={}",
        input.display()
    ));
    let out = dir.path().join("out");
    let segments = transcode_to_directory(&input, &out, "lec", &ladder())
        .await
        .unwrap();
    // 4 s in 1 s segments of one rendition (AAC frames do not fall on whole seconds: the
    // last few milliseconds may make a segment of their own).
    assert!((4..=5).contains(&segments), "{segments} segments");
    let main = out.join("lectures/lec/v1/main");
    let master = std::fs::read_to_string(main.join("master.m3u8")).unwrap();
    assert!(
        master.contains("CODECS=\"mp4a.40.2\"\naudio/index.m3u8"),
        "{master}"
    );
    assert!(!master.contains("RESOLUTION"), "{master}");
    assert!(!main.join("360p").exists(), "no video rung");
    let duration = ffprobe_duration(&main.join("audio/index.m3u8"));
    assert!((duration - 4.0).abs() < 0.2, "lasts {duration} s");
}

#[tokio::test]
async fn a_picture_without_sound_becomes_video_only_rungs_fitted_to_it() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("screen.mkv");
    // 4:3, smaller than the top rung's box: that rung is the picture's own size (no
    // upscaling), the lower one 4:3 too; the file's 25 fps kept.
    make_with(&format!(
        "videotestsrc num-buffers=75 ! video/x-raw,width=480,height=360,framerate=25/1 \
         ! x264enc speed-preset=ultrafast ! h264parse ! matroskamux ! filesink location={}",
        input.display()
    ));
    let out = dir.path().join("out");
    let segments = transcode_to_directory(&input, &out, "lec", &ladder())
        .await
        .unwrap();
    assert_eq!(segments, 6, "3 s in 1 s segments, two rungs");
    let main = out.join("lectures/lec/v1/main");
    let master = std::fs::read_to_string(main.join("master.m3u8")).unwrap();
    for variant in [
        "CODECS=\"avc1.64001e\",RESOLUTION=480x360,FRAME-RATE=25\n360p/index.m3u8",
        "CODECS=\"avc1.64001e\",RESOLUTION=240x180,FRAME-RATE=25\n180p/index.m3u8",
    ] {
        assert!(master.contains(variant), "{variant} in {master}");
    }
}

#[tokio::test]
async fn a_file_cut_short_after_its_header_fails_saying_so() {
    let dir = tempfile::tempdir().unwrap();
    let whole = dir.path().join("whole.mp4");
    // The index first (as for the web), so the half file still opens.
    make_with(&format!(
        "videotestsrc num-buffers=240 ! video/x-raw,width=320,height=240,framerate=30/1 \
         ! x264enc speed-preset=ultrafast ! h264parse ! mp4mux faststart=true ! filesink location={}",
        whole.display()
    ));
    let bytes = std::fs::read(&whole).unwrap();
    let cut = dir.path().join("cut.mp4");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let err = transcode_to_directory(&cut, &dir.path().join("out"), "lec", &ladder())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("cut short"), "{err}");
}
