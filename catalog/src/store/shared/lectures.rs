//! Reading and managing lectures (their media is in the backends' own queries still).

use chrono::{DateTime, Utc};

use super::super::{read_ts, ts, Db, Ts};
use super::read_opt_ts;
use crate::store::lectures::{parse_state, state_str, LectureRow, LectureSettings, NewLecture};
use crate::store::{Page, StoreError};

const LECTURE_COLUMNS: &str = "l.id, l.course_id, l.room_id, l.title, l.state, l.main_track, \
     l.created_at, l.started_at, l.ended_at, l.error, l.media_version, l.published, \
     l.available_from, l.available_until, l.planned_start, l.planned_end, l.trim_in, l.trim_out, \
     l.schedule_id";

/// Students see a lecture of their course only when it is published and inside its
/// availability window at `$now`.
const STUDENT_MAY_SEE: &str =
    "l.published AND (l.available_from IS NULL OR l.available_from <= $now) \
     AND (l.available_until IS NULL OR l.available_until > $now)";

#[derive(sqlx::FromRow)]
struct RawLecture {
    id: String,
    course_id: String,
    room_id: Option<String>,
    title: String,
    state: String,
    main_track: Option<String>,
    created_at: Ts,
    started_at: Option<Ts>,
    ended_at: Option<Ts>,
    error: Option<String>,
    media_version: String,
    published: bool,
    available_from: Option<Ts>,
    available_until: Option<Ts>,
    planned_start: Option<Ts>,
    planned_end: Option<Ts>,
    trim_in: Option<f64>,
    trim_out: Option<f64>,
    schedule_id: Option<String>,
}

impl TryFrom<RawLecture> for LectureRow {
    type Error = StoreError;
    fn try_from(r: RawLecture) -> Result<LectureRow, StoreError> {
        Ok(LectureRow {
            state: parse_state(&r.state)?,
            created_at: read_ts(r.created_at)?,
            started_at: read_opt_ts(r.started_at)?,
            ended_at: read_opt_ts(r.ended_at)?,
            settings: LectureSettings {
                title: r.title,
                published: r.published,
                available_from: read_opt_ts(r.available_from)?,
                available_until: read_opt_ts(r.available_until)?,
                planned_start: read_opt_ts(r.planned_start)?,
                planned_end: read_opt_ts(r.planned_end)?,
                trim_in: r.trim_in,
                trim_out: r.trim_out,
            },
            id: r.id,
            course_id: r.course_id,
            room_id: r.room_id,
            main_track: r.main_track,
            error: r.error,
            media_version: r.media_version,
            schedule_id: r.schedule_id,
        })
    }
}

