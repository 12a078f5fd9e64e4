//! Pictures of a track for the player and the course page: a poster, timeline thumbnails
//! (sprite sheets and a WebVTT file that maps the timeline onto their tiles) and, for the
//! tracks that show slides, chapters at the slide changes.
//!
//! ```text
//! ladder tee ─ queue (leaky) ! videorate (1 frame / 5 s) ! videoconvert ! videoscale (RGB, 640 wide) ! appsink
//!                                                                                          │ frames
//!   writer task ◀──────────────────────────────────────────────────────────────────────────┘
//!   ├─ poster.jpg: the first sample from 3 s on that is not near-uniform (not the black first frame)
//!   ├─ 160-wide thumbnails on 10 × 10 sprite sheets, sprite-<n>.jpg, listed by thumbnails.vtt
//!   └─ chapters.vtt: slide changes (`slides.rs`), on the tracks [`Settings::chapter_tracks`] names
//! ```
//!
//! **One sample every [`INTERVAL_SECONDS`] (5 s).** On a phone's seek bar a 90-minute lecture
//! is some 350 pixels, 15 s a pixel: finer sampling would add sheets no one can point at; 5 s
//! keeps a slide shown for half a minute in several thumbnails, makes chapter instants exact
//! to 5 s, and costs 11 sheets (about 1.5 MB) for 90 minutes. The sampling `videorate` sits
//! before any scaling, so the branch converts and scales one frame in 150.
//!
//! **When things are written.** The poster as soon as it is picked (seconds into a live
//! lecture, so the course page has it at once); each sheet when full (every 8⅓ minutes) and
//! `thumbnails.vtt` after it; `chapters.vtt` at each new chapter; at the end the last, partial
//! sheet and the final files. Sheets are immutable (cached for good by viewers), so a partial
//! one is written only once, at the end; a live viewer's thumbnails lag by at most a sheet.
//! Each change is reported to the catalog after it is stored ([`ThumbnailStore::report`]).
//!
//! **Never in the media's way.** The branch's queue is leaky and its sink drops what the
//! writer has no room for, so a slow writer loses thumbnails, never frames of the ladder;
//! storage is waited out only briefly; every failure is logged and the lecture carries on.
//!
//! JPEG comes from GStreamer's `jpegenc` (`jpeg.rs`): the platform has it, the worker needs no
//! image crate for a handful of pictures per lecture.

mod jpeg;
mod picture;
mod slides;
mod sprites;
mod writer;

use crate::error::WorkerError;
use crate::gst_util::make;
use gst::prelude::*;
use gst_video::prelude::*;
use lectern_packager::ThumbnailStore;
use lectern_wire::worker::ThumbnailReport;
use picture::Picture;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// Seconds between two samples (a thumbnail each; slide changes are found at this grain).
pub const INTERVAL_SECONDS: u32 = 5;
/// The width of the sampled frames and of the poster.
pub const POSTER_WIDTH: u32 = 640;
/// The width of a timeline thumbnail (its height keeps the picture's shape).
pub const THUMBNAIL_WIDTH: u32 = 160;
/// Frames waiting for the writer; more are dropped (one is 0.7 MB).
const WAITING_FRAMES: usize = 8;
/// How long the writer may take to store its last sheet and files once the media is done.
const FINISH_TIMEOUT: Duration = Duration::from_secs(60);

/// `[thumbnails]` of the worker's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Whether the worker makes posters, timeline thumbnails and chapters (default true).
    pub enabled: bool,
    /// The tracks whose slide changes become chapters: a capture box's screen track, and the
    /// one track (`main`) of an uploaded file (default `["screen", "main"]`). A camera's
    /// picture changes all the time and makes no useful chapters.
    pub chapter_tracks: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            enabled: true,
            chapter_tracks: vec!["screen".into(), "main".into()],
        }
    }
}

impl Settings {
    /// Whether slide changes of `track` become chapters.
    pub fn chapters_for(&self, track: &str) -> bool {
        self.chapter_tracks.iter().any(|t| t == track)
    }
}

/// A sampled frame: its presentation time and its pixels ([`POSTER_WIDTH`] wide).
#[derive(Debug)]
struct Frame {
    pts: gst::ClockTime,
    picture: Picture,
}

/// The thumbnail branch of a pipeline; its frames wait until [`Branch::start`] takes them
/// (a live pipeline learns its track only when the capture box connects).
#[derive(Debug)]
pub struct Branch {
    frames: mpsc::Receiver<Frame>,
    settings: Settings,
}

/// Adds the thumbnail branch to `pipeline`, fed from `tee` (the ladder's video); `None`, with
/// the pipeline untouched, when thumbnails are off or the branch cannot be built (logged: the
/// lecture goes on without pictures).
pub fn attach(pipeline: &gst::Pipeline, tee: &gst::Element, settings: &Settings) -> Option<Branch> {
    if !settings.enabled {
        return None;
    }
    match add_branch(pipeline, tee) {
        Ok(frames) => Some(Branch {
            frames,
            settings: settings.clone(),
        }),
        Err(e) => {
            tracing::warn!(error = %e, "no thumbnails for this pipeline: its branch could not be built");
            None
        }
    }
}

