//! The transcode worker. It registers with the catalog, listens for a capture box's live
//! stream over SRT, decodes each track once, encodes an adaptive ladder whose rungs cut at the
//! same instants, and hands the segments to the packager, which stores them and reports them
//! to the catalog.
//!
//! - [`config`]: the worker's typed settings.
//! - [`ladder`]: the rungs and the encoder settings that keep their keyframes aligned.
//! - [`encode`]: the ladder half of every pipeline (one decode in, a segmenter per rung out).
//! - [`live`]: one live session: the SRT listener in front of the ladder.
//! - [`file`]: a media file in front of the ladder (on-demand jobs, the benchmark).
//! - [`probe`]: what an uploaded file holds, or why it cannot become a lecture.
//! - [`jobs`]: on-demand jobs from the catalog's queue (uploads), with lease heartbeats.
//! - [`packaging`]: drains a running pipeline's segments into the packager.
//! - [`thumbnails`]: a branch off the ladder's video that makes each track's poster, timeline
//!   thumbnails (sprite sheets + WebVTT) and slide-change chapters.
//! - [`catalog`]: the catalog client (registration and the packager's [`Reporter`](lectern_packager::Reporter)).
//! - [`metrics`]: the worker's Prometheus figures and their `/metrics` endpoint, fed by
//!   [`timed_storage`] (upload latency), the jobs and the live sessions.
//! - [`run`]: the worker's main loop, one session after another until shutdown.

pub mod catalog;
pub mod config;
pub mod encode;
pub mod error;
pub mod file;
mod gst_util;
pub mod jobs;
pub mod ladder;
pub mod live;
pub mod metrics;
pub mod packaging;
pub mod probe;
pub mod segment_stream;
pub mod thumbnails;
pub mod timed_storage;
mod worker;

pub use config::Config;
pub use error::WorkerError;
pub use worker::{run, Worker};
