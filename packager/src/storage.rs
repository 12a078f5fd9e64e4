//! Object storage behind one small trait. The local directory is the embedded default;
//! [`S3Storage`](crate::s3::S3Storage) keeps objects in any S3-compatible bucket.

use crate::error::StorageError;
use async_trait::async_trait;
use bytes::Bytes;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where segments and playlists are kept. Keys are `/`-separated relative paths built by
/// [`crate::keys`]; segments are written once and never changed.
#[async_trait]
pub trait Storage: std::fmt::Debug + Send + Sync + 'static {
    /// Stores `body` under `key`, replacing an earlier object. A reader never sees a
    /// half-written object.
    async fn put(&self, key: &str, body: Bytes, content_type: &str) -> Result<(), StorageError>;

    /// The object under `key`, or `None` when there is none.
    async fn get(&self, key: &str) -> Result<Option<Bytes>, StorageError>;

    /// Stores the file at `path` under `key` without holding it in memory (uploaded videos
    /// run to gigabytes). The default reads it whole; backends override it.
    async fn put_file(
        &self,
        key: &str,
        path: &Path,
        content_type: &str,
    ) -> Result<(), StorageError> {
        let body = tokio::fs::read(path)
            .await
            .map_err(|source| StorageError::Read {
                path: path.to_owned(),
                source,
            })?;
        self.put(key, body.into(), content_type).await
    }

    /// Writes the object under `key` to the file `path`; false (and no file) when there is
    /// no such object. The default holds the object in memory; backends stream it.
    async fn get_file(&self, key: &str, path: &Path) -> Result<bool, StorageError> {
        let Some(body) = self.get(key).await? else {
            return Ok(false);
        };
        tokio::fs::write(path, &body)
            .await
            .map_err(|source| StorageError::Write {
                path: path.to_owned(),
                source,
            })?;
        Ok(true)
    }

    /// Deletes every object whose key lies below the directory `prefix` (`lectures/<id>`,
    /// `raw/<id>`); returns how many went. Nothing there is not an error.
    async fn delete_prefix(&self, prefix: &str) -> Result<u64, StorageError>;

    /// The file that holds `key`, when this backend keeps objects as local files (so the
    /// catalog can serve byte ranges straight from disk).
    fn local_path(&self, key: &str) -> Option<PathBuf>;

    /// Whether the storage can be used: the bucket answers to these credentials, the
    /// directory can be created. Workers call it at start to report a misconfiguration
    /// before the first lecture rather than at its first segment.
    async fn check(&self) -> Result<(), StorageError> {
        Ok(())
    }

    /// A URL that fetches `key` with a plain GET for `lifetime`, when this backend can hand
    /// out such URLs (S3); `None` when objects are served some other way (local files).
    async fn presigned_get(
        &self,
        key: &str,
        lifetime: Duration,
    ) -> Result<Option<String>, StorageError> {
        let _ = (key, lifetime);
        Ok(None)
    }
}

/// The `Cache-Control` an object is stored with. Segments, pictures (and raw chunks) are
/// written once and never change; playlists and WebVTT files change while the lecture is live,
/// and a cached live playlist would freeze a viewer, so they are never cached.
pub fn cache_control_for(key: &str) -> &'static str {
    if key.ends_with(".m3u8") || key.ends_with(".vtt") {
        "no-store"
    } else {
        "private, max-age=31536000, immutable"
    }
}

/// Objects as files below a directory.
#[derive(Debug, Clone)]
pub struct LocalDir {
    root: PathBuf,
}

impl LocalDir {
    /// Storage below `root`; the directory is created on the first write.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        LocalDir { root: root.into() }
    }

    /// The directory the objects are kept in.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path(&self, key: &str) -> Result<PathBuf, StorageError> {
        let safe = !key.is_empty()
            && key.split('/').all(|part| {
                !part.is_empty()
                    && part != "."
                    && part != ".."
                    && part
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            });
        if !safe {
            return Err(StorageError::BadKey {
                key: key.to_owned(),
            });
        }
        Ok(self.root.join(key))
    }
}

