//! Transcodes a media file into the ladder: the on-demand path (uploads, gap repair) and the
//! ladder benchmark.
//!
//! ```text
//! filesrc ! decodebin ─┬─ videoconvert ! deinterlace ! videoflip ! videoconvert ─▶ ladder video
//!                      ├─ audioconvert ! audioresample ! avenc_aac ──────────────▶ ladder audio
//!                      └─ any other stream ─▶ fakesink
//! ```
//!
//! The file is probed first ([`probe`]): its picture decides the rungs ([`fit_ladder`]: no
//! upscaling, a portrait phone video gets portrait rungs), its rotation metadata how
//! `videoflip` turns it upright, and a file without a picture or without sound gets a ladder
//! without them. Interlaced video is deinterlaced (`greedyh`), field by field when the
//! ladder's frame rate holds twice the source's, else frame by frame.

use crate::encode::{add_ladder, FrameTiming};
use crate::error::WorkerError;
use crate::gst_util::{make, unbounded_queue, StopOnDrop};
use crate::ladder::Ladder;
use crate::packaging::{package, Packaged};
use crate::probe::{probe, MediaInfo, VideoInfo};
use crate::thumbnails;
use gst::prelude::*;
use lectern_packager::Packager;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What came out of a file: the packaged segments, and how much of the file its decoders gave.
#[derive(Debug)]
pub struct Transcoded {
    pub packaged: Packaged,
    /// From the earliest to the latest instant any decoded stream reached: the file's real
    /// length, which a file cut short after its header was written falls short of.
    pub decoded: Duration,
}

/// The earliest start and latest end (ns) of the decoded buffers seen.
#[derive(Debug, Default)]
struct Span {
    start: Option<u64>,
    end: Option<u64>,
}

impl Span {
    fn note(&mut self, buffer: &gst::BufferRef) {
        let Some(pts) = buffer.pts() else { return };
        let end = pts + buffer.duration().unwrap_or(gst::ClockTime::ZERO);
        self.start = Some(self.start.map_or(pts.nseconds(), |s| s.min(pts.nseconds())));
        self.end = Some(self.end.map_or(end.nseconds(), |e| e.max(end.nseconds())));
    }

    fn length(&self) -> Duration {
        match (self.start, self.end) {
            (Some(start), Some(end)) => Duration::from_nanos(end.saturating_sub(start)),
            _ => Duration::ZERO,
        }
    }
}

/// How much shorter than its stated length a file may decode (containers round, some writers
/// state a length a little off) before it counts as cut short.
const SHORTFALL_SHARE: f64 = 0.1;
const SHORTFALL_SECONDS: f64 = 2.0;

/// The sentence for a file whose streams end well before the length its header states (an
/// upload cut off on the way, a recording whose writer stopped), if they do.
pub fn cut_short(decoded: Duration, stated: Duration) -> Option<String> {
    let (decoded, stated) = (decoded.as_secs_f64(), stated.as_secs_f64());
    let missing = stated - decoded;
    (missing > SHORTFALL_SECONDS && missing > stated * SHORTFALL_SHARE).then(|| {
        format!(
            "The file is cut short: it says it lasts {} but its video and audio end after {}. Upload the complete file.",
            clock(stated),
            clock(decoded)
        )
    })
}

/// Seconds as a person reads them: `42 s`, `3 min 05 s`, `1 h 02 min`.
fn clock(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    match (s / 3600, s / 60 % 60, s % 60) {
        (0, 0, s) => format!("{s} s"),
        (0, m, s) => format!("{m} min {s:02} s"),
        (h, m, _) => format!("{h} h {m:02} min"),
    }
}

/// `ladder` cut to what `media` holds: its rungs fitted to the picture as shown, or sound
/// alone, with or without sound; and at the file's own frame rate when that is lower than
/// the ladder's (a 25 fps file stays 25 fps, its keyframes every segment's worth of its frames).
pub fn fit_ladder(ladder: &Ladder, media: &MediaInfo) -> Ladder {
    let mut fitted = ladder.for_file(
        media.video.as_ref().map(VideoInfo::display_size),
        media.has_audio,
    );
    if let Some(video) = &media.video {
        let rate = frames_per_second(ladder, video);
        if rate > 0.0 {
            fitted.frame_rate = (rate.round() as u32).clamp(1, ladder.frame_rate);
        }
    }
    fitted
}

