//! Builds the live pipeline of one session:
//!
//! ```text
//! srtsrc (listener) ! tsdemux ─┬─ h264parse ! avdec_h264 ! videoconvert ! videorate ! tee ─┬─ queue ! videoscale ! x264enc ! h264parse ─▶ hlssink2 (rung 1)
//!                              │                                                          └─ …                                        ─▶ hlssink2 (rung n)
//!                              └─ aacparse ! tee ─────────────────────────────────────────── queue ─▶ every hlssink2's audio pad
//! ```
//!
//! One decode, one `videorate` before the `tee` so every rung sees the same frames, and every
//! encoder set to a keyframe at each segment boundary with scene-cut keyframes off: so all
//! rungs cut at the same instants.

use super::segment_stream::{FragmentBytes, SegmentStream};
use crate::config::Config;
use crate::error::WorkerError;
use crate::ladder::{keyframe_interval, Rung};
use gst::prelude::*;
use lectern_wire::worker::StreamId;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

/// A built, not yet started, live pipeline and the channels its callbacks feed.
pub struct LivePipeline {
    pub pipeline: gst::Pipeline,
    /// The `streamid` of the caller the listener accepted.
    pub connected: UnboundedReceiver<StreamId>,
    /// Finished segments, as bytes.
    pub fragments: UnboundedReceiver<FragmentBytes>,
}

/// The name `hlssink2` gives a rung's segment `index` (`<rung>-<index>.ts`), and its parse.
pub fn location_pattern(rung: &str) -> String {
    format!("{rung}-%05d.ts")
}

/// The location `hlssink2` makes of [`location_pattern`] for the segment `index`.
pub fn location(rung: &str, index: u64) -> String {
    format!("{rung}-{index:05}.ts")
}

/// The name of a rung's `hlssink2`, by which its bus messages are told apart.
pub fn sink_name(rung: &str) -> String {
    format!("hls-{rung}")
}

/// The rung of a sink named by [`sink_name`].
pub fn rung_of_sink(name: &str) -> Option<&str> {
    name.strip_prefix("hls-")
}

/// The rung and index of a segment location made by [`location_pattern`].
pub fn parse_location(location: &str) -> Option<(&str, u64)> {
    let (rung, rest) = location.rsplit_once('-')?;
    Some((rung, rest.strip_suffix(".ts")?.parse().ok()?))
}

fn make(factory: &str, name: Option<&str>) -> Result<gst::Element, WorkerError> {
    let mut builder = gst::ElementFactory::make(factory);
    if let Some(name) = name {
        builder = builder.name(name);
    }
    builder.build().map_err(|_| WorkerError::ElementMissing {
        name: factory.to_owned(),
    })
}

/// A queue that holds any amount of time and bytes: a raw 1080p frame is ~3 MB, and the
/// default limits make tee branches stall each other.
fn unbounded_queue() -> Result<gst::Element, WorkerError> {
    let queue = make("queue", None)?;
    queue.set_property("max-size-bytes", 0u32);
    queue.set_property("max-size-time", 0u64);
    Ok(queue)
}

/// Builds the pipeline for one session on the configured listener.
pub fn build(config: &Config) -> Result<LivePipeline, WorkerError> {
    let pipeline = gst::Pipeline::with_name("live-session");
    let (connected_tx, connected) = unbounded_channel();
    let (fragments_tx, fragments) = unbounded_channel();

    let src = make("srtsrc", Some("srt-in"))?;
    src.set_property("uri", format!("srt://{}?mode=listener", config.srt_listen));
    src.set_property("keep-listening", false);
    // With authentication on, srtsrc asks `caller-connecting` before accepting a caller.
    src.set_property("authentication", true);
    src.connect("caller-connecting", false, move |args| {
        let streamid = args
            .get(2)
            .and_then(|v| v.get::<Option<String>>().ok())
            .flatten()
            .unwrap_or_default();
        let accepted = match streamid.parse::<StreamId>() {
            Ok(id) => connected_tx.send(id).is_ok(),
            Err(e) => {
                tracing::warn!(error = %e, "refused an SRT caller");
                false
            }
        };
        Some(accepted.to_value())
    });
    let demux = make("tsdemux", None)?;
    pipeline.add_many([&src, &demux])?;
    src.link(&demux)?;

    // Video: decode once, one frame rate for all rungs.
    let video_in = unbounded_queue()?;
    let parse = make("h264parse", None)?;
    let decode = make("avdec_h264", None)?;
    let convert = make("videoconvert", None)?;
    let rate = make("videorate", None)?;
    let rate_caps = make("capsfilter", None)?;
    rate_caps.set_property(
        "caps",
        gst::Caps::builder("video/x-raw")
            .field("framerate", gst::Fraction::new(config.frame_rate as i32, 1))
            .build(),
    );
    let video_tee = make("tee", None)?;
    let video_chain = [
        &video_in, &parse, &decode, &convert, &rate, &rate_caps, &video_tee,
    ];
    pipeline.add_many(video_chain)?;
    gst::Element::link_many(video_chain)?;

    let audio_in = unbounded_queue()?;
    let audio_parse = make("aacparse", None)?;
    let audio_tee = make("tee", None)?;
    pipeline.add_many([&audio_in, &audio_parse, &audio_tee])?;
    gst::Element::link_many([&audio_in, &audio_parse, &audio_tee])?;

    for rung in &config.ladder {
        add_rung(
            &pipeline,
            config,
            rung,
            &video_tee,
            &audio_tee,
            fragments_tx.clone(),
        )?;
    }

    let video_sink = video_in.static_pad("sink").expect("queue has a sink pad");
    let audio_sink = audio_in.static_pad("sink").expect("queue has a sink pad");
    demux.connect_pad_added(move |_, pad| {
        let caps = pad.current_caps().unwrap_or_else(|| pad.query_caps(None));
        let kind = caps
            .structure(0)
            .map(|s| s.name().to_string())
            .unwrap_or_default();
        let target = match kind.as_str() {
            "video/x-h264" => &video_sink,
            "audio/mpeg" => &audio_sink,
            other => {
                tracing::warn!(
                    stream = other,
                    "ignoring a stream the worker does not transcode"
                );
                return;
            }
        };
        if target.is_linked() {
            tracing::warn!(stream = %kind, "ignoring a second stream of the same kind");
        } else if let Err(e) = pad.link(target) {
            tracing::error!(stream = %kind, error = ?e, "could not link the demuxed stream");
        }
    });

    Ok(LivePipeline {
        pipeline,
        connected,
        fragments,
    })
}

