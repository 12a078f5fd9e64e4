//! What the processes that connect out to the catalog share (design decision 8: capture
//! boxes and workers are clients).
//!
//! - [`api`]: [`ApiClient`], JSON over HTTP with the process's own API token, retried with
//!   backoff so a catalog that restarts costs a delay, not a lecture.
//! - [`settings`]: typed settings from defaults, a TOML file and prefixed environment
//!   variables, with errors that name the key.
#![forbid(unsafe_code)]

pub mod api;
pub mod settings;

pub use api::{ApiClient, ApiError, Attempts};
pub use settings::{check_catalog_access, check_range, load_settings, SettingsError};
