//! Builds the live pipeline of one session: the SRT listener and the decode in front of the
//! shared ladder ([`crate::encode`]).
//!
//! ```text
//! srtsrc (listener) ! tsdemux ─┬─ h264parse ! avdec_h264 ! videoconvert ─▶ ladder video
//!                              └──────────────────────────────────────────▶ ladder audio (AAC as sent)
//! ```

use crate::encode::{add_ladder, FrameTiming};
use crate::error::WorkerError;
use crate::gst_util::{make, unbounded_queue};
use crate::ladder::Ladder;
use crate::segment_stream::FragmentBytes;
use crate::thumbnails;
use gst::prelude::*;
use lectern_wire::worker::StreamId;
use std::net::SocketAddr;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};

/// A built, not yet started, live pipeline and the channels its callbacks feed.
pub struct LivePipeline {
    pub pipeline: gst::Pipeline,
    /// The `streamid` of the caller the listener accepted.
    pub connected: UnboundedReceiver<StreamId>,
    /// Finished segments, as bytes.
    pub fragments: UnboundedReceiver<FragmentBytes>,
    /// The thumbnail branch, to be started once the track is known.
    pub thumbnails: Option<thumbnails::Branch>,
}

/// The SRT key length the listener requires (AES-256); the box sets the same.
pub const PBKEYLEN: i32 = 32;

/// Builds the pipeline for one session listening on `listen`: only a caller that knows
/// `passphrase` (libsrt refuses the others during the handshake) and presents one of
/// `stream_ids` is accepted; its pictures are made as `pictures` says.
pub fn build(
    listen: SocketAddr,
    passphrase: &str,
    stream_ids: Vec<String>,
    ladder: &Ladder,
    pictures: &thumbnails::Settings,
) -> Result<LivePipeline, WorkerError> {
    let pipeline = gst::Pipeline::with_name("live-session");
    let (connected_tx, connected) = unbounded_channel();
    let (fragments_tx, fragments) = unbounded_channel();

    let src = make("srtsrc", Some("srt-in"))?;
    src.set_property("uri", format!("srt://{listen}?mode=listener"));
    src.set_property("keep-listening", false);
    src.set_property("passphrase", passphrase);
    src.set_property_from_str("pbkeylen", &PBKEYLEN.to_string());
    // With authentication on, srtsrc asks `caller-connecting` before accepting a caller.
    src.set_property("authentication", true);
    src.connect("caller-connecting", false, move |args| {
        let streamid = args
            .get(2)
            .and_then(|v| v.get::<Option<String>>().ok())
            .flatten()
            .unwrap_or_default();
        let accepted = match streamid.parse::<StreamId>() {
            Ok(id) if stream_ids.contains(&streamid) => connected_tx.send(id).is_ok(),
            Ok(_) => {
                tracing::warn!(%streamid, "refused an SRT caller: not this session's streamid");
                false
            }
            Err(e) => {
                tracing::warn!(error = %e, "refused an SRT caller");
                false
            }
        };
        Some(accepted.to_value())
    });
    let demux = make("tsdemux", None)?;
    // Time by the box's own PTS, not by arrival: a box that connects while its listener is
    // still starting sends its first second in a burst, which the PCR skew estimate turns
    // into non-monotonic timestamps.
    demux.set_property("ignore-pcr", true);
    pipeline.add_many([&src, &demux])?;
    src.link(&demux)?;

    // Video: decode once for every rung.
    let video_in = unbounded_queue()?;
    let parse = make("h264parse", None)?;
    let decode = make("avdec_h264", None)?;
    let convert = make("videoconvert", None)?;
    let video_chain = [&video_in, &parse, &decode, &convert];
    pipeline.add_many(video_chain)?;
    gst::Element::link_many(video_chain)?;

    let inputs = add_ladder(&pipeline, ladder, FrameTiming::Regular, fragments_tx)?;
    let (Some(video_input), Some(audio_input)) = (inputs.video, inputs.audio) else {
        return Err(WorkerError::Gst(
            "a live ladder takes both video and audio".into(),
        ));
    };
    convert.link(&video_input)?;
    let thumbnails = match &inputs.decoded {
        Some(decoded) => thumbnails::attach(&pipeline, decoded, pictures),
        None => None,
    };

    let video_sink = video_in.static_pad("sink").expect("queue has a sink pad");
    let audio_sink = audio_input
        .static_pad("sink")
        .expect("queue has a sink pad");
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
        thumbnails,
    })
}
