//! The worker's settings: a TOML file (`--config`), then `LECTERN_TRANSCODE_*` environment
//! variables (`__` between nested keys), checked once at start.

use crate::ladder::Rung;
use lectern_client::{check_catalog_access, check_range, load_settings, SettingsError};
use lectern_packager::{Storage, StorageConfig, StorageError};
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Everything the worker needs to know.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    /// Base URL of the catalog, e.g. `http://127.0.0.1:8080`.
    pub catalog_url: String,
    /// The worker's API token, issued by the catalog's admins.
    pub token: String,
    /// The address the SRT listeners bind to (`0.0.0.0` for every interface).
    pub srt_bind: IpAddr,
    /// The UDP ports live sessions listen on, one port per session: `"first-last"`
    /// (inclusive), e.g. `"9000-9009"` takes ten sessions at once.
    pub srt_port_range: String,
    /// The host name or address capture boxes reach the listeners at; defaults to
    /// `srt_bind` (required when that is `0.0.0.0` or `::`).
    pub srt_host: Option<String>,
    /// The local storage directory segments and playlists are written to when
    /// `storage.kind` is `local`.
    pub storage_dir: PathBuf,
    /// Which storage segments and playlists go to: `[storage]`.
    pub storage: StorageConfig,
    /// Target segment length in seconds; every rung cuts at these instants.
    pub segment_seconds: u32,
    /// The frame rate every rung is encoded at.
    pub frame_rate: u32,
    /// The rungs of the ladder, any order.
    pub ladder: Vec<Rung>,
    /// Whether this worker also takes on-demand jobs (uploads) from the catalog's queue
    /// (default true); false keeps it for live sessions only.
    pub jobs: bool,
    /// Where to serve Prometheus `/metrics` and `/healthz` (e.g. `127.0.0.1:9464`); absent,
    /// the default, serves nothing. The figures are not secret but not for the public
    /// either: bind an address only the monitoring network reaches.
    pub metrics_listen: Option<SocketAddr>,
    /// Posters, timeline thumbnails and slide chapters: `[thumbnails]`.
    pub thumbnails: crate::thumbnails::Settings,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            catalog_url: "http://127.0.0.1:8080".into(),
            token: String::new(),
            srt_bind: IpAddr::from([127, 0, 0, 1]),
            srt_port_range: "9000-9009".into(),
            srt_host: None,
            storage_dir: PathBuf::from(".lectern/storage"),
            storage: StorageConfig::default(),
            segment_seconds: 2,
            frame_rate: 30,
            ladder: vec![
                Rung {
                    name: "720p".into(),
                    width: 1280,
                    height: 720,
                    bitrate_kbps: 2500,
                },
                Rung {
                    name: "360p".into(),
                    width: 640,
                    height: 360,
                    bitrate_kbps: 700,
                },
            ],
            jobs: true,
            metrics_listen: None,
            thumbnails: crate::thumbnails::Settings::default(),
        }
    }
}

impl Config {
    /// Defaults, then the TOML file if given, then `LECTERN_TRANSCODE_*` variables.
    pub fn load(file: Option<&Path>) -> Result<Config, SettingsError> {
        let config: Config = load_settings(
            file,
            "LECTERN_TRANSCODE_",
            &[
                "token",
                "storage.access_key_id",
                "storage.secret_access_key",
            ],
        )?;
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
        check_range("segment_seconds", self.segment_seconds, 1..=10)?;
        check_range("frame_rate", self.frame_rate, 1..=60)?;
        if let Err(message) = self.srt_ports() {
            return invalid("srt_port_range", &message);
        }
        if self.srt_host.is_none() && self.srt_bind.is_unspecified() {
            return invalid(
                "srt_host",
                "is required when srt_bind listens on every interface: name the host capture boxes reach",
            );
        }
        if self.ladder.is_empty() {
            return invalid("ladder", "needs at least one rung");
        }
        for rung in &self.ladder {
            rung.validate().map_err(|message| SettingsError::Invalid {
                key: "ladder",
                message,
            })?;
        }
        self.storage.validate().map_err(storage_setting_error)?;
        Ok(())
    }

    /// The storage the settings select: the directory `storage_dir`, or the S3 bucket of
    /// `[storage]`.
    pub fn open_storage(&self) -> Result<Arc<dyn Storage>, SettingsError> {
        self.storage
            .open(&self.storage_dir)
            .map_err(storage_setting_error)
    }

    /// The host capture boxes push to.
    pub fn advertised_srt_host(&self) -> String {
        self.srt_host
            .clone()
            .unwrap_or_else(|| self.srt_bind.to_string())
    }

    /// The first and last port of `srt_port_range`.
    pub fn srt_ports(&self) -> Result<(u16, u16), String> {
        let bad = || {
            format!(
                "must be \"first-last\" with 1 <= first <= last <= 65535 (e.g. \"9000-9009\"), not {:?}",
                self.srt_port_range
            )
        };
        let (first, last) = self
            .srt_port_range
            .split_once('-')
            .unwrap_or((&self.srt_port_range, &self.srt_port_range));
        let first: u16 = first.trim().parse().map_err(|_| bad())?;
        let last: u16 = last.trim().parse().map_err(|_| bad())?;
        if first == 0 || first > last {
            return Err(bad());
        }
        Ok((first, last))
    }
}

