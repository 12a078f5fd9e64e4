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
