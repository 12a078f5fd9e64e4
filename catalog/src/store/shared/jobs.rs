//! The job queue's SQL (see `store/jobs.rs` for the rules it keeps). Every change a worker
//! makes is one `UPDATE` guarded by `worker_id` and `state`, so a worker that lost its lease
//! changes nothing; the callers find out why afterwards.

use chrono::{DateTime, Utc};
use lectern_wire::jobs::{CompleteJob, JobState, LectureJob};

use super::super::{read_ts, ts, Conn, Db, Ts, FOR_UPDATE, SKIP_LOCKED};
use super::media::{record_rendition, record_segments, record_thumbnails};
use crate::store::jobs::{parse_kind, parse_state, settles_lecture, ClaimedJob, EndedJob, NewJob};
use crate::store::StoreError;

/// Jobs a worker may claim at `$now`: queued ones, and running ones whose lease ran out
/// with attempts left (`$max_attempts`).
const RUNNABLE: &str = "state = 'queued' OR (state = 'running' AND lease_expires_at <= $now \
     AND attempts < $max_attempts)";

#[derive(sqlx::FromRow)]
struct RawClaim {
    id: String,
    kind: String,
    lecture_id: String,
    payload: String,
    attempts: i64,
}

#[derive(sqlx::FromRow)]
struct RawLectureJob {
    id: String,
    kind: String,
    state: String,
    progress: f64,
    attempts: i64,
    error: Option<String>,
    created_at: Ts,
    updated_at: Ts,
}

impl TryFrom<RawLectureJob> for LectureJob {
    type Error = StoreError;
    fn try_from(r: RawLectureJob) -> Result<LectureJob, StoreError> {
        Ok(LectureJob {
            kind: parse_kind(&r.kind)?,
            state: parse_state(&r.state)?,
            attempts: u32::try_from(r.attempts).unwrap_or(u32::MAX),
            created_at: read_ts(r.created_at)?,
            updated_at: read_ts(r.updated_at)?,
            id: r.id,
            progress: r.progress,
            error: r.error,
        })
    }
}

/// A `processing` lecture whose job failed for good fails with the job's error.
async fn fail_lecture(
    conn: &mut Conn,
    lecture_id: &str,
    error: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE lectures SET state = 'failed', error = $2, ended_at = COALESCE(ended_at, $3) \
         WHERE id = $1 AND state = 'processing'",
    )
    .bind(lecture_id)
    .bind(error)
    .bind(ts(now))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

impl Db {
    /// Inserts the job unless its (kind, lecture, dedupe key) is taken; returns the id of
    /// the job with that key and whether it is the one just inserted.
    pub(in crate::store) async fn insert_job(
        &self,
        id: &str,
        job: &NewJob<'_>,
        now: DateTime<Utc>,
    ) -> Result<(String, bool), StoreError> {
        let inserted = sqlx::query(
            "INSERT INTO jobs (id, kind, lecture_id, payload, state, dedupe_key, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, 'queued', $5, $6, $6) \
             ON CONFLICT (kind, lecture_id, dedupe_key) DO NOTHING",
        )
        .bind(id)
        .bind(job.kind.as_str())
        .bind(job.lecture_id)
        .bind(job.payload.to_string())
        .bind(job.dedupe_key)
        .bind(ts(now))
        .execute(&self.pool)
        .await?
        .rows_affected();
        let (found,): (String,) = sqlx::query_as(
            "SELECT id FROM jobs WHERE kind = $1 AND lecture_id = $2 AND dedupe_key = $3",
        )
        .bind(job.kind.as_str())
        .bind(job.lecture_id)
        .bind(job.dedupe_key)
        .fetch_one(&self.pool)
        .await?;
        Ok((found, inserted == 1))
    }

