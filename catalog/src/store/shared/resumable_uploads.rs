//! Resumable uploads' SQL (see `store/resumable_uploads.rs`). The offset column is called
//! `received`: `offset` is a keyword of both databases.

use chrono::{DateTime, Utc};

use super::super::{read_ts, ts, Db, Ts};
use super::read_opt_ts;
use crate::store::resumable_uploads::{ResumableUpload, S3Staging};
use crate::store::StoreError;

const COLUMNS: &str = "id, user_id, course_id, lecture_id, title, file_name, length, received, \
     s3_upload_id, part_bytes, created_at, expires_at, finished_at";

#[derive(sqlx::FromRow)]
struct RawUpload {
    id: String,
    user_id: String,
    course_id: String,
    lecture_id: String,
    title: String,
    file_name: Option<String>,
    length: i64,
    received: i64,
    s3_upload_id: Option<String>,
    part_bytes: Option<i64>,
    created_at: Ts,
    expires_at: Ts,
    finished_at: Option<Ts>,
}

impl TryFrom<RawUpload> for ResumableUpload {
    type Error = StoreError;
    fn try_from(r: RawUpload) -> Result<ResumableUpload, StoreError> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("resumable upload {what}"));
        let size = |n: i64| u64::try_from(n).map_err(|_| corrupt("size below 0"));
        let s3 = match (r.s3_upload_id, r.part_bytes) {
            (Some(upload_id), Some(part_bytes)) => Some(S3Staging {
                upload_id,
                part_bytes: size(part_bytes)?,
            }),
            (None, None) => None,
            _ => return Err(corrupt("with half an S3 multipart upload")),
        };
        Ok(ResumableUpload {
            length: size(r.length)?,
            offset: size(r.received)?,
            created_at: read_ts(r.created_at)?,
            expires_at: read_ts(r.expires_at)?,
            finished_at: read_opt_ts(r.finished_at)?,
            id: r.id,
            user_id: r.user_id,
            course_id: r.course_id,
            lecture_id: r.lecture_id,
            title: r.title,
            file_name: r.file_name,
            s3,
        })
    }
}

/// A size as bound (sizes are checked against `max_upload_bytes`, far below `i64::MAX`).
fn size(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Db {
    pub(in crate::store) async fn insert_resumable_upload(
        &self,
        u: &ResumableUpload,
    ) -> Result<(), StoreError> {
        sqlx::query(&format!(
            "INSERT INTO resumable_uploads ({COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        ))
        .bind(&u.id)
        .bind(&u.user_id)
        .bind(&u.course_id)
        .bind(&u.lecture_id)
        .bind(&u.title)
        .bind(&u.file_name)
        .bind(size(u.length))
        .bind(size(u.offset))
        .bind(u.s3.as_ref().map(|s3| s3.upload_id.as_str()))
        .bind(u.s3.as_ref().map(|s3| size(s3.part_bytes)))
        .bind(ts(u.created_at))
        .bind(ts(u.expires_at))
        .bind(u.finished_at.map(ts))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub(in crate::store) async fn resumable_upload(
        &self,
        id: &str,
    ) -> Result<Option<ResumableUpload>, StoreError> {
        let row: Option<RawUpload> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM resumable_uploads WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(ResumableUpload::try_from).transpose()
    }

    pub(in crate::store) async fn advance_resumable_upload(
        &self,
        id: &str,
        from: u64,
        to: u64,
        expires_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE resumable_uploads SET received = $3, expires_at = $4 \
             WHERE id = $1 AND received = $2 AND finished_at IS NULL",
        )
        .bind(id)
        .bind(size(from))
        .bind(size(to))
        .bind(ts(expires_at))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub(in crate::store) async fn finish_resumable_upload(
        &self,
        id: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE resumable_uploads SET finished_at = $2, expires_at = $3 \
             WHERE id = $1 AND finished_at IS NULL",
        )
        .bind(id)
        .bind(ts(now))
        .bind(ts(expires_at))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub(in crate::store) async fn delete_resumable_upload(
        &self,
        id: &str,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM resumable_uploads WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    pub(in crate::store) async fn expired_resumable_uploads(
        &self,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<ResumableUpload>, StoreError> {
        let rows: Vec<RawUpload> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM resumable_uploads WHERE expires_at <= $1 \
             ORDER BY expires_at LIMIT $2"
        ))
        .bind(ts(now))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(ResumableUpload::try_from).collect()
    }
}
