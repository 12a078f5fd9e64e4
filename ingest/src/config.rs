//! The box's settings: a TOML file (`--config`), then `LECTERN_INGEST_*` environment
//! variables (`__` between nested keys), checked once at start.

use lectern_client::{check_catalog_access, check_range, load_settings, SettingsError};
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
    /// How much the spool may hold; see [`crate::spool::DiskGuard`].
    pub disk_guard: DiskGuardConfig,
}

/// The disk guard's limits (`[disk_guard]`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DiskGuardConfig {
    /// The most the spool may hold, in MiB. Over it, chunks the catalog has confirmed are
    /// deleted, oldest first; chunks it has not are never deleted, only warned about.
    pub spool_limit_mib: u64,
    /// Free space to keep on the spool's file system, in MiB: under it, confirmed chunks are
    /// deleted and a warning is raised.
    pub min_free_mib: u64,
    /// Seconds between the guard's passes.
    pub interval_seconds: u64,
}

impl DiskGuardConfig {
    /// The limits in bytes.
    pub fn limits(&self) -> crate::spool::DiskLimits {
        crate::spool::DiskLimits {
            spool_limit_bytes: self.spool_limit_mib.saturating_mul(MIB),
            min_free_bytes: self.min_free_mib.saturating_mul(MIB),
        }
    }

    /// The time between passes.
    pub fn interval(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.interval_seconds)
    }
}

const MIB: u64 = 1024 * 1024;

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
            disk_guard: DiskGuardConfig {
                spool_limit_mib: 64 * 1024,
                min_free_mib: 2 * 1024,
                interval_seconds: 30,
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
        check_range("chunk_seconds", self.chunk_seconds, 2..=60)?;
        check_range("keyframe_seconds", self.keyframe_seconds, 1..=10)?;
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
        check_range("source.frame_rate", s.frame_rate, 1..=60)?;
        let guard = &self.disk_guard;
        if guard.spool_limit_mib == 0 {
            return invalid(
                "disk_guard.spool_limit_mib",
                "must be at least 1 (MiB the spool may hold)",
            );
        }
        check_range(
            "disk_guard.interval_seconds",
            guard.interval_seconds,
            1..=3600,
        )?;
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
    fn a_zero_spool_limit_names_its_key() {
        let mut config = Config {
            token: "t".into(),
            ..Config::default()
        };
        config.disk_guard.spool_limit_mib = 0;
        let err = config.validate().unwrap_err();
        assert!(
            err.to_string().contains("`disk_guard.spool_limit_mib`"),
            "{err}"
        );
    }

    #[test]
    fn a_guard_interval_of_zero_names_its_key() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("i.toml");
        std::fs::write(&file, "token = \"t\"\n[disk_guard]\ninterval_seconds = 0\n").unwrap();
        let err = Config::load(Some(&file)).unwrap_err();
        assert!(
            err.to_string().contains("`disk_guard.interval_seconds`"),
            "{err}"
        );
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
