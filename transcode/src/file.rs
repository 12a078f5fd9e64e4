//! Transcodes a media file into the ladder: the on-demand path (uploads, gap repair) and the
//! ladder benchmark.
//!
//! ```text
//! filesrc ! decodebin ─┬─ videoconvert ─────────────────────────────────────────▶ ladder video
//!                      └─ audioconvert ! audioresample ! avenc_aac ─────────────▶ ladder audio
//! ```

use crate::encode::{add_ladder, FrameTiming};
use crate::error::WorkerError;
use crate::gst_util::{make, unbounded_queue, StopOnDrop};
use crate::ladder::Ladder;
use crate::packaging::{package, Packaged};
use crate::thumbnails;
use gst::prelude::*;
use lectern_packager::Packager;
use std::path::Path;

/// Transcodes `input` into `ladder`'s renditions of `track` (announced to `packager` by the
/// caller), with the track's pictures as `pictures` says, as fast as the machine allows.
pub async fn transcode_file(
    input: &Path,
    ladder: &Ladder,
    track: &str,
    packager: &mut Packager,
    pictures: &thumbnails::Settings,
) -> Result<Packaged, WorkerError> {
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

    let video_convert = make("videoconvert", None)?;
    let video_queue = unbounded_queue()?;
    pipeline.add_many([&video_queue, &video_convert])?;
    video_queue.link(&video_convert)?;

    let audio_queue = unbounded_queue()?;
    let audio_convert = make("audioconvert", None)?;
    let resample = make("audioresample", None)?;
    let audio_caps = make("capsfilter", None)?;
    audio_caps.set_property(
        "caps",
        gst::Caps::builder("audio/x-raw")
            .field("rate", 48_000i32)
            .field("channels", 2i32)
            .build(),
    );
    let aac = make("avenc_aac", None)?;
    aac.set_property("bitrate", 128_000i32);
    let audio_chain = [&audio_queue, &audio_convert, &resample, &audio_caps, &aac];
    pipeline.add_many(audio_chain)?;
    gst::Element::link_many(audio_chain)?;

    let inputs = add_ladder(&pipeline, ladder, FrameTiming::AsSource, fragments_tx)?;
    video_convert.link(&inputs.video)?;
    aac.link(&inputs.audio)?;
    let pictures = thumbnails::attach(&pipeline, &inputs.decoded, pictures).map(|branch| {
        branch.start(
            packager.thumbnail_store(track),
            packager.seconds_stored(track),
        )
    });

    let video_sink = video_queue
        .static_pad("sink")
        .expect("queue has a sink pad");
    let audio_sink = audio_queue
        .static_pad("sink")
        .expect("queue has a sink pad");
    decode.connect_pad_added(move |_, pad| {
        let caps = pad.current_caps().unwrap_or_else(|| pad.query_caps(None));
        let kind = caps
            .structure(0)
            .map(|s| s.name().to_string())
            .unwrap_or_default();
        let target = if kind.starts_with("video/") {
            &video_sink
        } else if kind.starts_with("audio/") {
            &audio_sink
        } else {
            return;
        };
        if !target.is_linked() {
            if let Err(e) = pad.link(target) {
                tracing::error!(stream = %kind, error = ?e, "could not link the decoded stream");
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
    if packaged.segments == 0 {
        if let Some(e) = packaged.failure {
            return Err(WorkerError::Input {
                path: input.to_owned(),
                message: e.to_string(),
            });
        }
    }
    Ok(packaged)
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
    let packaged = transcode_file(input, ladder, TRACK, &mut packager, &pictures).await?;
    let error = packaged.failure.as_ref().map(ToString::to_string);
    packager.finish(error).await?;
    match packaged.failure {
        Some(e) => Err(WorkerError::Input {
            path: input.to_owned(),
            message: e.to_string(),
        }),
        None => Ok(packaged.segments),
    }
}
