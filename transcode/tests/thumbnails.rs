//! A track's pictures made by the real pipeline from generated lecture-like videos
//! (`slides-video.sh`: slides that change at known instants, a moving camera-like overlay):
//! a poster ffprobe decodes, sprite sheets whose WebVTT cues cover the whole video, and
//! chapters within one sample interval of each slide change; an overlay alone makes none.

use lectern_packager::thumbnails::parse_tile_uri;
use lectern_packager::vtt::{self, Cue};
use lectern_transcode::file::transcode_to_directory;
use lectern_transcode::ladder::{Ladder, Rung, Streams};
use lectern_transcode::thumbnails::INTERVAL_SECONDS;
use std::path::{Path, PathBuf};
use std::process::Command;

fn ladder() -> Ladder {
    Ladder {
        rungs: vec!["180p=320x180@300".parse::<Rung>().unwrap()],
        frame_rate: 15,
        segment_seconds: 2,
        streams: Streams::BOTH,
    }
}

/// Generates the video (see `slides-video.sh`).
fn slides_video(path: &Path, seconds: u32, overlay: bool, changes: &[u32]) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/slides-video.sh");
    let out = Command::new("bash")
        .arg(script)
        .arg(path)
        .arg(seconds.to_string())
        .arg(if overlay { "1" } else { "0" })
        .args(changes.iter().map(u32::to_string))
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "could not make the test video: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Transcodes `input` as the lecture `lec`; the directory of its track's files.
async fn transcode(input: &Path, out: &Path) -> PathBuf {
    gst::init().unwrap();
    transcode_to_directory(input, out, "lec", &ladder())
        .await
        .unwrap();
    out.join("lectures/lec/v1/main")
}

/// What ffprobe says a picture is: codec, width, height.
fn probe_picture(path: &Path) -> (String, u32, u32) {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "stream=codec_name,width,height",
        ])
        .args(["-of", "csv=p=0"])
        .arg(path)
        .output()
        .expect("ffprobe runs (install ffmpeg)");
    let text = String::from_utf8_lossy(&out.stdout);
    let fields: Vec<&str> = text.trim().split(',').collect();
    assert_eq!(fields.len(), 3, "ffprobe on {}: {text}", path.display());
    (
        fields[0].to_owned(),
        fields[1].parse().unwrap(),
        fields[2].parse().unwrap(),
    )
}

fn cues(path: &Path) -> Vec<Cue> {
    let text = std::fs::read_to_string(path).unwrap();
    vtt::parse(&text).unwrap_or_else(|| panic!("{} is not WebVTT: {text}", path.display()))
}

#[tokio::test]
async fn a_lecture_gets_a_poster_sprites_over_its_whole_length_and_chapters_at_its_slides() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("lecture.mp4");
    let seconds = 70;
    let changes = [17, 33, 52];
    slides_video(&input, seconds, true, &changes);
    let track = transcode(&input, &dir.path().join("out")).await;

    let (codec, width, height) = probe_picture(&track.join("poster.jpg"));
    assert_eq!((codec.as_str(), width, height), ("mjpeg", 640, 360));

    let thumbnails = cues(&track.join("thumbnails.vtt"));
    assert_eq!(thumbnails[0].start, 0.0);
    for pair in thumbnails.windows(2) {
        assert_eq!(pair[0].end, pair[1].start, "cues leave no gap: {pair:?}");
    }
    let last = thumbnails.last().unwrap();
    assert!(
        last.end >= f64::from(seconds) - 0.1,
        "the cues cover all {seconds} s, up to {}",
        last.end
    );
    for cue in &thumbnails {
        let (sheet, fragment) = parse_tile_uri(&cue.text).expect("a tile URI");
        let (codec, sheet_width, sheet_height) =
            probe_picture(&track.join(format!("sprite-{sheet}.jpg")));
        assert_eq!(codec, "mjpeg");
        let xywh: Vec<u32> = fragment["xywh=".len()..]
            .split(',')
            .map(|n| n.parse().unwrap())
            .collect();
        assert_eq!(
            &xywh[2..],
            [160, 90],
            "tiles are 160 wide, shaped as the video"
        );
        assert!(
            xywh[0] + xywh[2] <= sheet_width && xywh[1] + xywh[3] <= sheet_height,
            "{} lies inside the {sheet_width}×{sheet_height} sheet",
            cue.text
        );
    }

    let chapters = cues(&track.join("chapters.vtt"));
    let titles: Vec<&str> = chapters.iter().map(|c| c.text.as_str()).collect();
    assert_eq!(titles, ["Slide 1", "Slide 2", "Slide 3", "Slide 4"]);
    assert_eq!(chapters[0].start, 0.0);
    let interval = f64::from(INTERVAL_SECONDS);
    for (chapter, truth) in chapters[1..].iter().zip(changes) {
        let off = chapter.start - f64::from(truth);
        assert!(
            (0.0..interval).contains(&off),
            "the slide shown from {truth} s was found at {} s",
            chapter.start
        );
    }
}

#[tokio::test]
async fn a_moving_overlay_on_one_slide_makes_no_chapters() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("one-slide.mp4");
    slides_video(&input, 45, true, &[]);
    let track = transcode(&input, &dir.path().join("out")).await;
    assert!(track.join("poster.jpg").is_file());
    assert!(track.join("thumbnails.vtt").is_file());
    assert!(
        !track.join("chapters.vtt").exists(),
        "chapters: {:?}",
        std::fs::read_to_string(track.join("chapters.vtt"))
    );
}