/// Which fields of interlaced video become frames: each its own frame when the ladder's rate
/// holds them all (50i at 60 fps); else one frame per frame, which keeps the motion even (50i
/// at 30 fps would drop every other field-frame unevenly).
fn deinterlace_fields(ladder: &Ladder, video: &VideoInfo) -> &'static str {
    if video.interlaced
        && video.frame_rate > 0.0
        && f64::from(ladder.frame_rate) >= 2.0 * video.frame_rate
    {
        "all"
    } else {
        "top"
    }
}

/// The frame rate of `video` once deinterlaced (0 when the file does not say).
fn frames_per_second(ladder: &Ladder, video: &VideoInfo) -> f64 {
    if deinterlace_fields(ladder, video) == "all" {
        2.0 * video.frame_rate
    } else {
        video.frame_rate
    }
}

/// Probes `input` in a blocking task; a file GStreamer cannot use is a [`WorkerError::Input`]
/// with the probe's sentence.
pub async fn probe_file(input: &Path) -> Result<MediaInfo, WorkerError> {
    let path = input.to_owned();
    tokio::task::spawn_blocking(move || probe(&path))
        .await
        .map_err(|e| WorkerError::Gst(format!("the probe did not finish: {e}")))?
        .map_err(|e| WorkerError::Input {
            path: input.to_owned(),
            message: e.to_string(),
        })
}

