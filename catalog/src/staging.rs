//! Where the bytes of a resumable upload (`api::resumable`) wait until the last one arrives:
//! in the catalog's storage itself, below `uploads/<lecture>/staging/`
//! ([`keys::upload_staging_prefix`]).
//!
//! Why storage and not a directory of the catalog's own: behind a load balancer the PATCHes
//! of one upload reach any replica, and a replica may be restarted or rescheduled between
//! them. Storage is the one place every replica shares (and workers read the finished file
//! from), so the next PATCH finds the bytes wherever it lands, and no replica's disk needs
//! room for uploads in progress.
//!
//! - Local directory ([`Staging::Local`]): one file, written in place at the offset and
//!   synced every [`SYNC_EVERY`] bytes and at the end of each request; when whole it is
//!   renamed to [`keys::upload_source`] in the same directory (instant, atomic).
//! - S3 ([`Staging::S3`]): a multipart upload of [`keys::upload_source`], begun when the
//!   upload is created. Every whole part of `part_bytes` goes to it as it fills; what is left
//!   at the end of a request (a request cut off mid-part, or one that simply ends there) is
//!   stored as a small object [`keys::upload_staged_tail`] named by its end offset, which the
//!   next request reads back and continues. The last byte completes the multipart upload.
//!   Memory: one part per request in flight.
//!
//! The database row's offset is the truth ([`crate::store::ResumableUpload::offset`]): bytes
//! written past it (by a request whose offset update lost a race, or by a replica that died
//! before updating it) are overwritten by the next request with the same bytes of the same
//! file, so they do no harm, and are cut off when the upload is finished.

use bytes::{Bytes, BytesMut};
use lectern_packager::StorageKind;
use lectern_packager::{keys, LocalDir, S3Storage, Storage, StorageConfig, StorageError};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::io::{AsyncSeekExt, AsyncWriteExt};

use crate::store::{ResumableUpload, S3Staging};

/// A local staging file is synced to disk (and its offset recorded) after this many bytes, so
/// a catalog that dies mid-request keeps all but the last few MiB of it.
pub const SYNC_EVERY: u64 = 8 * 1024 * 1024;

/// S3 allows this many parts in one multipart upload.
const MAX_PARTS: u64 = 10_000;

/// Why staged bytes could not be written, read or finished.
#[derive(Debug, thiserror::Error)]
pub enum StagingError {
    /// The storage refused or failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The local staging file could not be used.
    #[error("staging file {path}: {source}")]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Bytes the database says arrived are not in storage (deleted behind the catalog's back).
    #[error("the staged bytes of lecture {lecture} are gone: {what}")]
    Lost { lecture: String, what: String },
}

/// Where resumable uploads' bytes are staged: the catalog's storage, local or S3.
#[derive(Debug)]
pub enum Staging {
    /// Storage is a local directory.
    Local(LocalDir),
    /// Storage is an S3 bucket.
    S3(Arc<S3Storage>),
}

impl Staging {
    /// The staging of the storage `config` selects (`dir` for a local one).
    pub fn open(config: &StorageConfig, dir: &Path) -> Result<Staging, StorageError> {
        Ok(match config.kind {
            StorageKind::Local => Staging::Local(LocalDir::new(dir)),
            StorageKind::S3 => Staging::S3(Arc::new(S3Storage::new(&config.s3)?)),
        })
    }

    /// Makes room for a new upload of `length` bytes of `lecture`: an empty staging file, or
    /// a multipart upload (returned, to be recorded with the upload).
    pub async fn begin(
        &self,
        lecture: &str,
        length: u64,
    ) -> Result<Option<S3Staging>, StagingError> {
        match self {
            Staging::Local(dir) => {
                let path = local_path(dir, &keys::upload_staged_file(lecture))?;
                if let Some(parent) = path.parent() {
                    tokio::fs::create_dir_all(parent)
                        .await
                        .map_err(|source| file_error(&path, source))?;
                }
                tokio::fs::File::create(&path)
                    .await
                    .map_err(|source| file_error(&path, source))?;
                Ok(None)
            }
            Staging::S3(s3) => {
                // Parts big enough that the largest upload fits in S3's 10,000.
                let part_bytes = (s3.part_size() as u64).max(length.div_ceil(MAX_PARTS));
                let key = keys::upload_source(lecture);
                let upload_id = s3.start_multipart(&key, "application/octet-stream").await?;
                Ok(Some(S3Staging {
                    upload_id,
                    part_bytes,
                }))
            }
        }
    }

