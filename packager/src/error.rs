//! Errors of the packager and its storage.

use std::path::PathBuf;

/// A storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("object key {key:?} is not a valid storage key")]
    BadKey { key: String },
    #[error("could not write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("could not read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("S3 {operation} of {key:?} failed: {message}")]
    S3 {
        operation: &'static str,
        key: String,
        message: String,
    },
    #[error("storage setting `{key}` {message}")]
    BadSetting { key: &'static str, message: String },
}

impl StorageError {
    /// True when trying again later may succeed (the store is away, the disk is full); false
    /// for mistakes no retry mends (a bad key, a bad setting).
    pub fn is_transient(&self) -> bool {
        !matches!(
            self,
            StorageError::BadKey { .. } | StorageError::BadSetting { .. }
        )
    }
}
