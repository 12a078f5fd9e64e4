//! [`StorageConfig`]: which storage a process uses, as its settings say. Shared by the worker
//! (which writes) and the catalog (which serves), so both read the same `[storage]` table.

use crate::error::StorageError;
use crate::s3::{S3Settings, S3Storage};
use crate::storage::{LocalDir, Storage};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::Arc;

/// Where segments and playlists live. In TOML:
///
/// ```toml
/// [storage]
/// kind = "s3"
/// endpoint = "http://127.0.0.1:3900"
/// region = "garage"
/// bucket = "lectern"
/// access_key_id = "GK…"
/// # secret_access_key: better from the environment (…_STORAGE__SECRET_ACCESS_KEY)
/// path_style = true
/// ```
///
/// The S3 keys are those of [`S3Settings`]; they are ignored when `kind` is `local`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct StorageConfig {
    /// `local` (a directory, the default) or `s3`.
    pub kind: StorageKind,
    /// The bucket and how to reach it, for `kind = "s3"`.
    #[serde(flatten)]
    pub s3: S3Settings,
}

/// The storage backends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StorageKind {
    #[default]
    Local,
    S3,
}

impl StorageConfig {
    /// Checks the settings of the selected backend.
    pub fn validate(&self) -> Result<(), StorageError> {
        match self.kind {
            StorageKind::Local => Ok(()),
            StorageKind::S3 => self.s3.validate(),
        }
    }

    /// The selected storage: the directory `local_dir`, or the S3 bucket.
    pub fn open(&self, local_dir: &Path) -> Result<Arc<dyn Storage>, StorageError> {
        Ok(match self.kind {
            StorageKind::Local => Arc::new(LocalDir::new(local_dir)),
            StorageKind::S3 => Arc::new(S3Storage::new(&self.s3)?),
        })
    }
}

impl StorageError {
    /// The full settings key (`storage.bucket`) a [`StorageError::BadSetting`] is about.
    pub fn setting_key(&self) -> Option<&'static str> {
        const KEYS: [&str; 10] = [
            "storage.endpoint",
            "storage.region",
            "storage.bucket",
            "storage.access_key_id",
            "storage.secret_access_key",
            "storage.path_style",
            "storage.connect_timeout_secs",
            "storage.operation_timeout_secs",
            "storage.multipart_threshold_bytes",
            "storage.part_size_bytes",
        ];
        match self {
            StorageError::BadSetting { key, .. } => KEYS
                .iter()
                .find(|full| full.strip_prefix("storage.") == Some(*key))
                .copied(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_is_the_default_and_needs_no_settings() {
        let config = StorageConfig::default();
        assert_eq!(config.kind, StorageKind::Local);
        config.validate().unwrap();
        let dir = tempfile::tempdir().unwrap();
        assert!(config
            .open(dir.path())
            .unwrap()
            .local_path("a/b.ts")
            .is_some());
    }

    #[test]
    fn s3_without_a_bucket_names_the_key() {
        let config = StorageConfig {
            kind: StorageKind::S3,
            ..StorageConfig::default()
        };
        let err = config.validate().unwrap_err();
        assert!(
            err.setting_key().is_some_and(|k| k.starts_with("storage.")),
            "{err}"
        );
    }
}
