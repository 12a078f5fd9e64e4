//! The ingest daemon of a classroom capture box.
//!
//! It records before it does anything else: the capture pipeline writes every track to the
//! local spool in short MPEG-TS chunks, independently of the network. Then it asks the
//! catalog for a live destination and pushes the same encoded stream over SRT, best effort,
//! in a separate pipeline that can fail and reconnect without touching the recording.
//!
//! - [`config`]: the box's typed settings.
//! - [`capture`]: the capture pipeline (sources, encoders, spool, live tap).
//! - [`spool`]: the chunk journal (size, duration, SHA-256, confirmed or not), the start-up
//!   repair after a kill, and the disk guard that deletes only what the catalog holds.
//! - [`live_push`]: the SRT pusher, restarted with backoff.
//! - [`catalog`]: the catalog client of the agent API.
//! - [`run`]: one recording from start to a clean stop.
#![forbid(unsafe_code)]

pub mod capture;
pub mod catalog;
pub mod config;
pub mod error;
pub mod live_push;
mod recorder;
pub mod spool;
pub mod upload;

pub use config::Config;
pub use error::IngestError;
pub use recorder::run;