    /// Fails the running jobs whose lease ran out on their last attempt, and the
    /// `processing` lectures that waited for them, with `error`; returns their lectures.
    pub(in crate::store) async fn fail_abandoned_jobs(
        &self,
        max_attempts: i64,
        error: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, StoreError> {
        let mut tx = self.pool.begin().await?;
        // A write first: on SQLite the transaction holds the database from here on.
        let abandoned: Vec<(String, String)> = sqlx::query_as(
            "UPDATE jobs SET state = 'failed', error = $2, lease_expires_at = NULL, updated_at = $1 \
             WHERE state = 'running' AND lease_expires_at <= $1 AND attempts >= $3 \
             RETURNING lecture_id, kind",
        )
        .bind(ts(now))
        .bind(error)
        .bind(max_attempts)
        .fetch_all(&mut *tx)
        .await?;
        for (lecture_id, kind) in &abandoned {
            if settles_lecture(parse_kind(kind)?) {
                fail_lecture(&mut tx, lecture_id, error, now).await?;
            }
        }
        tx.commit().await?;
        Ok(abandoned
            .into_iter()
            .map(|(lecture_id, _)| lecture_id)
            .collect())
    }

    /// Gives `worker_id` the oldest runnable job with a lease until `lease_until`, counting
    /// the attempt. On PostgreSQL concurrent claims pass over each other's row (SKIP LOCKED);
    /// on SQLite the statement runs alone.
    pub(in crate::store) async fn claim_job(
        &self,
        worker_id: &str,
        lease_until: DateTime<Utc>,
        max_attempts: i64,
        now: DateTime<Utc>,
    ) -> Result<Option<ClaimedJob>, StoreError> {
        let runnable = RUNNABLE
            .replace("$now", "$3")
            .replace("$max_attempts", "$4");
        let row: Option<RawClaim> = sqlx::query_as(&format!(
            "UPDATE jobs SET state = 'running', worker_id = $1, lease_expires_at = $2, \
             attempts = attempts + 1, progress = 0, updated_at = $3 \
             WHERE id = (SELECT id FROM jobs WHERE {runnable} \
             ORDER BY created_at, id LIMIT 1 {SKIP_LOCKED}) \
             RETURNING id, kind, lecture_id, payload, attempts"
        ))
        .bind(worker_id)
        .bind(ts(lease_until))
        .bind(ts(now))
        .bind(max_attempts)
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else { return Ok(None) };
        Ok(Some(ClaimedJob {
            kind: parse_kind(&r.kind)?,
            payload: serde_json::from_str(&r.payload)
                .map_err(|e| StoreError::Corrupt(format!("job {} payload: {e}", r.id)))?,
            attempt: u32::try_from(r.attempts).unwrap_or(u32::MAX),
            lease_expires_at: lease_until,
            id: r.id,
            lecture_id: r.lecture_id,
        }))
    }

    /// Moves the lease of a job `worker_id` holds to `lease_until` and records its progress;
    /// false when the worker does not hold it running.
    pub(in crate::store) async fn heartbeat_job(
        &self,
        worker_id: &str,
        job_id: &str,
        progress: f64,
        lease_until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let updated = sqlx::query(
            "UPDATE jobs SET lease_expires_at = $3, progress = $4, updated_at = $5 \
             WHERE id = $1 AND worker_id = $2 AND state = 'running'",
        )
        .bind(job_id)
        .bind(worker_id)
        .bind(ts(lease_until))
        .bind(progress)
        .bind(ts(now))
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(updated == 1)
    }

    /// A job's state and the worker that holds it or held it last.
    pub(in crate::store) async fn job_holder(
        &self,
        job_id: &str,
    ) -> Result<Option<(JobState, Option<String>)>, StoreError> {
        let row: Option<(String, Option<String>)> =
            sqlx::query_as("SELECT state, worker_id FROM jobs WHERE id = $1")
                .bind(job_id)
                .fetch_optional(&self.pool)
                .await?;
        row.map(|(state, worker)| Ok((parse_state(&state)?, worker)))
            .transpose()
    }

    /// In one transaction: marks a job `worker_id` holds running as done, records its
    /// segment index and pictures (a new media version first drops the lecture's old
    /// renditions, segments and pictures) and makes a lecture that waited for it `ready`. Returns the job's lecture;
    /// `None`, with nothing changed, when the worker does not hold it running.
    pub(in crate::store) async fn complete_job(
        &self,
        worker_id: &str,
        job_id: &str,
        index: &CompleteJob,
        now: DateTime<Utc>,
    ) -> Result<Option<String>, StoreError> {
        let mut tx = self.pool.begin().await?;
        // A write first: on SQLite the transaction holds the database from here on.
        let done: Option<(String, String)> = sqlx::query_as(
            "UPDATE jobs SET state = 'done', progress = 1, error = NULL, lease_expires_at = NULL, \
             updated_at = $3, swept_at = CASE WHEN attempts <= 1 THEN $3 END \
             WHERE id = $1 AND worker_id = $2 AND state = 'running' \
             RETURNING lecture_id, kind",
        )
        .bind(job_id)
        .bind(worker_id)
        .bind(ts(now))
        .fetch_optional(&mut *tx)
        .await?;
        let Some((lecture_id, kind)) = done else {
            return Ok(None);
        };
        // Locks the lecture, so two completions of it switch versions one after the other.
        let (current,): (String,) = sqlx::query_as(&format!(
            "SELECT media_version FROM lectures WHERE id = $1 {FOR_UPDATE}"
        ))
        .bind(&lecture_id)
        .fetch_one(&mut *tx)
        .await?;
        if let Some(version) = index.media_version.as_deref().filter(|v| *v != current) {
            for table in ["segments", "renditions", "thumbnails"] {
                sqlx::query(&format!("DELETE FROM {table} WHERE lecture_id = $1"))
                    .bind(&lecture_id)
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query("UPDATE lectures SET media_version = $2 WHERE id = $1")
                .bind(&lecture_id)
                .bind(version)
                .execute(&mut *tx)
                .await?;
        }
        for rendition in &index.renditions {
            record_rendition(&mut tx, &lecture_id, rendition).await?;
        }
        record_segments(&mut tx, &lecture_id, &index.segments).await?;
        record_thumbnails(&mut tx, &lecture_id, &index.thumbnails).await?;
        if settles_lecture(parse_kind(&kind)?) {
            sqlx::query(
                "UPDATE lectures SET state = 'ready', error = NULL, ended_at = COALESCE(ended_at, $2) \
                 WHERE id = $1 AND state IN ('processing', 'failed')",
            )
            .bind(&lecture_id)
            .bind(ts(now))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(Some(lecture_id))
    }

    /// Ends the attempt of a job `worker_id` holds running with `error`: back to `queued`,
    /// or `failed` once `max_attempts` attempts were made (failing a `processing` lecture
    /// that waited for it). Returns the job's new state and its lecture; `None`, with nothing
    /// changed, when the worker does not hold it running.
    pub(in crate::store) async fn fail_job(
        &self,
        worker_id: &str,
        job_id: &str,
        error: &str,
        max_attempts: i64,
        now: DateTime<Utc>,
    ) -> Result<Option<(JobState, String)>, StoreError> {
        let mut tx = self.pool.begin().await?;
        // A write first: on SQLite the transaction holds the database from here on.
        let row: Option<(String, String, String)> = sqlx::query_as(
            "UPDATE jobs SET state = CASE WHEN attempts >= $3 THEN 'failed' ELSE 'queued' END, \
             error = $4, lease_expires_at = NULL, updated_at = $5 \
             WHERE id = $1 AND worker_id = $2 AND state = 'running' \
             RETURNING state, lecture_id, kind",
        )
        .bind(job_id)
        .bind(worker_id)
        .bind(max_attempts)
        .bind(error)
        .bind(ts(now))
        .fetch_optional(&mut *tx)
        .await?;
        let Some((state, lecture_id, kind)) = row else {
            return Ok(None);
        };
        let state = parse_state(&state)?;
        if state == JobState::Failed && settles_lecture(parse_kind(&kind)?) {
            fail_lecture(&mut tx, &lecture_id, error, now).await?;
        }
        tx.commit().await?;
        Ok(Some((state, lecture_id)))
    }

    /// A lecture's jobs, oldest first.
    pub(in crate::store) async fn lecture_jobs(
        &self,
        lecture_id: &str,
    ) -> Result<Vec<LectureJob>, StoreError> {
        let rows: Vec<RawLectureJob> = sqlx::query_as(
            "SELECT id, kind, state, progress, attempts, error, created_at, updated_at \
             FROM jobs WHERE lecture_id = $1 ORDER BY created_at, id",
        )
        .bind(lecture_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(LectureJob::try_from).collect()
    }

    /// Ended jobs not swept yet (a job completed at its first attempt is swept as it
    /// completes: nothing of it is dead).
    pub(in crate::store) async fn unswept_jobs(
        &self,
        limit: i64,
    ) -> Result<Vec<EndedJob>, StoreError> {
        let rows: Vec<(String, String, String, i64)> = sqlx::query_as(
            "SELECT id, lecture_id, state, attempts FROM jobs \
             WHERE swept_at IS NULL AND state IN ('done', 'failed') ORDER BY updated_at LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(id, lecture_id, state, attempts)| {
                Ok(EndedJob {
                    state: parse_state(&state)?,
                    attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                    id,
                    lecture_id,
                })
            })
            .collect()
    }

    pub(in crate::store) async fn mark_job_swept(
        &self,
        job_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE jobs SET swept_at = $2 WHERE id = $1")
            .bind(job_id)
            .bind(ts(now))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// How many jobs are in each state.
    pub(in crate::store) async fn job_counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(
            sqlx::query_as("SELECT state, COUNT(*) FROM jobs GROUP BY state")
                .fetch_all(&self.pool)
                .await?,
        )
    }
}