/// Transcodes `input`, which holds `media`, into `ladder`'s renditions of `track` (announced
/// to `packager` by the caller), with the track's pictures as `pictures` says, as fast as the
/// machine allows. `ladder` is the one
/// [`fit_ladder`] made for `media`. A pipeline that stopped early is not an error here: the
/// result says why ([`Packaged::failure`]) and how much was stored.
pub async fn transcode_file(
    input: &Path,
    media: &MediaInfo,
    ladder: &Ladder,
    track: &str,
    packager: &mut Packager,
    pictures: &thumbnails::Settings,
) -> Result<Transcoded, WorkerError> {
    if !input.is_file() {
        return Err(WorkerError::Input {
            path: input.to_owned(),
            message: "no such file".into(),
        });
    }
    let pipeline = gst::Pipeline::with_name("file-transcode");
    let _stopped_when_dropped = StopOnDrop(pipeline.clone());
    let (fragments_tx, mut fragments) = tokio::sync::mpsc::unbounded_channel();
    let src = make("filesrc", None)?;
    src.set_property("location", input.to_string_lossy().to_string());
    let decode = make("decodebin", None)?;
    pipeline.add_many([&src, &decode])?;
    src.link(&decode)?;

    let inputs = add_ladder(&pipeline, ladder, FrameTiming::AsSource, fragments_tx)?;
    let video_sink = match (&inputs.video, &media.video) {
        (Some(ladder_video), Some(video)) => {
            Some(add_video_branch(&pipeline, ladder, video, ladder_video)?)
        }
        _ => None,
    };
    let audio_sink = match &inputs.audio {
        Some(ladder_audio) => Some(add_audio_branch(&pipeline, ladder_audio)?),
        None => None,
    };
    let pictures = inputs
        .decoded
        .as_ref()
        .and_then(|decoded| thumbnails::attach(&pipeline, decoded, pictures))
        .map(|branch| {
            branch.start(
                packager.thumbnail_store(track),
                packager.seconds_stored(track),
            )
        });

    let weak_pipeline = pipeline.downgrade();
    let (video_target, audio_target) = (video_sink.clone(), audio_sink.clone());
    let span = Arc::new(Mutex::new(Span::default()));
    let decoded = span.clone();
    decode.connect_pad_added(move |_, pad| {
        let caps = pad.current_caps().unwrap_or_else(|| pad.query_caps(None));
        let kind = caps
            .structure(0)
            .map(|s| s.name().to_string())
            .unwrap_or_default();
        let target = if kind.starts_with("video/") {
            video_target.as_ref()
        } else if kind.starts_with("audio/") {
            audio_target.as_ref()
        } else {
            None
        };
        match target.filter(|t| !t.is_linked()) {
            Some(target) => {
                if let Err(e) = pad.link(target) {
                    tracing::error!(stream = %kind, error = ?e, "could not link the decoded stream");
                }
                let span = decoded.clone();
                pad.add_probe(gst::PadProbeType::BUFFER, move |_, info| {
                    if let Some(buffer) = info.buffer() {
                        span.lock().expect("span lock").note(buffer);
                    }
                    gst::PadProbeReturn::Ok
                });
            }
            // A second audio track, subtitles, a picture the ladder does not take: drained,
            // so the demuxer is not stopped by a stream nobody reads.
            None => {
                tracing::info!(stream = %kind, "leaving out a stream the ladder does not take");
                if let Some(pipeline) = weak_pipeline.upgrade() {
                    if let Err(e) = drain(&pipeline, pad) {
                        tracing::error!(stream = %kind, error = %e, "could not drain a stream");
                    }
                }
            }
        }
    });
    // A stream the probe found but decodebin never gave (no decoder took it) would leave its
    // branch waiting forever: fail instead.
    decode.connect_no_more_pads(move |decode| {
        for (what, sink) in [("video", &video_sink), ("audio", &audio_sink)] {
            if sink.as_ref().is_some_and(|s| !s.is_linked()) {
                let message = format!("its {what} could not be decoded");
                let _ = decode.post_message(
                    gst::message::Error::builder(gst::StreamError::Decode, &message)
                        .src(decode)
                        .build(),
                );
            }
        }
    });

    let bus = pipeline.bus().expect("a pipeline has a bus");
    let mut messages = bus.stream();
    let result = async {
        pipeline.set_state(gst::State::Playing)?;
        package(
            &pipeline,
            &mut messages,
            &mut fragments,
            packager,
            track,
            std::future::pending(),
        )
        .await
    }
    .await;
    let _ = pipeline.set_state(gst::State::Null);
    if let Some(pictures) = pictures {
        pictures.finish().await;
    }
    let packaged = result?;
    let decoded = span.lock().expect("span lock").length();
    Ok(Transcoded { packaged, decoded })
}

/// Decoded video to the ladder: converted to a format the deinterlacer takes, deinterlaced
/// (a progressive picture passes through untouched), turned upright. Returns the pad
/// decodebin's video links to.
fn add_video_branch(
    pipeline: &gst::Pipeline,
    ladder: &Ladder,
    video: &VideoInfo,
    ladder_video: &gst::Element,
) -> Result<gst::Pad, WorkerError> {
    let queue = unbounded_queue()?;
    let to_deinterlace = make("videoconvert", None)?;
    let deinterlace = make("deinterlace", None)?;
    deinterlace.set_property_from_str("mode", "auto");
    // Motion adaptive. (GStreamer 1.22's yadif method repeats its first frame's timestamp,
    // which players refuse.)
    deinterlace.set_property_from_str("method", "greedyh");
    deinterlace.set_property_from_str("fields", deinterlace_fields(ladder, video));
    let flip = make("videoflip", None)?;
    flip.set_property_from_str("video-direction", video.orientation.video_direction());
    let convert = make("videoconvert", None)?;
    let chain = [&queue, &to_deinterlace, &deinterlace, &flip, &convert];
    pipeline.add_many(chain)?;
    gst::Element::link_many(chain)?;
    convert.link(ladder_video)?;
    Ok(queue.static_pad("sink").expect("queue has a sink pad"))
}

