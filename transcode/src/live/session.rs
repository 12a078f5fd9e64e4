//! Runs one live session: waits for a capture box to connect, then drains the pipeline's
//! bus and segments into the packager until the stream ends.

use super::pipeline::{self, parse_location};
use crate::catalog::CatalogClient;
use crate::config::Config;
use crate::error::WorkerError;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use gio::prelude::*;
use gst::prelude::*;
use lectern_packager::{Packager, Segment, Storage};
use lectern_wire::worker::{RenditionReport, StreamId};
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// How long a stopping session waits for the pipeline to flush its last segments.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(15);

/// How a session ended.
#[derive(Debug)]
pub enum Outcome {
    /// The worker was asked to stop before any capture box connected.
    Stopped,
    /// A lecture was received and packaged to its end.
    Finished { lecture: String, segments: u64 },
}

/// A segment being assembled from what the bus says and the bytes the sink wrote.
#[derive(Default)]
struct Pending {
    opened_at: Option<(u64, DateTime<Utc>)>,
    closed_at: Option<u64>,
    body: Option<Bytes>,
    /// The sink writing it, to close its stream if the pipeline stops before it does.
    sink: Option<gst::Element>,
}

/// Runs one session on the configured listener until its stream ends or `shutdown` resolves.
pub async fn run(
    config: &Config,
    storage: Arc<dyn Storage>,
    catalog: CatalogClient,
    shutdown: impl Future<Output = ()>,
) -> Result<Outcome, WorkerError> {
    let mut live = pipeline::build(config)?;
    let pipeline = live.pipeline.clone();
    let result = drive(config, &mut live, storage, catalog, shutdown).await;
    // Every exit path stops the pipeline.
    let _ = pipeline.set_state(gst::State::Null);
    result
}

