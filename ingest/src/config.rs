//! The box's settings: a TOML file (`--config`), then `LECTERN_INGEST_*` environment
//! variables (`__` between nested keys), checked once at start.

use lectern_client::{check_catalog_access, load_settings, SettingsError};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Everything the capture box needs to know.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    /// Base URL of the catalog, e.g. `http://127.0.0.1:8080`.
    pub catalog_url: String,
    /// The box's API token, issued by the catalog's admins.
    pub token: String,
    /// Where recordings are kept until the server holds them.
    pub spool_dir: PathBuf,
    /// Length of each spool chunk in seconds.
    pub chunk_seconds: u32,
    /// Seconds between keyframes; the worker's segments are a multiple of it.
    pub keyframe_seconds: u32,
    /// The simulated classroom's camera.
    pub source: Source,
}

/// A test source standing in for the classroom's camera and microphone.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Source {
    pub width: u32,
    pub height: u32,
    pub frame_rate: u32,
    pub video_bitrate_kbps: u32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            catalog_url: "http://127.0.0.1:8080".into(),
            token: String::new(),
            spool_dir: PathBuf::from(".lectern/spool"),
            chunk_seconds: 10,
            keyframe_seconds: 2,
            source: Source {
                width: 1280,
                height: 720,
                frame_rate: 30,
                video_bitrate_kbps: 3000,
            },
        }
    }
}

impl Config {
    /// Defaults, then the TOML file if given, then `LECTERN_INGEST_*` variables.
    pub fn load(file: Option<&Path>) -> Result<Config, SettingsError> {
        let config: Config = load_settings(file, "LECTERN_INGEST_", &["token"])?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), SettingsError> {
        let invalid = |key, message: &str| {
            Err(SettingsError::Invalid {
                key,
                message: message.to_owned(),
            })
        };
        check_catalog_access(&self.catalog_url, &self.token)?;
        if !(2..=60).contains(&self.chunk_seconds) {
            return invalid("chunk_seconds", "must be between 2 and 60");
        }
        if !(1..=10).contains(&self.keyframe_seconds) {
            return invalid("keyframe_seconds", "must be between 1 and 10");
        }
        let s = &self.source;
        if s.width < 16
            || s.height < 16
            || !s.width.is_multiple_of(2)
            || !s.height.is_multiple_of(2)
        {
            return invalid(
                "source.width",
                "width and height must be even and at least 16",
            );
        }
        if !(1..=60).contains(&s.frame_rate) {
            return invalid("source.frame_rate", "must be between 1 and 60");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_value_names_its_key() {
        let config = Config {
            token: "t".into(),
            chunk_seconds: 0,
            ..Config::default()
        };
        let err = config.validate().unwrap_err();
        assert!(err.to_string().contains("`chunk_seconds`"), "{err}");
    }

    #[test]
    fn a_file_with_a_wrong_type_names_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("i.toml");
        std::fs::write(&file, "token = \"t\"\n[source]\nwidth = \"wide\"\n").unwrap();
        let err = Config::load(Some(&file)).unwrap_err();
        assert!(err.to_string().contains("width"), "{err}");
    }
}