/// Decoded audio to the ladder's AAC: 48 kHz stereo at [`AUDIO_BITRATE`](crate::ladder::AUDIO_BITRATE).
/// Returns the pad decodebin's audio links to.
fn add_audio_branch(
    pipeline: &gst::Pipeline,
    ladder_audio: &gst::Element,
) -> Result<gst::Pad, WorkerError> {
    let queue = unbounded_queue()?;
    let convert = make("audioconvert", None)?;
    let resample = make("audioresample", None)?;
    let caps = make("capsfilter", None)?;
    caps.set_property(
        "caps",
        gst::Caps::builder("audio/x-raw")
            .field("rate", 48_000i32)
            .field("channels", 2i32)
            .build(),
    );
    let aac = make("avenc_aac", None)?;
    aac.set_property("bitrate", crate::ladder::AUDIO_BITRATE as i32);
    let chain = [&queue, &convert, &resample, &caps, &aac];
    pipeline.add_many(chain)?;
    gst::Element::link_many(chain)?;
    aac.link(ladder_audio)?;
    Ok(queue.static_pad("sink").expect("queue has a sink pad"))
}

/// Links `pad` to a new `fakesink` that discards what it gets.
fn drain(pipeline: &gst::Pipeline, pad: &gst::Pad) -> Result<(), WorkerError> {
    let sink = make("fakesink", None)?;
    sink.set_property("sync", false);
    sink.set_property("async", false);
    pipeline.add(&sink)?;
    sink.sync_state_with_parent()?;
    let sink_pad = sink.static_pad("sink").expect("fakesink has a sink pad");
    pad.link(&sink_pad)
        .map_err(|e| WorkerError::Gst(format!("linking a drain: {e:?}")))?;
    Ok(())
}

/// Transcodes `input` into `out_dir` as the complete HLS archive of a lecture named
/// `lecture`, with no catalog involved (`lectures/<lecture>/v1/main/<rung>/…`). Returns the
/// number of segments written.
pub async fn transcode_to_directory(
    input: &Path,
    out_dir: &Path,
    lecture: &str,
    ladder: &Ladder,
) -> Result<u64, WorkerError> {
    const TRACK: &str = "main";
    let existing = out_dir.join("lectures").join(lecture);
    if existing.exists() {
        return Err(WorkerError::Input {
            path: input.to_owned(),
            message: format!(
                "{} already exists; choose another name or output directory",
                existing.display()
            ),
        });
    }
    let media = probe_file(input).await?;
    let ladder = fit_ladder(ladder, &media);
    let storage = std::sync::Arc::new(lectern_packager::LocalDir::new(out_dir));
    let mut packager = Packager::new(
        lecture,
        storage,
        std::sync::Arc::new(lectern_packager::NoCatalog),
    );
    for rendition in ladder.renditions(TRACK) {
        packager.add_rendition(rendition).await?;
    }
    let pictures = thumbnails::Settings::default();
    let Transcoded { packaged, decoded } =
        transcode_file(input, &media, &ladder, TRACK, &mut packager, &pictures).await?;
    let error = packaged
        .failure
        .as_ref()
        .map(ToString::to_string)
        .or_else(|| cut_short(decoded, media.duration));
    packager.finish(error.clone()).await?;
    match error {
        Some(message) => Err(WorkerError::Input {
            path: input.to_owned(),
            message,
        }),
        None => Ok(packaged.segments),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_counts_as_cut_short_only_well_before_its_stated_end() {
        let s = Duration::from_secs_f64;
        assert_eq!(cut_short(s(3.96), s(4.0)), None);
        assert_eq!(cut_short(s(58.5), s(60.0)), None, "within 2 s");
        assert_eq!(cut_short(s(3300.0), s(3600.0)), None, "within a tenth");
        let said = cut_short(s(3.7), s(8.0)).unwrap();
        assert!(
            said.contains("it says it lasts 8 s but its video and audio end after 4 s"),
            "{said}"
        );
        let said = cut_short(s(1805.0), s(3725.0)).unwrap();
        assert!(
            said.contains("lasts 1 h 02 min") && said.contains("after 30 min 05 s"),
            "{said}"
        );
    }
}
