//! The catalog: Lectern's server of record. It knows the institutes, people, courses,
//! enrolments, rooms, capture boxes, workers and lectures, and it decides who may watch
//! what, down to every byte of media (design decision 7).
//!
//! Data comes in from three kinds of callers, each with its own authentication:
//! - people's browsers (session cookie, [`auth::AuthUser`]) under `/api/v1`: login,
//!   courses, lectures and playback, which hands out a media URL with a token;
//! - capture boxes (bearer token, [`auth::AgentAuth`]) start and stop recordings, send
//!   heartbeats and fetch their room's schedule (timings expanded by [`recurrence`]);
//! - transcode workers (bearer token, [`auth::WorkerAuth`]) register and report
//!   renditions, stored segments, a track's pictures and the end of a lecture, and claim jobs
//!   ([`store::JobPolicy`]: leases, heartbeats, completion with a segment index, retries);
//!   what a job's unfinished attempts stored is deleted when it ends ([`attempt_sweeper`]).
//!
//! Media goes out under `/media` ([`media`]): playlists rendered from the catalog's own rows
//! with the packager's m3u8-rs functions, the viewer's [`media_token`] on every URI, and
//! segments served from storage with byte ranges; a track's poster, sprite sheets and WebVTT
//! files (timeline thumbnails, chapters) beside them ([`media::pictures`]).
//!
//! Guards around people's requests: [`login_throttle`] (429 after repeated failed logins, per
//! account and per [`client_addr`]) and [`cross_site`] (403 for unsafe cross-site requests).
//!
//! Operators get `/healthz`, `/readyz` and a token-guarded Prometheus `/metrics` ([`ops`]),
//! and commands beside serving ([`cli`]): `lectern-catalog institute create` makes an
//! institute and invites its first admin.
//!
//! Accounts are made by institutes ([`accounts`], [`password_policy`]): admins invite people
//! with single-use activation links; where an institute allows it, people sign up.
//!
//! People upload lecture files whole (`api::uploads`) or, when they are big, resumably on the
//! tus protocol (`api::resumable`), whose bytes wait in storage ([`staging`]) until the last
//! arrives.
//!
//! What the catalog keeps about people, why, for how long, and how it is exported and
//! erased is listed column by column in [`privacy::registry`] (`docs/privacy.md`). What is
//! kept of people's viewing (resume, watch time, aggregates over cohorts of five or more,
//! nothing beyond resume for children) is decided in [`viewing`].
//!
//! Where to start reading: [`startup`] ([`run`], [`app`], [`AppState`]), then [`api`], then
//! [`store`], the only place with SQL. The contract is `docs/contracts.md`.

pub mod accounts;
pub mod api;
pub mod attempt_sweeper;
pub mod auth;
pub mod cli;
pub mod client_addr;
pub mod config;
pub mod cross_site;
pub mod error;
pub mod import;
pub mod login_throttle;
pub mod media;
pub mod media_token;
pub mod ops;
pub mod password_policy;
pub mod privacy;
pub mod recurrence;
pub mod staging;
pub mod startup;
pub mod store;
pub mod viewing;

pub use config::{Config, ConfigError, ENV_PREFIX};
pub use error::ApiError;
pub use startup::{app, run, App, AppState, StartupError};