async fn drive(
    config: &Config,
    live: &mut pipeline::LivePipeline,
    storage: Arc<dyn Storage>,
    catalog: CatalogClient,
    shutdown: impl Future<Output = ()>,
) -> Result<Outcome, WorkerError> {
    let pipeline = live.pipeline.clone();
    let bus = pipeline.bus().expect("a pipeline has a bus");
    let mut messages = bus.stream();
    pipeline.set_state(gst::State::Playing)?;
    tracing::info!(listen = %config.srt_listen, "waiting for a capture box to connect over SRT");
    tokio::pin!(shutdown);

    let stream_id: StreamId = loop {
        tokio::select! {
            id = live.connected.recv() => break id.expect("the listener lives as long as the pipeline"),
            Some(message) = messages.next() => check_error(&message)?,
            _ = &mut shutdown => return Ok(Outcome::Stopped),
        }
    };
    let lecture = stream_id.lecture_id.clone();
    tracing::info!(%lecture, track = %stream_id.track, "capture box connected; transcoding live");

    let mut packager = Packager::new(&lecture, storage, Arc::new(catalog));
    for rung in &config.ladder {
        packager
            .add_rendition(RenditionReport {
                track: stream_id.track.clone(),
                rung: rung.name.clone(),
                width: rung.width,
                height: rung.height,
                bandwidth: u64::from(rung.bitrate_kbps) * 1000,
                codecs: rung.codecs(),
                frame_rate: f64::from(config.frame_rate),
            })
            .await?;
    }

    let mut pending: HashMap<String, Pending> = HashMap::new();
    let mut counts: HashMap<String, (u64, u64)> = HashMap::new();
    let mut clock = WallClock::default();
    let mut next_index: HashMap<String, u64> = HashMap::new();
    let mut segments = 0u64;
    let mut stopping: Option<tokio::time::Instant> = None;
    let mut failure: Option<WorkerError> = None;
    loop {
        let deadline = stopping.map(|at| at + DRAIN_TIMEOUT);
        tokio::select! {
            Some(message) = messages.next() => {
                use gst::MessageView;
                match message.view() {
                    MessageView::Eos(_) => break,
                    MessageView::Error(_) => {
                        failure = check_error(&message).err();
                        break;
                    }
                    MessageView::Element(element) => {
                        if let Some(s) = element.structure() {
                            note_fragment(&message, s, &mut clock, &mut counts, &mut pending);
                        }
                    }
                    _ => {}
                }
            }
            Some(fragment) = live.fragments.recv() => {
                pending.entry(fragment.location).or_default().body = Some(fragment.body);
            }
            _ = &mut shutdown, if stopping.is_none() => {
                tracing::info!(%lecture, "stopping: flushing the last segments");
                pipeline.send_event(gst::event::Eos::new());
                stopping = Some(tokio::time::Instant::now());
            }
            _ = sleep_until(deadline) => {
                tracing::warn!(%lecture, "the pipeline did not flush in time; closing the lecture with what is stored");
                break;
            }
        }
        segments += push_ready(
            &mut packager,
            &stream_id.track,
            &mut pending,
            &mut next_index,
        )
        .await?;
    }
    // hlssink2 leaves the last segment's stream open at EOS: close it so its bytes arrive.
    for p in pending.values().filter(|p| p.body.is_none()) {
        let stream = p
            .sink
            .as_ref()
            .and_then(|sink| sink.property::<Option<gio::OutputStream>>("stream"));
        tracing::debug!(has_stream = stream.is_some(), "closing a segment left open");
        if let Some(stream) = stream {
            let _ = stream.close(gio::Cancellable::NONE);
        }
    }
    let _ = pipeline.set_state(gst::State::Null);
    while let Ok(fragment) = live.fragments.try_recv() {
        pending.entry(fragment.location).or_default().body = Some(fragment.body);
    }
    segments += push_ready(
        &mut packager,
        &stream_id.track,
        &mut pending,
        &mut next_index,
    )
    .await?;
    for (location, p) in &pending {
        tracing::error!(%lecture, %location, opened = ?p.opened_at.map(|o| o.0), closed = ?p.closed_at, bytes = p.body.is_some(), "a segment was never completed by the pipeline");
    }
    let error = failure
        .as_ref()
        .map(|e| format!("the live stream failed: {e}"));
    packager.finish(error).await?;
    tracing::info!(%lecture, segments, "live session finished");
    match failure {
        Some(e) if segments == 0 => Err(e),
        _ => Ok(Outcome::Finished { lecture, segments }),
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

fn check_error(message: &gst::Message) -> Result<(), WorkerError> {
    if let gst::MessageView::Error(e) = message.view() {
        return Err(WorkerError::Pipeline {
            element: e
                .src()
                .map(|s| s.path_string().to_string())
                .unwrap_or_default(),
            message: e.error().to_string(),
            debug: e.debug().map(|d| d.to_string()).unwrap_or_default(),
        });
    }
    Ok(())
}

/// Records splitmuxsink's fragment-opened/closed messages, which carry the running time.
/// With stream output they carry no location, so the n-th fragment of a rung's sink is its
/// segment n (hlssink2 numbers them the same way).
fn note_fragment(
    message: &gst::Message,
    s: &gst::StructureRef,
    clock: &mut WallClock,
    counts: &mut HashMap<String, (u64, u64)>,
    pending: &mut HashMap<String, Pending>,
) {
    let opened = match s.name().as_str() {
        "splitmuxsink-fragment-opened" => true,
        "splitmuxsink-fragment-closed" => false,
        _ => return,
    };
    let Ok(running_time) = s.get::<u64>("running-time") else {
        return;
    };
    let sink = message
        .src()
        .and_then(|splitmux| splitmux.parent())
        .map(|hls| hls.name().to_string());
    let Some(rung) = sink.as_deref().and_then(pipeline::rung_of_sink) else {
        return;
    };
    let (opened_count, closed_count) = counts.entry(rung.to_owned()).or_default();
    let counter = if opened { opened_count } else { closed_count };
    let entry = pending
        .entry(pipeline::location(rung, *counter))
        .or_default();
    *counter += 1;
    if opened {
        entry.opened_at = Some((running_time, clock.at(running_time)));
        entry.sink = s.get::<gst::Element>("sink").ok();
    } else {
        entry.closed_at = Some(running_time);
    }
}

/// Maps running time to wall-clock time, anchored at the first segment's start.
// TODO(transcode issue): take the instant from the capture box's own clock, so camera and
// screen tracks share one timeline.
#[derive(Default)]
struct WallClock {
    anchor: Option<(u64, DateTime<Utc>)>,
}

impl WallClock {
    fn at(&mut self, running_time: u64) -> DateTime<Utc> {
        let (anchor_rt, anchor_wall) = *self
            .anchor
            .get_or_insert_with(|| (running_time, Utc::now()));
        anchor_wall + chrono::Duration::nanoseconds(running_time as i64 - anchor_rt as i64)
    }
}

/// Hands every complete segment to the packager, each rung in index order.
async fn push_ready(
    packager: &mut Packager,
    track: &str,
    pending: &mut HashMap<String, Pending>,
    next_index: &mut HashMap<String, u64>,
) -> Result<u64, WorkerError> {
    let mut pushed = 0;
    loop {
        let ready = pending.iter().find_map(|(location, p)| {
            let (rung, index) = parse_location(location)?;
            let complete = p.body.is_some() && p.opened_at.is_some() && p.closed_at.is_some();
            (complete && next_index.get(rung).copied().unwrap_or(0) == index)
                .then(|| location.clone())
        });
        let Some(location) = ready else {
            return Ok(pushed);
        };
        let p = pending.remove(&location).expect("found above");
        let (rung, index) = parse_location(&location).expect("parsed above");
        let (opened, program_date_time) = p.opened_at.expect("complete");
        let duration = p.closed_at.expect("complete").saturating_sub(opened) as f64 / 1e9;
        packager
            .push(Segment {
                track: track.to_owned(),
                rung: rung.to_owned(),
                duration,
                program_date_time,
                discontinuity: false,
                body: p.body.expect("complete"),
            })
            .await?;
        next_index.insert(rung.to_owned(), index + 1);
        pushed += 1;
    }
}