    /// A writer of `upload`'s next bytes, from its offset on.
    pub async fn appender(&self, upload: &ResumableUpload) -> Result<Appender, StagingError> {
        let lecture = &upload.lecture_id;
        match (self, &upload.s3) {
            (Staging::Local(dir), _) => {
                let path = local_path(dir, &keys::upload_staged_file(lecture))?;
                let mut file = tokio::fs::OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .await
                    .map_err(|source| file_error(&path, source))?;
                let held = file
                    .metadata()
                    .await
                    .map_err(|source| file_error(&path, source))?
                    .len();
                if held < upload.offset {
                    return Err(lost(lecture, format!("{held} of {} bytes", upload.offset)));
                }
                file.seek(std::io::SeekFrom::Start(upload.offset))
                    .await
                    .map_err(|source| file_error(&path, source))?;
                Ok(Appender::Local(LocalAppender {
                    file,
                    path,
                    offset: upload.offset,
                    unsynced: 0,
                }))
            }
            (Staging::S3(s3), Some(staged)) => {
                let part_bytes = staged.part_bytes;
                let tail = upload.offset % part_bytes;
                let mut pending = BytesMut::new();
                if tail > 0 {
                    let key = keys::upload_staged_tail(lecture, upload.offset);
                    let held = s3.get(&key).await?.unwrap_or_default();
                    if held.len() as u64 != tail {
                        return Err(lost(
                            lecture,
                            format!("{key} holds {} bytes, not {tail}", held.len()),
                        ));
                    }
                    pending.extend_from_slice(&held);
                }
                Ok(Appender::S3(S3Appender {
                    s3: Arc::clone(s3),
                    key: keys::upload_source(lecture),
                    lecture: lecture.clone(),
                    upload_id: staged.upload_id.clone(),
                    part_bytes,
                    next_part: upload.offset / part_bytes + 1,
                    pending,
                    offset: upload.offset,
                }))
            }
            (Staging::S3(_), None) => Err(lost(lecture, "it was begun without S3".into())),
        }
    }

    /// Makes the whole staged file the object [`keys::upload_source`] and deletes what was
    /// staged. May be repeated: an upload already finished is left as it is.
    pub async fn finish(&self, upload: &ResumableUpload) -> Result<(), StagingError> {
        let lecture = &upload.lecture_id;
        let source = keys::upload_source(lecture);
        match (self, &upload.s3) {
            (Staging::Local(dir), _) => {
                let staged = local_path(dir, &keys::upload_staged_file(lecture))?;
                let target = local_path(dir, &source)?;
                match tokio::fs::OpenOptions::new()
                    .write(true)
                    .open(&staged)
                    .await
                {
                    Ok(file) => {
                        // Bytes past the length were never counted: see the module's doc.
                        file.set_len(upload.length)
                            .await
                            .map_err(|e| file_error(&staged, e))?;
                        tokio::fs::rename(&staged, &target)
                            .await
                            .map_err(|e| file_error(&staged, e))?;
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound && target.exists() => {}
                    Err(e) => return Err(file_error(&staged, e)),
                }
            }
            (Staging::S3(s3), Some(staged)) => {
                if !s3.exists(&source).await? {
                    let whole = upload.length / staged.part_bytes;
                    let tail = upload.length % staged.part_bytes;
                    let mut parts = whole;
                    if tail > 0 {
                        let key = keys::upload_staged_tail(lecture, upload.length);
                        let held = s3.get(&key).await?.unwrap_or_default();
                        if held.len() as u64 != tail {
                            return Err(lost(
                                lecture,
                                format!("{key} holds {} bytes, not {tail}", held.len()),
                            ));
                        }
                        parts += 1;
                        s3.upload_part(&source, &staged.upload_id, part_number(parts)?, held)
                            .await?;
                    }
                    s3.complete_multipart(&source, &staged.upload_id, part_number(parts)?)
                        .await?;
                }
            }
            (Staging::S3(_), None) => return Err(lost(lecture, "it was begun without S3".into())),
        }
        self.storage()
            .delete_prefix(&keys::upload_staging_prefix(lecture))
            .await?;
        Ok(())
    }

    /// Deletes what was staged for `upload` (and the multipart upload, so the store stops
    /// keeping its parts). `with_source`: the finished file too, for an upload that never
    /// became its lecture.
    pub async fn discard(
        &self,
        upload: &ResumableUpload,
        with_source: bool,
    ) -> Result<(), StagingError> {
        if let (Staging::S3(s3), Some(staged), None) = (self, &upload.s3, upload.finished_at) {
            if let Err(e) = s3
                .abort_multipart(&keys::upload_source(&upload.lecture_id), &staged.upload_id)
                .await
            {
                // Already completed or aborted: nothing of it is kept either way.
                tracing::info!(lecture = %upload.lecture_id, error = %e, "the upload's multipart upload was not aborted");
            }
        }
        let prefix = if with_source {
            keys::upload_prefix(&upload.lecture_id)
        } else {
            keys::upload_staging_prefix(&upload.lecture_id)
        };
        self.storage().delete_prefix(&prefix).await?;
        Ok(())
    }

    /// Deletes a tail object a later request has moved past (S3; nothing for a local file).
    pub async fn forget_tail(&self, lecture: &str, end: u64) {
        if let Staging::S3(s3) = self {
            // What is not deleted here goes with the staging prefix at the end.
            let key = keys::upload_staged_tail(lecture, end);
            if let Err(e) = s3.delete(&key).await {
                tracing::info!(key, error = %e, "a passed tail object stays until the upload ends");
            }
        }
    }

    fn storage(&self) -> &dyn Storage {
        match self {
            Staging::Local(dir) => dir,
            Staging::S3(s3) => s3.as_ref(),
        }
    }
}

/// Writes one request's bytes of an upload after those already staged.
#[derive(Debug)]
pub enum Appender {
    Local(LocalAppender),
    S3(S3Appender),
}

impl Appender {
    /// Stages `chunk`; returns the offset up to which everything is now durable, when that
    /// moved (a local sync, a whole S3 part), so the caller can record it.
    pub async fn write(&mut self, chunk: Bytes) -> Result<Option<u64>, StagingError> {
        match self {
            Appender::Local(local) => local.write(&chunk).await,
            Appender::S3(s3) => s3.write(chunk).await,
        }
    }