impl Db {
    /// A lecture by id.
    pub(in crate::store) async fn lecture(
        &self,
        lecture_id: &str,
    ) -> Result<Option<LectureRow>, StoreError> {
        let row: Option<RawLecture> = sqlx::query_as(&format!(
            "SELECT {LECTURE_COLUMNS} FROM lectures l WHERE l.id = $1"
        ))
        .bind(lecture_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(LectureRow::try_from).transpose()
    }

    /// A course's lectures, newest first: all of them, or only those a student may see.
    pub(in crate::store) async fn course_lectures(
        &self,
        course_id: &str,
        all: bool,
        now: DateTime<Utc>,
        page: Page,
    ) -> Result<Vec<LectureRow>, StoreError> {
        let filter = STUDENT_MAY_SEE.replace("$now", "$3");
        let rows: Vec<RawLecture> = sqlx::query_as(&format!(
            "SELECT {LECTURE_COLUMNS} FROM lectures l WHERE l.course_id = $1 AND ($2 OR ({filter})) \
             ORDER BY COALESCE(l.started_at, l.planned_start, l.created_at) DESC, l.id LIMIT $4 OFFSET $5"
        ))
        .bind(course_id)
        .bind(all)
        .bind(ts(now))
        .bind(page.limit())
        .bind(page.offset())
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(LectureRow::try_from).collect()
    }

    /// Inserts a lecture, published when its course publishes new lectures at once.
    pub(in crate::store) async fn insert_lecture(
        &self,
        l: &NewLecture<'_>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO lectures (id, course_id, room_id, title, state, main_track, created_at, \
             started_at, planned_start, planned_end, schedule_id, published) \
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, c.auto_publish FROM courses c \
             WHERE c.id = $2",
        )
        .bind(l.id)
        .bind(l.course_id)
        .bind(l.room_id)
        .bind(l.title)
        .bind(state_str(l.state))
        .bind(l.main_track)
        .bind(ts(l.now))
        .bind(l.started_at.map(ts))
        .bind(l.planned_start.map(ts))
        .bind(l.planned_end.map(ts))
        .bind(l.schedule_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Writes what people set on a lecture.
    pub(in crate::store) async fn update_lecture_settings(
        &self,
        lecture_id: &str,
        s: &LectureSettings,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE lectures SET title = $2, published = $3, available_from = $4, available_until = $5, \
             planned_start = $6, planned_end = $7, trim_in = $8, trim_out = $9 WHERE id = $1",
        )
        .bind(lecture_id)
        .bind(&s.title)
        .bind(s.published)
        .bind(s.available_from.map(ts))
        .bind(s.available_until.map(ts))
        .bind(s.planned_start.map(ts))
        .bind(s.planned_end.map(ts))
        .bind(s.trim_in)
        .bind(s.trim_out)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Deletes a lecture and, through the schema's cascades, its renditions, segments, raw
    /// chunks and jobs; false when there is none or it is `capturing`. A planned lecture may
    /// become the recording of a box at any moment, so the check is part of the delete.
    pub(in crate::store) async fn delete_lecture(
        &self,
        lecture_id: &str,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM lectures WHERE id = $1 AND state <> 'capturing'")
            .bind(lecture_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// True when `worker_id` is the worker the lecture's live session was assigned to.
    pub(in crate::store) async fn is_live_worker(
        &self,
        lecture_id: &str,
        worker_id: &str,
    ) -> Result<bool, StoreError> {
        let found: Option<(String,)> =
            sqlx::query_as("SELECT id FROM lectures WHERE id = $1 AND live_worker_id = $2")
                .bind(lecture_id)
                .bind(worker_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(found.is_some())
    }

    /// The lectures planned in a room, still `scheduled`, whose planned window holds a
    /// recording that starts at `now`: planned to start at or before `start_by` (a little
    /// after `now`) and to end after `now`. Lectures without both times never match.
    pub(in crate::store) async fn planned_in_room(
        &self,
        room_id: &str,
        now: DateTime<Utc>,
        start_by: DateTime<Utc>,
    ) -> Result<Vec<LectureRow>, StoreError> {
        let rows: Vec<RawLecture> = sqlx::query_as(&format!(
            "SELECT {LECTURE_COLUMNS} FROM lectures l WHERE l.room_id = $1 \
             AND l.state = 'scheduled' AND l.planned_start <= $2 AND l.planned_end > $3"
        ))
        .bind(room_id)
        .bind(ts(start_by))
        .bind(ts(now))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(LectureRow::try_from).collect()
    }

    /// A planned lecture becomes a recording: `capturing` since `now` with its main track,
    /// renamed only when `title` is given. False when it is no longer `scheduled` (another
    /// box of the room took it, or it was deleted or stopped meanwhile).
    pub(in crate::store) async fn begin_planned_lecture(
        &self,
        lecture_id: &str,
        title: Option<&str>,
        main_track: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE lectures SET state = 'capturing', started_at = $2, main_track = $3, \
             title = COALESCE($4, title) WHERE id = $1 AND state = 'scheduled'",
        )
        .bind(lecture_id)
        .bind(ts(now))
        .bind(main_track)
        .bind(title)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
