//! The catalog's typed configuration: a TOML file (`--config`) overridden by environment
//! variables prefixed `LECTERN_CATALOG_`, with `__` between nested keys
//! (`LECTERN_CATALOG_DEMO__SEED=true`).

use figment::providers::{Env, Format, Toml};
use figment::Figment;
use lectern_packager::{StorageConfig, StorageError};
use serde::{Deserialize, Deserializer};
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::client_addr::TrustedProxies;
use crate::cross_site::PublicOrigin;
use crate::login_throttle::LoginThrottleConfig;
use crate::store::{DatabaseKind, JobPolicy, UnsupportedUrl};

/// The prefix of the environment variables that override the file.
pub const ENV_PREFIX: &str = "LECTERN_CATALOG_";

/// Everything the catalog needs to start.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address to listen on (`127.0.0.1:8080`). Ignored by [`crate::run`], which takes a
    /// bound listener; `main` binds it.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// sqlx database URL; its scheme picks the database: `sqlite://.lectern/catalog.db?mode=rwc`
    /// (embedded, the default) or `postgres://user:password@host:5432/lectern` (production).
    #[serde(default = "default_database_url")]
    pub database_url: String,
    /// The local storage directory the workers write lectures to (packager `LocalDir`),
    /// when `storage.kind` is `local`.
    #[serde(default = "default_storage_dir")]
    pub storage_dir: PathBuf,
    /// `[storage]`: `kind = "local"` (the default: `storage_dir`) or `kind = "s3"` with the
    /// bucket's settings; then segments are handed to viewers as presigned URLs.
    #[serde(default)]
    pub storage: StorageConfig,
    /// The player's static files, served at `/` with a fallback to `index.html`. A missing
    /// directory means no UI, only the API.
    #[serde(default)]
    pub web_dir: Option<PathBuf>,
    /// The key that signs media tokens: hex, at least 32 bytes. Required.
    pub media_key: MediaKey,
    /// The id tokens signed with `media_key` carry (`k1` unless set). To rotate: move the
    /// current key under its id into `previous_media_keys`, set a new `media_key` and a new
    /// id; drop the old key once `media_token_ttl_seconds` have passed.
    #[serde(default = "default_media_key_id")]
    pub media_key_id: MediaKeyId,
    /// `[previous_media_keys]`: earlier keys by id (`k1 = "<hex>"`), still accepted for the
    /// tokens they signed, never used to sign.
    #[serde(default)]
    pub previous_media_keys: std::collections::BTreeMap<MediaKeyId, MediaKey>,
    /// How long a playback URL stays valid.
    #[serde(default = "default_media_token_ttl")]
    pub media_token_ttl_seconds: u64,
    /// How long an activation link works, in hours (default 168, a week; 1 to 720).
    #[serde(default = "default_invitation_ttl_hours")]
    pub invitation_ttl_hours: u32,
    /// Set when the catalog is reached over HTTPS (directly or behind a proxy): the session
    /// cookie becomes `__Host-lectern_session` with `Secure`.
    #[serde(default)]
    pub secure_cookies: bool,
    /// The bearer token Prometheus presents to scrape `/metrics`. Unset, `/metrics` answers
    /// 404: the figures are not for the world.
    #[serde(default)]
    pub metrics_token: Option<String>,
    /// `[login_throttle]`: failed logins allowed per account and per client address in a
    /// sliding window before logins answer 429.
    #[serde(default)]
    pub login_throttle: LoginThrottleConfig,
    /// `[jobs]`: how long a worker's claim on a job lasts without a heartbeat, and how many
    /// attempts a job gets.
    #[serde(default)]
    pub jobs: JobPolicy,
    /// The reverse proxies whose `X-Forwarded-For` names the client (for login throttling);
    /// empty (the default): the TCP peer is the client and the header is ignored.
    #[serde(default)]
    pub trusted_proxy: TrustedProxies,
    /// The catalog's origin as browsers see it (`https://lectern.example.edu`), against which
    /// unsafe requests' `Origin` is checked; unset: the request's `Host`.
    #[serde(default)]
    pub public_origin: Option<PublicOrigin>,
    /// The largest file `POST /api/v1/courses/{id}/uploads` takes, in bytes (default 8 GiB),
    /// and the largest `Upload-Length` of a resumable upload. A whole upload is spooled to
    /// the temporary directory (`TMPDIR`) before it is stored, so that directory needs room
    /// for it; a resumable one is staged in storage.
    #[serde(default = "default_max_upload_bytes")]
    pub max_upload_bytes: u64,
    /// The demo institute, users, course, room, agent and worker.
    #[serde(default)]
    pub demo: DemoConfig,
}