/// A storage setting's error, under its key.
fn storage_setting_error(e: StorageError) -> SettingsError {
    SettingsError::Invalid {
        key: e.setting_key().unwrap_or("storage"),
        message: match e {
            StorageError::BadSetting { message, .. } => message,
            other => other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lectern_packager::{S3Settings, StorageKind};

    fn with_token() -> Config {
        Config {
            token: "t".into(),
            ..Config::default()
        }
    }

    #[test]
    fn defaults_with_a_token_are_valid() {
        with_token().validate().unwrap();
    }

    #[test]
    fn a_bad_value_names_its_key() {
        let err = Config {
            segment_seconds: 0,
            ..with_token()
        }
        .validate()
        .unwrap_err();
        assert!(err.to_string().contains("`segment_seconds`"), "{err}");
        let err = Config {
            token: String::new(),
            ..Config::default()
        }
        .validate()
        .unwrap_err();
        assert!(err.to_string().contains("`token`"), "{err}");
    }

    #[test]
    fn the_srt_port_range_is_parsed_and_a_bad_one_names_its_key() {
        let config = Config {
            srt_port_range: "9100-9103".into(),
            ..with_token()
        };
        assert_eq!(config.srt_ports().unwrap(), (9100, 9103));
        let single = Config {
            srt_port_range: "9100".into(),
            ..with_token()
        };
        assert_eq!(single.srt_ports().unwrap(), (9100, 9100));
        for bad in ["", "9103-9100", "0-10", "a-b", "9000-70000"] {
            let err = Config {
                srt_port_range: bad.into(),
                ..with_token()
            }
            .validate()
            .unwrap_err();
            assert!(err.to_string().contains("`srt_port_range`"), "{bad}: {err}");
        }
        let err = Config {
            srt_bind: "0.0.0.0".parse().unwrap(),
            ..with_token()
        }
        .validate()
        .unwrap_err();
        assert!(err.to_string().contains("`srt_host`"), "{err}");
    }

    #[test]
    fn a_file_with_a_wrong_type_names_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("w.toml");
        std::fs::write(&file, "token = \"t\"\nframe_rate = \"fast\"\n").unwrap();
        let err = Config::load(Some(&file)).unwrap_err();
        assert!(err.to_string().contains("frame_rate"), "{err}");
    }

    #[test]
    fn s3_storage_is_read_from_the_file_and_the_secret_from_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("w.toml");
        std::fs::write(
            &file,
            "token = \"t\"\n[storage]\nkind = \"s3\"\nendpoint = \"http://127.0.0.1:3900\"\n\
             bucket = \"lectern\"\naccess_key_id = \"GK1\"\npath_style = false\n",
        )
        .unwrap();
        // Without the secret the key is named.
        let err = Config::load(Some(&file)).unwrap_err();
        assert!(
            err.to_string().contains("`storage.secret_access_key`"),
            "{err}"
        );
        // The only test that sets this variable; nothing else reads storage secrets.
        std::env::set_var(
            "LECTERN_TRANSCODE_STORAGE__SECRET_ACCESS_KEY",
            "s3cr3t-from-env",
        );
        let loaded = Config::load(Some(&file));
        std::env::remove_var("LECTERN_TRANSCODE_STORAGE__SECRET_ACCESS_KEY");
        let config = loaded.unwrap();
        assert_eq!(config.storage.kind, StorageKind::S3);
        assert_eq!(config.storage.s3.bucket, "lectern");
        assert_eq!(config.storage.s3.secret_access_key, "s3cr3t-from-env");
        assert!(!config.storage.s3.path_style);
        assert_eq!(config.storage.s3.connect_timeout_secs, 5, "defaults stay");
        assert!(config
            .open_storage()
            .unwrap()
            .local_path("a/b.ts")
            .is_none());
    }

    #[test]
    fn the_metrics_address_is_optional_and_a_bad_one_names_its_key() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("w.toml");
        std::fs::write(&file, "token = \"t\"\n").unwrap();
        assert_eq!(Config::load(Some(&file)).unwrap().metrics_listen, None);
        std::fs::write(
            &file,
            "token = \"t\"\nmetrics_listen = \"127.0.0.1:9464\"\n",
        )
        .unwrap();
        assert_eq!(
            Config::load(Some(&file)).unwrap().metrics_listen,
            Some("127.0.0.1:9464".parse().unwrap())
        );
        std::fs::write(&file, "token = \"t\"\nmetrics_listen = \"9464\"\n").unwrap();
        let err = Config::load(Some(&file)).unwrap_err();
        assert!(err.to_string().contains("metrics_listen"), "{err}");
    }

    #[test]
    fn local_storage_is_the_default_and_uses_storage_dir() {
        let config = Config {
            storage_dir: PathBuf::from("/srv/lectern"),
            ..with_token()
        };
        assert_eq!(config.storage.kind, StorageKind::Local);
        config.validate().unwrap();
        assert_eq!(
            config.open_storage().unwrap().local_path("a/b.ts"),
            Some(PathBuf::from("/srv/lectern/a/b.ts"))
        );
    }

    #[test]
    fn a_bad_s3_setting_names_its_full_key() {
        let mut config = with_token();
        config.storage.kind = StorageKind::S3;
        config.storage.s3 = S3Settings {
            endpoint: "s3.example.org".into(),
            bucket: "b".into(),
            access_key_id: "a".into(),
            secret_access_key: "s".into(),
            ..S3Settings::default()
        };
        let err = config.validate().unwrap_err();
        assert!(err.to_string().contains("`storage.endpoint`"), "{err}");
    }
}