#[async_trait]
impl Storage for LocalDir {
    async fn put(&self, key: &str, body: Bytes, _content_type: &str) -> Result<(), StorageError> {
        let path = self.path(key)?;
        let write = |source| StorageError::Write {
            path: path.clone(),
            source,
        };
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir).await.map_err(write)?;
        }
        // Write beside, then rename: readers see the old object or the new one, never half.
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        tokio::fs::write(&tmp, &body).await.map_err(write)?;
        tokio::fs::rename(&tmp, &path).await.map_err(write)?;
        Ok(())
    }

    async fn put_file(
        &self,
        key: &str,
        from: &Path,
        _content_type: &str,
    ) -> Result<(), StorageError> {
        let path = self.path(key)?;
        let write = |source| StorageError::Write {
            path: path.clone(),
            source,
        };
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir).await.map_err(write)?;
        }
        // Copied beside, then renamed, as in `put`: the source may be on another file system.
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        tokio::fs::copy(from, &tmp).await.map_err(write)?;
        tokio::fs::rename(&tmp, &path).await.map_err(write)?;
        Ok(())
    }

    async fn get_file(&self, key: &str, to: &Path) -> Result<bool, StorageError> {
        let path = self.path(key)?;
        match tokio::fs::copy(&path, to).await {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !path.exists() => Ok(false),
            Err(source) => Err(StorageError::Read { path, source }),
        }
    }

    async fn get(&self, key: &str) -> Result<Option<Bytes>, StorageError> {
        let path = self.path(key)?;
        match tokio::fs::read(&path).await {
            Ok(body) => Ok(Some(body.into())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(StorageError::Read { path, source }),
        }
    }

    async fn delete_prefix(&self, prefix: &str) -> Result<u64, StorageError> {
        let dir = self.path(prefix)?;
        let count = tokio::task::spawn_blocking({
            let dir = dir.clone();
            move || count_files(&dir)
        })
        .await
        .unwrap_or(0);
        match tokio::fs::remove_dir_all(&dir).await {
            Ok(()) => Ok(count),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
            Err(source) => Err(StorageError::Write { path: dir, source }),
        }
    }

    fn local_path(&self, key: &str) -> Option<PathBuf> {
        self.path(key).ok()
    }

    async fn check(&self) -> Result<(), StorageError> {
        tokio::fs::create_dir_all(&self.root)
            .await
            .map_err(|source| StorageError::Write {
                path: self.root.clone(),
                source,
            })
    }
}

/// The files below `dir` (0 when it is missing or unreadable: the count only informs).
fn count_files(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|entry| match entry.file_type() {
            Ok(t) if t.is_dir() => count_files(&entry.path()),
            Ok(_) => 1,
            Err(_) => 0,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn deleting_a_prefix_takes_everything_below_it_and_nothing_beside() {
        let dir = tempfile::tempdir().unwrap();
        let storage = LocalDir::new(dir.path());
        for key in [
            "lectures/a/v1/cam/720p/0.ts",
            "lectures/a/v1/cam/720p/index.m3u8",
            "lectures/ab/v1/x.ts",
        ] {
            storage
                .put(key, Bytes::from_static(b"x"), "video/mp2t")
                .await
                .unwrap();
        }
        assert_eq!(storage.delete_prefix("lectures/a").await.unwrap(), 2);
        assert_eq!(
            storage.get("lectures/a/v1/cam/720p/0.ts").await.unwrap(),
            None
        );
        assert!(storage.get("lectures/ab/v1/x.ts").await.unwrap().is_some());
        assert_eq!(storage.delete_prefix("lectures/a").await.unwrap(), 0);
        assert!(storage.delete_prefix("../etc").await.is_err());
    }

    #[test]
    fn playlists_are_never_cached_and_segments_forever() {
        assert_eq!(
            cache_control_for("lectures/a/v1/presenter/master.m3u8"),
            "no-store"
        );
        assert_eq!(
            cache_control_for("lectures/a/v1/presenter/720p/index.m3u8"),
            "no-store"
        );
        assert_eq!(
            cache_control_for("lectures/a/v1/presenter/chapters.vtt"),
            "no-store"
        );
        assert_eq!(
            cache_control_for("lectures/a/v1/presenter/sprite-0.jpg"),
            "private, max-age=31536000, immutable"
        );
        assert_eq!(
            cache_control_for("lectures/a/v1/presenter/720p/3.ts"),
            "private, max-age=31536000, immutable"
        );
    }

    #[tokio::test]
    async fn local_dir_round_trips_and_reports_absence() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalDir::new(dir.path());
        assert_eq!(store.get("lectures/a/v1/x.ts").await.unwrap(), None);
        store
            .put(
                "lectures/a/v1/x.ts",
                Bytes::from_static(b"abc"),
                "video/mp2t",
            )
            .await
            .unwrap();
        assert_eq!(
            store.get("lectures/a/v1/x.ts").await.unwrap().unwrap(),
            Bytes::from_static(b"abc")
        );
    }

    #[tokio::test]
    async fn local_dir_refuses_keys_that_leave_its_root() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalDir::new(dir.path());
        for key in ["../x", "a/../../x", "/etc/passwd", "a//b", ""] {
            assert!(
                matches!(store.get(key).await, Err(StorageError::BadKey { .. })),
                "{key}"
            );
        }
    }
}