/// `[demo]`: what to seed for a newcomer's first run.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemoConfig {
    /// Seed the demo data at startup (idempotent).
    #[serde(default)]
    pub seed: bool,
    /// The API token of the demo room's capture box.
    #[serde(default)]
    pub agent_token: Option<String>,
    /// The API token of the demo transcode worker.
    #[serde(default)]
    pub worker_token: Option<String>,
}

/// Why the configuration could not be loaded. Every message names the offending key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file given with `--config` does not exist.
    #[error("configuration file {path} does not exist")]
    MissingFile { path: PathBuf },
    /// A key is missing or has a bad value (figment's message names the key).
    #[error("configuration: {0}")]
    Invalid(Box<figment::Error>),
    /// `database_url` names a database the catalog does not run on.
    #[error("configuration: {0}")]
    UnsupportedDatabase(UnsupportedUrl),
    /// A `[storage]` setting is wrong.
    #[error("configuration key `{key}`: {message}")]
    Storage { key: &'static str, message: String },
    /// A key has a value out of its range.
    #[error("configuration key `{key}`: {message}")]
    OutOfRange { key: &'static str, message: String },
    /// `demo.seed` is on but a demo token is missing.
    #[error("configuration: demo.seed is true but key {key} is not set")]
    MissingDemoToken { key: &'static str },
}

/// A `[storage]` setting's error, under its key.
pub(crate) fn storage_error(e: StorageError) -> ConfigError {
    ConfigError::Storage {
        key: e.setting_key().unwrap_or("storage"),
        message: match e {
            StorageError::BadSetting { message, .. } => message,
            other => other.to_string(),
        },
    }
}

impl From<figment::Error> for ConfigError {
    fn from(e: figment::Error) -> Self {
        ConfigError::Invalid(Box::new(e))
    }
}

/// Keys whose environment values are taken verbatim: figment would read a hex key or token
/// made of digits as a number and lose its leading zeros.
const VERBATIM_KEYS: [(&str, &str); 7] = [
    ("media_key", "media_key"),
    ("storage__access_key_id", "storage.access_key_id"),
    ("storage__secret_access_key", "storage.secret_access_key"),
    ("metrics_token", "metrics_token"),
    ("database_url", "database_url"),
    ("demo__agent_token", "demo.agent_token"),
    ("demo__worker_token", "demo.worker_token"),
];

impl Config {
    /// Loads `file` (when given) and then the `LECTERN_CATALOG_` environment.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let mut figment = Figment::new();
        if let Some(path) = file {
            if !path.exists() {
                return Err(ConfigError::MissingFile {
                    path: path.to_owned(),
                });
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        let env = Env::prefixed(ENV_PREFIX)
            .filter(|key| !VERBATIM_KEYS.iter().any(|(name, _)| key == *name))
            .split("__");
        figment = figment.merge(env);
        for (name, key) in VERBATIM_KEYS {
            if let Ok(value) = std::env::var(format!("{ENV_PREFIX}{}", name.to_uppercase())) {
                figment = figment.merge((key, value));
            }
        }
        Config::from_figment(figment)
    }

    /// Parses a TOML document alone (no environment): for tests and embedding.
    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        Config::from_figment(Figment::from(Toml::string(text)))
    }

    /// Extracts and checks a configuration from any figment.
    pub fn from_figment(figment: Figment) -> Result<Config, ConfigError> {
        let config: Config = figment.extract()?;
        DatabaseKind::from_url(&config.database_url).map_err(ConfigError::UnsupportedDatabase)?;
        config.storage.validate().map_err(storage_error)?;
        config
            .login_throttle
            .validate()
            .map_err(|(key, message)| ConfigError::OutOfRange { key, message })?;
        config
            .jobs
            .validate()
            .map_err(|(key, message)| ConfigError::OutOfRange { key, message })?;
        if !(1..=MAX_INVITATION_TTL_HOURS).contains(&config.invitation_ttl_hours) {
            return Err(ConfigError::OutOfRange {
                key: "invitation_ttl_hours",
                message: format!(
                    "must be 1 to {MAX_INVITATION_TTL_HOURS} (30 days), not {}",
                    config.invitation_ttl_hours
                ),
            });
        }
        if config.max_upload_bytes == 0 || usize::try_from(config.max_upload_bytes).is_err() {
            return Err(ConfigError::OutOfRange {
                key: "max_upload_bytes",
                message: format!(
                    "must be a number of bytes above 0 that fits this machine, not {}",
                    config.max_upload_bytes
                ),
            });
        }
        if config.demo.seed {
            if config.demo.agent_token.as_deref().unwrap_or("").is_empty() {
                return Err(ConfigError::MissingDemoToken {
                    key: "demo.agent_token",
                });
            }
            if config.demo.worker_token.as_deref().unwrap_or("").is_empty() {
                return Err(ConfigError::MissingDemoToken {
                    key: "demo.worker_token",
                });
            }
        }
        Ok(config)
    }
}

/// The longest an activation link may work: a link is a password until it is used.
const MAX_INVITATION_TTL_HOURS: u32 = 720;

fn default_max_upload_bytes() -> u64 {
    8 << 30
}

fn default_invitation_ttl_hours() -> u32 {
    168
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}

fn default_database_url() -> String {
    "sqlite://.lectern/catalog.db?mode=rwc".to_owned()
}

fn default_storage_dir() -> PathBuf {
    PathBuf::from(".lectern/storage")
}

fn default_media_key_id() -> MediaKeyId {
    MediaKeyId("k1".to_owned())
}

/// A media key's id: 1 to 8 ASCII letters and digits, so it cannot be confused with the
/// `.`-separated parts of a token.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct MediaKeyId(String);

impl MediaKeyId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for MediaKeyId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let id = String::deserialize(deserializer)?;
        if (1..=8).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            Ok(MediaKeyId(id))
        } else {
            Err(serde::de::Error::custom(format!(
                "a media key id must be 1 to 8 ASCII letters or digits, not {id:?}"
            )))
        }
    }
}

