//! The capture pipeline of one recording:
//!
//! ```text
//! videotestsrc ! clockoverlay ! x264enc ! h264parse ! tee ─┬─ queue ─▶ splitmuxsink (spool chunks)
//! audiotestsrc ! avenc_aac ! aacparse ! tee ───────────────┤
//!                                                          └─ leaky queue ! mpegtsmux ! appsink (live tap)
//! ```
//!
//! The spool branch never waits for the live branch: the live queues drop when the network
//! is slow, the spool records every frame.

use crate::config::Config;
use crate::error::IngestError;
use gst::prelude::*;
use std::path::Path;
use tokio::sync::mpsc;

/// What the live tap hands the pusher.
#[derive(Debug)]
pub enum LiveChunk {
    /// MPEG-TS packets, ready for SRT.
    Data(gst::Buffer),
    /// The recording ended.
    End,
}

/// The built capture pipeline and the live tap's receiver.
pub struct Capture {
    pub pipeline: gst::Pipeline,
    pub live: mpsc::Receiver<LiveChunk>,
}

fn make(factory: &str) -> Result<gst::Element, IngestError> {
    gst::ElementFactory::make(factory)
        .build()
        .map_err(|_| IngestError::ElementMissing {
            name: factory.to_owned(),
        })
}

fn queue(leaky: bool) -> Result<gst::Element, IngestError> {
    let queue = make("queue")?;
    if leaky {
        queue.set_property_from_str("leaky", "downstream");
    } else {
        queue.set_property("max-size-bytes", 0u32);
        queue.set_property("max-size-time", 0u64);
    }
    Ok(queue)
}

/// Builds the pipeline that records `track` into `chunk_dir` (`<index>.ts` chunks).
pub fn build(config: &Config, track: &str, chunk_dir: &Path) -> Result<Capture, IngestError> {
    let pipeline = gst::Pipeline::with_name(&format!("capture-{track}"));
    let s = &config.source;

    let video_src = make("videotestsrc")?;
    video_src.set_property("is-live", true);
    video_src.set_property_from_str("pattern", "ball");
    let raw_caps = make("capsfilter")?;
    raw_caps.set_property(
        "caps",
        gst::Caps::builder("video/x-raw")
            .field("width", s.width as i32)
            .field("height", s.height as i32)
            .field("framerate", gst::Fraction::new(s.frame_rate as i32, 1))
            .build(),
    );
    let clock = make("clockoverlay")?;
    clock.set_property("text", "Lectern demo classroom");
    clock.set_property("time-format", "%H:%M:%S");
    clock.set_property("font-desc", "Sans 20");
    let convert = make("videoconvert")?;
    let encode = make("x264enc")?;
    encode.set_property_from_str("tune", "zerolatency");
    encode.set_property_from_str("speed-preset", "veryfast");
    encode.set_property("bitrate", s.video_bitrate_kbps);
    encode.set_property("key-int-max", s.frame_rate * config.keyframe_seconds);
    encode.set_property("option-string", "scenecut=0");
    let h264_caps = make("capsfilter")?;
    h264_caps.set_property(
        "caps",
        gst::Caps::builder("video/x-h264")
            .field("profile", "high")
            .build(),
    );
    let h264_parse = make("h264parse")?;
    h264_parse.set_property("config-interval", -1i32);
    let video_tee = make("tee")?;
    let video_chain = [
        &video_src,
        &raw_caps,
        &clock,
        &convert,
        &encode,
        &h264_caps,
        &h264_parse,
        &video_tee,
    ];

    let audio_src = make("audiotestsrc")?;
    audio_src.set_property("is-live", true);
    audio_src.set_property("freq", 330.0f64);
    audio_src.set_property("volume", 0.2f64);
    let audio_convert = make("audioconvert")?;
    let audio_resample = make("audioresample")?;
    let audio_caps = make("capsfilter")?;
    audio_caps.set_property(
        "caps",
        gst::Caps::builder("audio/x-raw")
            .field("rate", 48_000i32)
            .field("channels", 2i32)
            .build(),
    );
    let audio_encode = make("avenc_aac")?;
    audio_encode.set_property("bitrate", 128_000i32);
    let audio_parse = make("aacparse")?;
    let audio_tee = make("tee")?;
    let audio_chain = [
        &audio_src,
        &audio_convert,
        &audio_resample,
        &audio_caps,
        &audio_encode,
        &audio_parse,
        &audio_tee,
    ];

    pipeline.add_many(video_chain)?;
    pipeline.add_many(audio_chain)?;
    gst::Element::link_many(video_chain)?;
    gst::Element::link_many(audio_chain)?;

    // The spool: every frame, in chunks that are valid media on their own.
    let spool = make("splitmuxsink")?;
    spool.set_property("muxer-factory", "mpegtsmux");
    spool.set_property(
        "max-size-time",
        u64::from(config.chunk_seconds) * gst::ClockTime::SECOND.nseconds(),
    );
    spool.set_property("send-keyframe-requests", false);
    spool.set_property(
        "location",
        chunk_dir.join("%05d.ts").to_string_lossy().to_string(),
    );
    let (spool_video, spool_audio) = (queue(false)?, queue(false)?);
    pipeline.add_many([&spool, &spool_video, &spool_audio])?;
    video_tee.link(&spool_video)?;
    spool_video.link_pads(None, &spool, Some("video"))?;
    audio_tee.link(&spool_audio)?;
    spool_audio.link_pads(None, &spool, Some("audio_%u"))?;

    // The live tap: the same encoded stream as MPEG-TS, dropped rather than waited for.
    let mux = make("mpegtsmux")?;
    mux.set_property("alignment", 7i32);
    let tap = gst_app::AppSink::builder()
        .sync(false)
        .max_buffers(1000)
        .drop(true)
        .build();
    let (live_video, live_audio) = (queue(true)?, queue(true)?);
    pipeline.add_many([&live_video, &live_audio, &mux, tap.upcast_ref()])?;
    video_tee.link(&live_video)?;
    live_video.link(&mux)?;
    audio_tee.link(&live_audio)?;
    live_audio.link(&mux)?;
    mux.link(&tap)?;

    let (tx, live) = mpsc::channel(2048);
    let eos_tx = tx.clone();
    tap.set_callbacks(
        gst_app::AppSinkCallbacks::builder()
            .new_sample(move |sink| {
                let sample = sink.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                if let Some(buffer) = sample.buffer_owned() {
                    // A full channel means the network is behind: drop live data, never block
                    // the recording.
                    let _ = tx.try_send(LiveChunk::Data(buffer));
                }
                Ok(gst::FlowSuccess::Ok)
            })
            .eos(move |_| {
                let _ = eos_tx.try_send(LiveChunk::End);
            })
            .build(),
    );
    Ok(Capture { pipeline, live })
}
