//! Resumable uploads (tus, `api::resumable`): one row per upload, from its creation until the
//! sweep deletes it. The row is the truth about how many bytes arrived (`offset`); the bytes
//! themselves lie in storage (`crate::staging`). Every write of the offset is a compare and
//! set from the offset the writer started at, so two requests racing on one upload (a client
//! resuming while its cut-off request is still being read, on another replica) cannot both
//! count their bytes.

use chrono::{DateTime, Utc};

use super::{Store, StoreError};

/// An upload in progress, or one that became a lecture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResumableUpload {
    /// Its unguessable id (256 random bits, base64url): the last part of its URL.
    pub id: String,
    /// Who created it: the only person who reaches it.
    pub user_id: String,
    /// The course it becomes a lecture of.
    pub course_id: String,
    /// The id the lecture gets when the last byte arrives; its bytes lie below
    /// `uploads/<lecture_id>/` meanwhile.
    pub lecture_id: String,
    /// The lecture's title.
    pub title: String,
    /// The file's name as the uploader's metadata gave it.
    pub file_name: Option<String>,
    /// The file's size in bytes (`Upload-Length`).
    pub length: u64,
    /// How many bytes arrived and are kept (`Upload-Offset`).
    pub offset: u64,
    /// Where storage is S3: the multipart upload the whole parts go to, and their size.
    pub s3: Option<S3Staging>,
    pub created_at: DateTime<Utc>,
    /// When the sweep deletes it (and, unless it finished, its bytes).
    pub expires_at: DateTime<Utc>,
    /// When it became a lecture.
    pub finished_at: Option<DateTime<Utc>>,
}

/// The S3 multipart upload that holds an upload's whole parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Staging {
    /// The store's id of the multipart upload of `uploads/<lecture_id>/source`.
    pub upload_id: String,
    /// The size of every part but the last; fixed for the upload's life.
    pub part_bytes: u64,
}

impl Store {
    /// Records a new upload.
    #[tracing::instrument(skip_all, fields(lecture = %upload.lecture_id))]
    pub async fn create_resumable_upload(
        &self,
        upload: &ResumableUpload,
    ) -> Result<(), StoreError> {
        on_backend!(self, db => db.insert_resumable_upload(upload))
    }

    /// The upload with this id, whoever asks (the caller decides).
    pub async fn resumable_upload(&self, id: &str) -> Result<Option<ResumableUpload>, StoreError> {
        on_backend!(self, db => db.resumable_upload(id))
    }

    /// Moves an unfinished upload's offset from `from` to `to` and its expiry to
    /// `expires_at`; false (and nothing changed) when its offset is no longer `from`, it
    /// finished or it is gone.
    pub async fn advance_resumable_upload(
        &self,
        id: &str,
        from: u64,
        to: u64,
        expires_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        on_backend!(self, db => db.advance_resumable_upload(id, from, to, expires_at))
    }

    /// Marks an upload as having become its lecture at `now`; the row stays (to answer a
    /// client that lost the last answer) until `expires_at`. False when it was already.
    pub async fn finish_resumable_upload(
        &self,
        id: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        on_backend!(self, db => db.finish_resumable_upload(id, now, expires_at))
    }

    /// Deletes an upload's row; false when it was gone.
    pub async fn delete_resumable_upload(&self, id: &str) -> Result<bool, StoreError> {
        on_backend!(self, db => db.delete_resumable_upload(id))
    }

    /// Up to `limit` uploads whose expiry is at or before `now`, oldest expiry first.
    pub async fn expired_resumable_uploads(
        &self,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<ResumableUpload>, StoreError> {
        on_backend!(self, db => db.expired_resumable_uploads(now, limit))
    }
}
