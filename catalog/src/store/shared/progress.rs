//! People's viewing of lectures and their opt-out of research.

use chrono::{DateTime, Utc};

use super::super::{read_ts, ts, Conn, Db, Ts};
use crate::store::people::parse_age_band;
use crate::store::progress::{CohortViewing, LectureProgress, Progress};
use crate::store::StoreError;
use crate::viewing::{Kept, Recording, Report, Timeline};

#[derive(sqlx::FromRow)]
struct KeptRow {
    views: i64,
    watched_seconds: Option<f64>,
    view_id: Option<String>,
    view_watched_seconds: Option<f64>,
    buckets: Option<String>,
}

fn timeline(hex: &str) -> Result<Timeline, StoreError> {
    Timeline::from_hex(hex).map_err(|e| StoreError::Corrupt(e.to_string()))
}

impl TryFrom<KeptRow> for Kept {
    type Error = StoreError;
    fn try_from(r: KeptRow) -> Result<Kept, StoreError> {
        Ok(Kept {
            parts: r.buckets.as_deref().map(timeline).transpose()?,
            views: r.views,
            watched_seconds: r.watched_seconds,
            view_id: r.view_id,
            view_watched_seconds: r.view_watched_seconds,
        })
    }
}

#[derive(sqlx::FromRow)]
struct ProgressRow {
    lecture_id: String,
    title: String,
    position_seconds: f64,
    views: i64,
    watched_seconds: Option<f64>,
    updated_at: Ts,
}

impl TryFrom<ProgressRow> for LectureProgress {
    type Error = StoreError;
    fn try_from(r: ProgressRow) -> Result<LectureProgress, StoreError> {
        Ok(LectureProgress {
            progress: Progress {
                position_seconds: r.position_seconds,
                views: r.views,
                watched_seconds: r.watched_seconds,
                updated_at: read_ts(r.updated_at)?,
            },
            lecture_id: r.lecture_id,
            title: r.title,
        })
    }
}

/// Deletes what is kept of a person's viewing beyond where they stopped (they are now
/// under 13), on the caller's transaction.
pub(super) async fn forget_viewing(conn: &mut Conn, user_id: &str) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE lecture_progress SET views = 0, watched_seconds = NULL, view_id = NULL, \
         view_watched_seconds = NULL, buckets = NULL WHERE user_id = $1",
    )
    .bind(user_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

impl Db {
    /// Stores where the person is, then, deciding from the person's age band and opt-out as
    /// they are inside the transaction, the rest of `report`.
    pub(in crate::store) async fn record_progress(
        &self,
        user_id: &str,
        lecture_id: &str,
        report: &Report,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        // A write first: on SQLite the transaction holds the database from here on, and on
        // PostgreSQL the row stays locked until the commit, so reports of one person on one
        // lecture (and an opt-out that clears their row) apply one after the other.
        let stored: KeptRow = sqlx::query_as(
            "INSERT INTO lecture_progress (user_id, lecture_id, position_seconds, updated_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (user_id, lecture_id) DO UPDATE \
             SET position_seconds = excluded.position_seconds, updated_at = excluded.updated_at \
             RETURNING views, watched_seconds, view_id, view_watched_seconds, buckets",
        )
        .bind(user_id)
        .bind(lecture_id)
        .bind(report.position_seconds)
        .bind(ts(now))
        .fetch_one(&mut *tx)
        .await?;
        let (age_band, opted_out): (String, bool) =
            sqlx::query_as("SELECT age_band, research_opt_out FROM users WHERE id = $1")
                .bind(user_id)
                .fetch_one(&mut *tx)
                .await?;
        let recording = Recording::of(parse_age_band(&age_band)?, opted_out);
        let kept = Kept::try_from(stored)?.after(report, recording);
        sqlx::query(
            "UPDATE lecture_progress SET views = $3, watched_seconds = $4, view_id = $5, \
             view_watched_seconds = $6, buckets = $7 WHERE user_id = $1 AND lecture_id = $2",
        )
        .bind(user_id)
        .bind(lecture_id)
        .bind(kept.views)
        .bind(kept.watched_seconds)
        .bind(kept.view_id)
        .bind(kept.view_watched_seconds)
        .bind(kept.parts.as_ref().and_then(Timeline::to_hex))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub(in crate::store) async fn progress(
        &self,
        user_id: &str,
        lecture_id: &str,
    ) -> Result<Option<Progress>, StoreError> {
        let row: Option<(f64, i64, Option<f64>, Ts)> = sqlx::query_as(
            "SELECT position_seconds, views, watched_seconds, updated_at FROM lecture_progress \
             WHERE user_id = $1 AND lecture_id = $2",
        )
        .bind(user_id)
        .bind(lecture_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|(position_seconds, views, watched_seconds, updated_at)| {
            Ok(Progress {
                position_seconds,
                views,
                watched_seconds,
                updated_at: read_ts(updated_at)?,
            })
        })
        .transpose()
    }

    pub(in crate::store) async fn course_progress(
        &self,
        course_id: &str,
        user_id: &str,
    ) -> Result<Vec<LectureProgress>, StoreError> {
        let rows: Vec<ProgressRow> = sqlx::query_as(
            "SELECT p.lecture_id, l.title, p.position_seconds, p.views, p.watched_seconds, \
             p.updated_at FROM lecture_progress p JOIN lectures l ON l.id = p.lecture_id \
             WHERE l.course_id = $1 AND p.user_id = $2 ORDER BY p.updated_at DESC, p.lecture_id",
        )
        .bind(course_id)
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(LectureProgress::try_from).collect()
    }

    /// The rows of the lecture's aggregates: students of its course (enrolled as such now)
    /// who played it, neither under 13 nor opted out.
    pub(in crate::store) async fn lecture_cohort(
        &self,
        lecture_id: &str,
    ) -> Result<Vec<CohortViewing>, StoreError> {
        let rows: Vec<(i64, Option<f64>, Option<String>)> = sqlx::query_as(
            "SELECT p.views, p.watched_seconds, p.buckets FROM lecture_progress p \
             JOIN users u ON u.id = p.user_id \
             JOIN lectures l ON l.id = p.lecture_id \
             JOIN enrolments e ON e.course_id = l.course_id AND e.user_id = p.user_id \
             WHERE p.lecture_id = $1 AND p.views > 0 AND e.role = 'student' \
             AND u.research_opt_out = FALSE AND u.age_band <> 'under_13'",
        )
        .bind(lecture_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(views, watched_seconds, buckets)| {
                Ok(CohortViewing {
                    views,
                    watched_seconds: watched_seconds.unwrap_or(0.0),
                    parts: buckets
                        .as_deref()
                        .map(timeline)
                        .transpose()?
                        .unwrap_or_default(),
                })
            })
            .collect()
    }

    pub(in crate::store) async fn research_opt_out(
        &self,
        user_id: &str,
    ) -> Result<bool, StoreError> {
        let opted_out: Option<bool> =
            sqlx::query_scalar("SELECT research_opt_out FROM users WHERE id = $1")
                .bind(user_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(opted_out.unwrap_or(false))
    }

    pub(in crate::store) async fn set_research_opt_out(
        &self,
        user_id: &str,
        opt_out: bool,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE users SET research_opt_out = $2 WHERE id = $1")
            .bind(user_id)
            .bind(opt_out)
            .execute(&mut *tx)
            .await?;
        if opt_out {
            // Which parts were played serves research only: it goes with the consent.
            sqlx::query("UPDATE lecture_progress SET buckets = NULL WHERE user_id = $1")
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