    /// Makes every byte written durable; returns the offset after the last.
    pub async fn close(self) -> Result<u64, StagingError> {
        match self {
            Appender::Local(mut local) => {
                local.sync().await?;
                Ok(local.offset)
            }
            Appender::S3(s3) => s3.close().await,
        }
    }
}

/// Writes to a local staging file.
#[derive(Debug)]
pub struct LocalAppender {
    file: tokio::fs::File,
    path: PathBuf,
    offset: u64,
    unsynced: u64,
}

impl LocalAppender {
    async fn write(&mut self, chunk: &[u8]) -> Result<Option<u64>, StagingError> {
        self.file
            .write_all(chunk)
            .await
            .map_err(|e| file_error(&self.path, e))?;
        self.offset += chunk.len() as u64;
        self.unsynced += chunk.len() as u64;
        if self.unsynced < SYNC_EVERY {
            return Ok(None);
        }
        self.sync().await?;
        Ok(Some(self.offset))
    }

    async fn sync(&mut self) -> Result<(), StagingError> {
        self.file
            .flush()
            .await
            .map_err(|e| file_error(&self.path, e))?;
        self.file
            .sync_data()
            .await
            .map_err(|e| file_error(&self.path, e))?;
        self.unsynced = 0;
        Ok(())
    }
}

/// Writes whole parts to an S3 multipart upload, and the rest to a tail object.
#[derive(Debug)]
pub struct S3Appender {
    s3: Arc<S3Storage>,
    key: String,
    lecture: String,
    upload_id: String,
    part_bytes: u64,
    /// The number of the part that `pending` begins.
    next_part: u64,
    /// The bytes after the last whole part sent.
    pending: BytesMut,
    offset: u64,
}

impl S3Appender {
    async fn write(&mut self, chunk: Bytes) -> Result<Option<u64>, StagingError> {
        self.offset += chunk.len() as u64;
        self.pending.extend_from_slice(&chunk);
        let mut durable = None;
        let part_len = usize::try_from(self.part_bytes).unwrap_or(usize::MAX);
        while self.pending.len() >= part_len {
            let part = self.pending.split_to(part_len).freeze();
            self.s3
                .upload_part(
                    &self.key,
                    &self.upload_id,
                    part_number(self.next_part)?,
                    part,
                )
                .await?;
            durable = Some(self.next_part * self.part_bytes);
            self.next_part += 1;
        }
        Ok(durable)
    }

    async fn close(self) -> Result<u64, StagingError> {
        if !self.pending.is_empty() {
            let key = keys::upload_staged_tail(&self.lecture, self.offset);
            self.s3
                .put(&key, self.pending.freeze(), "application/octet-stream")
                .await?;
        }
        Ok(self.offset)
    }
}

fn part_number(n: u64) -> Result<i32, StagingError> {
    i32::try_from(n).map_err(|_| {
        StagingError::Storage(StorageError::S3 {
            operation: "UploadPart",
            key: String::new(),
            message: format!("part {n} is more than S3 allows"),
        })
    })
}

fn local_path(dir: &LocalDir, key: &str) -> Result<PathBuf, StagingError> {
    dir.local_path(key).ok_or_else(|| {
        StagingError::Storage(StorageError::BadKey {
            key: key.to_owned(),
        })
    })
}

fn file_error(path: &Path, source: std::io::Error) -> StagingError {
    StagingError::File {
        path: path.to_owned(),
        source,
    }
}

fn lost(lecture: &str, what: String) -> StagingError {
    StagingError::Lost {
        lecture: lecture.to_owned(),
        what,
    }
}