fn add_rung(
    pipeline: &gst::Pipeline,
    config: &Config,
    rung: &Rung,
    video_tee: &gst::Element,
    audio_tee: &gst::Element,
    fragments: UnboundedSender<FragmentBytes>,
) -> Result<(), WorkerError> {
    let queue = unbounded_queue()?;
    let scale = make("videoscale", None)?;
    if scale.find_property("n-threads").is_some() {
        scale.set_property("n-threads", 2u32);
    }
    let size = make("capsfilter", None)?;
    size.set_property(
        "caps",
        gst::Caps::builder("video/x-raw")
            .field("width", rung.width as i32)
            .field("height", rung.height as i32)
            .field("pixel-aspect-ratio", gst::Fraction::new(1, 1))
            .build(),
    );
    let encode = make("x264enc", None)?;
    encode.set_property("bitrate", rung.bitrate_kbps);
    encode.set_property_from_str("speed-preset", "veryfast");
    encode.set_property(
        "key-int-max",
        keyframe_interval(config.frame_rate, config.segment_seconds),
    );
    encode.set_property("option-string", "scenecut=0");
    let profile = make("capsfilter", None)?;
    profile.set_property(
        "caps",
        gst::Caps::builder("video/x-h264")
            .field("profile", "high")
            .build(),
    );
    let parse = make("h264parse", None)?;

    let sink = make("hlssink2", Some(&sink_name(&rung.name)))?;
    sink.set_property("target-duration", config.segment_seconds);
    sink.set_property("max-files", 0u32);
    sink.set_property("playlist-length", 0u32);
    sink.set_property("send-keyframe-requests", false);
    sink.set_property("location", location_pattern(&rung.name));
    sink.connect("get-fragment-stream", false, move |args| {
        let location = args
            .get(1)
            .and_then(|v| v.get::<String>().ok())
            .unwrap_or_default();
        Some(
            SegmentStream::new(location, fragments.clone())
                .into_output_stream()
                .to_value(),
        )
    });
    // hlssink2's own playlist is never served: ours come from the packager and the catalog.
    sink.connect("get-playlist-stream", false, |_| {
        Some(
            gio::MemoryOutputStream::new_resizable()
                .upcast::<gio::OutputStream>()
                .to_value(),
        )
    });

    let chain = [&queue, &scale, &size, &encode, &profile, &parse];
    pipeline.add_many(chain)?;
    pipeline.add(&sink)?;
    gst::Element::link_many(chain)?;
    video_tee.link(&queue)?;
    parse.link_pads(None, &sink, Some("video"))?;

    let audio_queue = unbounded_queue()?;
    pipeline.add(&audio_queue)?;
    audio_tee.link(&audio_queue)?;
    audio_queue.link_pads(None, &sink, Some("audio"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_round_trip() {
        let pattern = location_pattern("720p");
        let location = pattern.replace("%05d", "00042");
        assert_eq!(location, super::location("720p", 42));
        assert_eq!(parse_location(&location), Some(("720p", 42)));
        assert_eq!(rung_of_sink(&sink_name("720p")), Some("720p"));
        assert_eq!(parse_location("nonsense"), None);
    }
}