fn default_media_token_ttl() -> u64 {
    7200
}

/// The secret that signs media tokens: at least [`MediaKey::MIN_BYTES`] bytes, given as hex.
#[derive(Clone)]
pub struct MediaKey(Vec<u8>);

impl MediaKey {
    /// The shortest key accepted (256 bits).
    pub const MIN_BYTES: usize = 32;

    /// Parses a hex key, refusing short or malformed ones.
    pub fn from_hex(text: &str) -> Result<MediaKey, String> {
        let bytes = hex::decode(text.trim()).map_err(|e| format!("media_key must be hex ({e})"))?;
        if bytes.len() < Self::MIN_BYTES {
            return Err(format!(
                "media_key must be at least {} bytes ({} hex digits), got {} bytes",
                Self::MIN_BYTES,
                Self::MIN_BYTES * 2,
                bytes.len()
            ));
        }
        Ok(MediaKey(bytes))
    }

    /// The key's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for MediaKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MediaKey(<redacted>)")
    }
}

impl<'de> Deserialize<'de> for MediaKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        MediaKey::from_hex(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

    #[test]
    fn defaults_fill_everything_but_the_key() {
        let config = Config::from_toml(&format!("media_key = \"{KEY}\"")).unwrap();
        assert_eq!(config.listen, default_listen());
        assert_eq!(config.media_token_ttl_seconds, 7200);
        assert_eq!(config.invitation_ttl_hours, 168);
        assert!(!config.demo.seed);
        assert_eq!(config.media_key.as_bytes().len(), 32);
    }

    #[test]
    fn job_settings_default_and_refuse_out_of_range_values_by_key() {
        let config = Config::from_toml(&format!("media_key = \"{KEY}\"")).unwrap();
        assert_eq!(config.jobs, JobPolicy::default());
        let error = Config::from_toml(&format!("media_key = \"{KEY}\"\n[jobs]\nlease_seconds = 0"))
            .unwrap_err()
            .to_string();
        assert!(error.contains("jobs.lease_seconds"), "{error}");
    }

    #[test]
    fn an_invitation_lifetime_out_of_range_names_its_key() {
        for hours in [0, 721] {
            let text = format!("media_key = \"{KEY}\"\ninvitation_ttl_hours = {hours}");
            let message = Config::from_toml(&text).unwrap_err().to_string();
            assert!(message.contains("invitation_ttl_hours"), "{message}");
        }
    }

    #[test]
    fn the_key_is_never_printed() {
        let config = Config::from_toml(&format!("media_key = \"{KEY}\"")).unwrap();
        assert!(!format!("{config:?}").contains(KEY));
    }

    #[test]
    fn a_rotation_names_the_new_key_id_and_keeps_the_old_key_for_checking() {
        let config = Config::from_toml(&format!(
            "media_key = \"{KEY}\"\nmedia_key_id = \"k2\"\n[previous_media_keys]\nk1 = \"{KEY}\""
        ))
        .unwrap();
        assert_eq!(config.media_key_id.as_str(), "k2");
        assert_eq!(config.previous_media_keys.len(), 1);
        let error = Config::from_toml(&format!("media_key = \"{KEY}\"\nmedia_key_id = \"k.1\""))
            .unwrap_err()
            .to_string();
        assert!(error.contains("1 to 8 ASCII letters or digits"), "{error}");
    }
}
