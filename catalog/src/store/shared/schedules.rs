//! Recurring schedules of courses in rooms.

use chrono::NaiveDateTime;
use lectern_wire::admin::Schedule;

use super::super::{read_ts, ts, Db, Ts};
use crate::store::schedules::FIRST_START_FORMAT;
use crate::store::{Page, StoreError};

const SCHEDULE_COLUMNS: &str =
    "id, course_id, room_id, title, first_start, timezone, rrule, duration_minutes, updated_at";

#[derive(sqlx::FromRow)]
struct RawSchedule {
    id: String,
    course_id: String,
    room_id: String,
    title: String,
    first_start: String,
    timezone: String,
    rrule: String,
    duration_minutes: i64,
    updated_at: Ts,
}

impl TryFrom<RawSchedule> for Schedule {
    type Error = StoreError;
    fn try_from(r: RawSchedule) -> Result<Schedule, StoreError> {
        let first_start = NaiveDateTime::parse_from_str(&r.first_start, FIRST_START_FORMAT)
            .map_err(|e| {
                StoreError::Corrupt(format!("schedule first_start {:?}: {e}", r.first_start))
            })?;
        let duration_minutes = u32::try_from(r.duration_minutes).map_err(|_| {
            StoreError::Corrupt(format!("schedule duration {}", r.duration_minutes))
        })?;
        Ok(Schedule {
            updated_at: read_ts(r.updated_at)?,
            id: r.id,
            course_id: r.course_id,
            room_id: r.room_id,
            title: r.title,
            first_start,
            timezone: r.timezone,
            rrule: r.rrule,
            duration_minutes,
        })
    }
}

fn rows(raw: Vec<RawSchedule>) -> Result<Vec<Schedule>, StoreError> {
    raw.into_iter().map(Schedule::try_from).collect()
}

impl Db {
    pub(in crate::store) async fn schedule(
        &self,
        id: &str,
    ) -> Result<Option<Schedule>, StoreError> {
        let row: Option<RawSchedule> = sqlx::query_as(&format!(
            "SELECT {SCHEDULE_COLUMNS} FROM schedules WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(Schedule::try_from).transpose()
    }

    /// A course's schedules by first start.
    pub(in crate::store) async fn course_schedules(
        &self,
        course_id: &str,
        page: Page,
    ) -> Result<Vec<Schedule>, StoreError> {
        let raw: Vec<RawSchedule> = sqlx::query_as(&format!(
            "SELECT {SCHEDULE_COLUMNS} FROM schedules WHERE course_id = $1 \
             ORDER BY first_start, title, id LIMIT $2 OFFSET $3"
        ))
        .bind(course_id)
        .bind(page.limit())
        .bind(page.offset())
        .fetch_all(&self.pool)
        .await?;
        rows(raw)
    }

    /// Every schedule of a room (a room has a handful: no page).
    pub(in crate::store) async fn room_schedules(
        &self,
        room_id: &str,
    ) -> Result<Vec<Schedule>, StoreError> {
        let raw: Vec<RawSchedule> = sqlx::query_as(&format!(
            "SELECT {SCHEDULE_COLUMNS} FROM schedules WHERE room_id = $1 ORDER BY id"
        ))
        .bind(room_id)
        .fetch_all(&self.pool)
        .await?;
        rows(raw)
    }

    pub(in crate::store) async fn insert_schedule(&self, s: &Schedule) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO schedules (id, course_id, room_id, title, first_start, timezone, rrule, \
             duration_minutes, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&s.id)
        .bind(&s.course_id)
        .bind(&s.room_id)
        .bind(&s.title)
        .bind(s.first_start.format(FIRST_START_FORMAT).to_string())
        .bind(&s.timezone)
        .bind(&s.rrule)
        .bind(i64::from(s.duration_minutes))
        .bind(ts(s.updated_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub(in crate::store) async fn update_schedule(&self, s: &Schedule) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE schedules SET course_id = $2, room_id = $3, title = $4, first_start = $5, \
             timezone = $6, rrule = $7, duration_minutes = $8, updated_at = $9 WHERE id = $1",
        )
        .bind(&s.id)
        .bind(&s.course_id)
        .bind(&s.room_id)
        .bind(&s.title)
        .bind(s.first_start.format(FIRST_START_FORMAT).to_string())
        .bind(&s.timezone)
        .bind(&s.rrule)
        .bind(i64::from(s.duration_minutes))
        .bind(ts(s.updated_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Deletes a schedule; its lectures keep their course and forget it (`ON DELETE SET NULL`).
    pub(in crate::store) async fn delete_schedule(&self, id: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM schedules WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