fn add_branch(
    pipeline: &gst::Pipeline,
    tee: &gst::Element,
) -> Result<mpsc::Receiver<Frame>, WorkerError> {
    let queue = make("queue", None)?;
    // Leaky: should the branch ever fall behind, it loses its own frames instead of holding
    // up the tee and with it every rung.
    queue.set_property("max-size-bytes", 0u32);
    queue.set_property("max-size-time", 0u64);
    queue.set_property("max-size-buffers", 30u32);
    queue.set_property_from_str("leaky", "downstream");
    let rate = make("videorate", None)?;
    let rate_caps = make("capsfilter", None)?;
    rate_caps.set_property(
        "caps",
        gst::Caps::builder("video/x-raw")
            .field("framerate", gst::Fraction::new(1, INTERVAL_SECONDS as i32))
            .build(),
    );
    let convert = make("videoconvert", None)?;
    let scale = make("videoscale", None)?;
    let size = make("capsfilter", None)?;
    // Only the width: videoscale picks the height that keeps the picture's shape.
    size.set_property(
        "caps",
        gst::Caps::builder("video/x-raw")
            .field("format", "RGB")
            .field("width", POSTER_WIDTH as i32)
            .field("pixel-aspect-ratio", gst::Fraction::new(1, 1))
            .build(),
    );
    let (frames_tx, frames) = mpsc::channel(WAITING_FRAMES);
    let sink = gst_app::AppSink::builder()
        .sync(false)
        // Never holds up the pipeline's preroll (a file may turn out to have no picture).
        .async_(false)
        .callbacks(
            gst_app::AppSinkCallbacks::builder()
                .new_sample(move |sink| {
                    let sample = sink.pull_sample().map_err(|_| gst::FlowError::Eos)?;
                    match frame_of(&sample) {
                        Some(frame) => {
                            if let Err(mpsc::error::TrySendError::Full(_)) =
                                frames_tx.try_send(frame)
                            {
                                tracing::warn!(
                                    "the thumbnail writer is behind; a thumbnail is skipped"
                                );
                            }
                        }
                        None => tracing::warn!(
                            "a sampled frame could not be read; a thumbnail is skipped"
                        ),
                    }
                    Ok(gst::FlowSuccess::Ok)
                })
                .build(),
        )
        .build();
    let chain = [
        &queue,
        &rate,
        &rate_caps,
        &convert,
        &scale,
        &size,
        sink.upcast_ref(),
    ];
    pipeline.add_many(chain)?;
    let linked = gst::Element::link_many(chain).and_then(|()| tee.link(&queue));
    if let Err(e) = linked {
        let _ = pipeline.remove_many(chain);
        return Err(e.into());
    }
    Ok(frames)
}

/// The pixels of a sampled RGB frame, packed.
fn frame_of(sample: &gst::Sample) -> Option<Frame> {
    let buffer = sample.buffer()?;
    let info = gst_video::VideoInfo::from_caps(sample.caps()?).ok()?;
    let frame = gst_video::VideoFrameRef::from_buffer_ref_readable(buffer, &info).ok()?;
    let (width, height) = (frame.width(), frame.height());
    let stride = usize::try_from(*frame.plane_stride().first()?).ok()?;
    let data = frame.plane_data(0).ok()?;
    let row = width as usize * 3;
    let mut rgb = Vec::with_capacity(row * height as usize);
    for y in 0..height as usize {
        rgb.extend_from_slice(data.get(y * stride..y * stride + row)?);
    }
    Some(Frame {
        pts: buffer.pts()?,
        picture: Picture { width, height, rgb },
    })
}

impl Branch {
    /// Starts writing the pictures of `store`'s track from the frames, on a timeline that
    /// begins at `offset` seconds (what a resumed session's track already holds).
    pub fn start(self, store: ThumbnailStore, offset: f64) -> Writer {
        let chapters = self.settings.chapters_for(store.track());
        let (done_tx, done) = oneshot::channel();
        let task = tokio::spawn(writer::run(self.frames, done, store, chapters, offset));
        Writer {
            task: Some(task),
            done: Some(done_tx),
        }
    }
}

/// The pictures of a track being written. Dropped without [`Writer::finish`] (the attempt was
/// cancelled, e.g. its lease went to another worker), the writer stops at once: what it
/// stored afterwards would outlive the deletion of the attempt's files.
#[derive(Debug)]
pub struct Writer {
    task: Option<tokio::task::JoinHandle<Option<ThumbnailReport>>>,
    done: Option<oneshot::Sender<()>>,
}

impl Drop for Writer {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

impl Writer {
    /// Call once the pipeline has stopped: the writer takes the frames left, stores the last
    /// sheet and the final files, and returns what it reported (`None` when it stored
    /// nothing). Waits at most a minute, so pictures never hold up the end of a lecture.
    pub async fn finish(mut self) -> Option<ThumbnailReport> {
        if let Some(done) = self.done.take() {
            let _ = done.send(());
        }
        let mut task = self.task.take()?;
        match tokio::time::timeout(FINISH_TIMEOUT, &mut task).await {
            Ok(Ok(report)) => report,
            Ok(Err(e)) => {
                tracing::error!(error = %e, "the thumbnail writer failed; the lecture has no more pictures");
                None
            }
            Err(_) => {
                task.abort();
                tracing::warn!(
                    "the thumbnail writer did not finish in time; the last pictures are left out"
                );
                None
            }
        }
    }
}
