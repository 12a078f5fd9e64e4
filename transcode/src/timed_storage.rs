//! [`TimedStorage`]: the worker's storage with each upload timed for its metrics. It wraps
//! whichever backend the settings chose, so the packager and the jobs store through it
//! unaware.

use crate::metrics::WorkerMetrics;
use async_trait::async_trait;
use bytes::Bytes;
use lectern_packager::{Storage, StorageError};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A storage whose `put` and `put_file` are timed into [`WorkerMetrics::upload`].
#[derive(Debug)]
pub struct TimedStorage {
    inner: Arc<dyn Storage>,
    metrics: WorkerMetrics,
}

impl TimedStorage {
    /// `inner`, with its uploads timed into `metrics`.
    pub fn wrap(inner: Arc<dyn Storage>, metrics: WorkerMetrics) -> Arc<dyn Storage> {
        Arc::new(TimedStorage { inner, metrics })
    }

    fn timed<T>(
        &self,
        started: Instant,
        result: Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        self.metrics.upload(started.elapsed(), result.is_ok());
        result
    }
}

#[async_trait]
impl Storage for TimedStorage {
    async fn put(&self, key: &str, body: Bytes, content_type: &str) -> Result<(), StorageError> {
        let started = Instant::now();
        let result = self.inner.put(key, body, content_type).await;
        self.timed(started, result)
    }

    async fn put_file(
        &self,
        key: &str,
        path: &Path,
        content_type: &str,
    ) -> Result<(), StorageError> {
        let started = Instant::now();
        let result = self.inner.put_file(key, path, content_type).await;
        self.timed(started, result)
    }

    async fn get(&self, key: &str) -> Result<Option<Bytes>, StorageError> {
        self.inner.get(key).await
    }

    async fn get_file(&self, key: &str, path: &Path) -> Result<bool, StorageError> {
        self.inner.get_file(key, path).await
    }

    async fn delete_prefix(&self, prefix: &str) -> Result<u64, StorageError> {
        self.inner.delete_prefix(prefix).await
    }

    fn local_path(&self, key: &str) -> Option<PathBuf> {
        self.inner.local_path(key)
    }

    async fn check(&self) -> Result<(), StorageError> {
        self.inner.check().await
    }

    async fn presigned_get(
        &self,
        key: &str,
        lifetime: Duration,
    ) -> Result<Option<String>, StorageError> {
        self.inner.presigned_get(key, lifetime).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lectern_packager::LocalDir;

    #[tokio::test]
    async fn uploads_are_timed_and_failures_counted() {
        let dir = tempfile::tempdir().unwrap();
        let metrics = WorkerMetrics::new();
        let storage = TimedStorage::wrap(Arc::new(LocalDir::new(dir.path())), metrics.clone());
        storage
            .put(
                "lectures/l/v/main/360p/0.ts",
                Bytes::from_static(b"ts"),
                "video/mp2t",
            )
            .await
            .unwrap();
        assert!(storage
            .put("../outside", Bytes::from_static(b"ts"), "video/mp2t")
            .await
            .is_err());
        assert_eq!(
            storage.get("lectures/l/v/main/360p/0.ts").await.unwrap(),
            Some(Bytes::from_static(b"ts"))
        );
        let text = metrics.render();
        assert!(
            text.contains("lectern_worker_storage_upload_seconds_count 1"),
            "{text}"
        );
        assert!(
            text.contains("lectern_worker_storage_upload_failures_total 1"),
            "{text}"
        );
    }
}
