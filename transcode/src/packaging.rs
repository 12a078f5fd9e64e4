//! Drains a running transcode pipeline into the packager: it pairs each segment's bytes (from
//! its [`SegmentStream`](crate::segment_stream::SegmentStream)) with its timing (from
//! splitmuxsink's bus messages) and hands complete segments over, each rung in order.

use crate::encode::{location, parse_location, rung_of_sink};
use crate::error::WorkerError;
use crate::gst_util::bus_error;
use crate::segment_stream::FragmentBytes;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use gio::prelude::*;
use gst::prelude::*;
use lectern_packager::{Packager, Segment};
use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedReceiver;

/// How long a stopping pipeline may take to flush its last segments.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(15);

/// What came out of a pipeline.
#[derive(Debug)]
pub struct Packaged {
    /// Segments stored and reported, all rungs together.
    pub segments: u64,
    /// Why the pipeline stopped early, if it did.
    pub failure: Option<WorkerError>,
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

/// The pairing of bus messages and bytes into segments.
struct Assembler<'a> {
    track: &'a str,
    pending: HashMap<String, Pending>,
    /// Per rung: fragments opened and closed so far.
    counts: HashMap<String, (u64, u64)>,
    next_index: HashMap<String, u64>,
    clock: WallClock,
}

impl Assembler<'_> {
    /// Records splitmuxsink's fragment-opened/closed messages, which carry the running time.
    /// With stream output they carry no location, so the n-th fragment of a rung's sink is
    /// its segment n (hlssink2 numbers them the same way).
    fn note_message(&mut self, message: &gst::Message) {
        let gst::MessageView::Element(element) = message.view() else {
            return;
        };
        let Some(s) = element.structure() else { return };
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
        let Some(rung) = sink.as_deref().and_then(rung_of_sink) else {
            return;
        };
        let (opened_count, closed_count) = self.counts.entry(rung.to_owned()).or_default();
        let counter = if opened { opened_count } else { closed_count };
        let entry = self.pending.entry(location(rung, *counter)).or_default();
        *counter += 1;
        if opened {
            entry.opened_at = Some((running_time, self.clock.at(running_time)));
            entry.sink = s.get::<gst::Element>("sink").ok();
        } else {
            entry.closed_at = Some(running_time);
        }
    }

    fn note_bytes(&mut self, fragment: FragmentBytes) {
        self.pending.entry(fragment.location).or_default().body = Some(fragment.body);
    }

    /// hlssink2 leaves the last segment's stream open at EOS: close it so its bytes arrive.
    fn close_open_streams(&self) {
        for p in self.pending.values().filter(|p| p.body.is_none()) {
            let stream = p
                .sink
                .as_ref()
                .and_then(|sink| sink.property::<Option<gio::OutputStream>>("stream"));
            if let Some(stream) = stream {
                let _ = stream.close(gio::Cancellable::NONE);
            }
        }
    }

    /// Hands every complete segment to the packager, each rung in index order.
    async fn push_ready(&mut self, packager: &mut Packager) -> Result<u64, WorkerError> {
        let mut pushed = 0;
        loop {
            let ready = self.pending.iter().find_map(|(location, p)| {
                let (rung, index) = parse_location(location)?;
                let complete = p.body.is_some() && p.opened_at.is_some() && p.closed_at.is_some();
                (complete && self.next_index.get(rung).copied().unwrap_or(0) == index)
                    .then(|| location.clone())
            });
            let Some(location) = ready else {
                return Ok(pushed);
            };
            let p = self.pending.remove(&location).expect("found above");
            let (rung, index) = parse_location(&location).expect("parsed above");
            let (opened, program_date_time) = p.opened_at.expect("complete");
            let duration = p.closed_at.expect("complete").saturating_sub(opened) as f64 / 1e9;
            packager
                .push(Segment {
                    track: self.track.to_owned(),
                    rung: rung.to_owned(),
                    duration,
                    program_date_time,
                    discontinuity: false,
                    body: p.body.expect("complete"),
                })
                .await?;
            self.next_index.insert(rung.to_owned(), index + 1);
            pushed += 1;
        }
    }
}

/// Runs `pipeline` (already playing) to its end, or until `shutdown` resolves (then it is
/// flushed with EOS), packaging every segment of `track`. Leaves the pipeline stopped.
pub async fn package(
    pipeline: &gst::Pipeline,
    messages: &mut gst::bus::BusStream,
    fragments: &mut UnboundedReceiver<FragmentBytes>,
    packager: &mut Packager,
    track: &str,
    shutdown: impl Future<Output = ()>,
) -> Result<Packaged, WorkerError> {
    let lecture = packager.lecture().to_owned();
    let mut assembler = Assembler {
        track,
        pending: HashMap::new(),
        counts: HashMap::new(),
        next_index: HashMap::new(),
        clock: WallClock::default(),
    };
    let mut segments = 0u64;
    let mut stopping: Option<tokio::time::Instant> = None;
    let mut failure: Option<WorkerError> = None;
    tokio::pin!(shutdown);
    loop {
        let deadline = stopping.map(|at| at + DRAIN_TIMEOUT);
        tokio::select! {
            Some(message) = messages.next() => {
                if matches!(message.view(), gst::MessageView::Eos(_)) {
                    break;
                }
                if let Some(e) = bus_error(&message) {
                    failure = Some(e);
                    break;
                }
                assembler.note_message(&message);
            }
            Some(fragment) = fragments.recv() => assembler.note_bytes(fragment),
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
        segments += assembler.push_ready(packager).await?;
    }
    assembler.close_open_streams();
    let _ = pipeline.set_state(gst::State::Null);
    while let Ok(fragment) = fragments.try_recv() {
        assembler.note_bytes(fragment);
    }
    segments += assembler.push_ready(packager).await?;
    for (location, p) in &assembler.pending {
        tracing::error!(%lecture, %location, opened = ?p.opened_at.map(|o| o.0), closed = ?p.closed_at, bytes = p.body.is_some(), "a segment was never completed by the pipeline");
    }
    Ok(Packaged { segments, failure })
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
