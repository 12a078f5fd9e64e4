//! The SQL of the PostgreSQL backend.

use chrono::{DateTime, Utc};
use lectern_packager::playlist::SegmentEntry;
use lectern_wire::api::{LectureState, Role};

use super::PostgresDb;
use crate::store::database::{Database, NewUser};
use crate::store::lectures::{
    state_str, Agent, LiveAssignment, LiveSessionRow, LiveWorker, Worker,
};
use crate::store::people::{age_band_str, role_str, User, UserRow};
use crate::store::StoreError;

const USER_COLUMNS: &str =
    "u.id, u.email, u.name, u.role, u.institute_id, i.name AS institute_name, u.age_band";

impl Database for PostgresDb {
    async fn user_for_login(&self, email: &str) -> Result<Option<(User, String)>, StoreError> {
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT password_hash FROM users WHERE lower(email) = lower($1) AND NOT disabled",
        )
        .bind(email)
        .fetch_optional(&self.pool)
        .await?;
        let Some((hash,)) = row else { return Ok(None) };
        let user: UserRow = sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} FROM users u JOIN institutes i ON i.id = u.institute_id \
             WHERE lower(u.email) = lower($1)"
        ))
        .bind(email)
        .fetch_one(&self.pool)
        .await?;
        Ok(Some((user.try_into()?, hash)))
    }

    async fn create_session(
        &self,
        user_id: &str,
        token_hash: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(now)
        .bind(expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn session_user(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<User>, StoreError> {
        let row: Option<UserRow> = sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} FROM sessions s JOIN users u ON u.id = s.user_id \
             JOIN institutes i ON i.id = u.institute_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND NOT u.disabled"
        ))
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.map(User::try_from).transpose()
    }

    async fn delete_session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1 OR expires_at <= $2")
            .bind(token_hash)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn disable_user(&self, user_id: &str) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let updated = sqlx::query("UPDATE users SET disabled = TRUE WHERE id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(updated > 0)
    }

    async fn agent_by_token_hash(&self, token_hash: &str) -> Result<Option<Agent>, StoreError> {
        let row: Option<(String, String)> =
            sqlx::query_as("SELECT id, room_id FROM agents WHERE token_hash = $1")
                .bind(token_hash)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(id, room_id)| Agent { id, room_id }))
    }

    async fn worker_by_token_hash(&self, token_hash: &str) -> Result<Option<Worker>, StoreError> {
        let row: Option<(String,)> = sqlx::query_as("SELECT id FROM workers WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|(id,)| Worker { id }))
    }

    async fn register_worker(
        &self,
        worker_id: &str,
        srt_host: &str,
        ports: (u16, u16),
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE workers SET srt_host = $2, srt_port_first = $3, srt_port_last = $4, \
             last_seen = $5 WHERE id = $1",
        )
        .bind(worker_id)
        .bind(srt_host)
        .bind(i64::from(ports.0))
        .bind(i64::from(ports.1))
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn live_workers(&self, since: DateTime<Utc>) -> Result<Vec<LiveWorker>, StoreError> {
        let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(
            "SELECT id, srt_host, srt_port_first, srt_port_last FROM workers \
             WHERE srt_host IS NOT NULL AND srt_port_first IS NOT NULL AND srt_port_last IS NOT NULL \
             AND last_seen >= $1 ORDER BY last_seen DESC",
        )
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(worker_id, srt_host, first, last)| {
                Some(LiveWorker {
                    worker_id,
                    srt_host,
                    ports: (u16::try_from(first).ok()?, u16::try_from(last).ok()?),
                })
            })
            .collect())
    }

    async fn live_ports(&self, worker_id: &str) -> Result<Vec<i64>, StoreError> {
        let rows: Vec<(i64,)> = sqlx::query_as(
            "SELECT srt_port FROM lectures WHERE live_worker_id = $1 AND state = 'capturing' \
             AND srt_port IS NOT NULL",
        )
        .bind(worker_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(p,)| p).collect())
    }

    async fn assign_live(
        &self,
        lecture_id: &str,
        a: &LiveAssignment,
        tracks: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE lectures SET live_worker_id = $2, srt_port = $3, srt_passphrase = $4, \
             live_tracks = $5 WHERE id = $1 AND state = 'capturing'",
        )
        .bind(lecture_id)
        .bind(&a.worker_id)
        .bind(i64::from(a.port))
        .bind(&a.passphrase)
        .bind(tracks)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn worker_sessions(&self, worker_id: &str) -> Result<Vec<LiveSessionRow>, StoreError> {
        let rows: Vec<(String, i64, String, Option<String>)> = sqlx::query_as(
            "SELECT id, srt_port, srt_passphrase, live_tracks FROM lectures \
             WHERE live_worker_id = $1 AND state = 'capturing' AND srt_port IS NOT NULL \
             AND srt_passphrase IS NOT NULL ORDER BY srt_port",
        )
        .bind(worker_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(lecture_id, port, passphrase, tracks)| {
                Some(LiveSessionRow {
                    lecture_id,
                    port: u16::try_from(port).ok()?,
                    tracks: tracks
                        .unwrap_or_default()
                        .split_whitespace()
                        .map(str::to_owned)
                        .collect(),
                    passphrase,
                })
            })
            .collect())
    }

    async fn room_default_course(
        &self,
        room_id: &str,
    ) -> Result<Option<(String, String)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT c.id, c.code FROM rooms r JOIN courses c ON c.id = r.default_course_id WHERE r.id = $1",
        )
        .bind(room_id)
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn stop_lecture(
        &self,
        room_id: &str,
        lecture_id: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let found: Option<(String,)> =
            sqlx::query_as("SELECT id FROM lectures WHERE id = $1 AND room_id = $2")
                .bind(lecture_id)
                .bind(room_id)
                .fetch_optional(&self.pool)
                .await?;
        if found.is_none() {
            return Ok(false);
        }
        sqlx::query(
            "UPDATE lectures SET state = CASE WHEN live_open OR NOT EXISTS \
             (SELECT 1 FROM segments s WHERE s.lecture_id = lectures.id) THEN 'processing' ELSE 'ready' END, \
             srt_passphrase = NULL, ended_at = COALESCE(ended_at, $2) \
             WHERE id = $1 AND state = 'capturing'",
        )
        .bind(lecture_id)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(true)
    }

    async fn finish_lecture(
        &self,
        lecture_id: &str,
        state: LectureState,
        error: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        // A session that ends while the box still records (a network cut) only closes the
        // live session: the lecture stays capturing and the worker listens again.
        let interrupted = sqlx::query(
            "UPDATE lectures SET live_open = FALSE WHERE id = $1 AND state = 'capturing'",
        )
        .bind(lecture_id)
        .execute(&self.pool)
        .await?;
        if interrupted.rows_affected() == 1 {
            return Ok(true);
        }
        let done = sqlx::query(
            "UPDATE lectures SET state = $2, error = $3, live_open = FALSE, srt_passphrase = NULL, ended_at = COALESCE(ended_at, $4) WHERE id = $1",
        )
        .bind(lecture_id)
        .bind(state_str(state))
        .bind(error)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn segments(
        &self,
        lecture_id: &str,
        track: &str,
        rung: &str,
    ) -> Result<Vec<SegmentEntry>, StoreError> {
        let rows: Vec<(i64, f64, DateTime<Utc>, bool)> = sqlx::query_as(
            "SELECT sequence, duration, program_date_time, discontinuity FROM segments \
             WHERE lecture_id = $1 AND track = $2 AND rung = $3 ORDER BY sequence",
        )
        .bind(lecture_id)
        .bind(track)
        .bind(rung)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(sequence, duration, pdt, discontinuity)| {
                Ok(SegmentEntry {
                    sequence: u64::try_from(sequence)
                        .map_err(|_| StoreError::Corrupt("negative sequence".into()))?,
                    duration,
                    program_date_time: pdt,
                    discontinuity,
                })
            })
            .collect()
    }

    async fn segment_exists(
        &self,
        lecture_id: &str,
        track: &str,
        rung: &str,
        sequence: i64,
    ) -> Result<bool, StoreError> {
        let (exists,): (bool,) = sqlx::query_as(
            "SELECT EXISTS (SELECT 1 FROM segments \
             WHERE lecture_id = $1 AND track = $2 AND rung = $3 AND sequence = $4)",
        )
        .bind(lecture_id)
        .bind(track)
        .bind(rung)
        .bind(sequence)
        .fetch_one(&self.pool)
        .await?;
        Ok(exists)
    }

    async fn ensure_institute(&self, new_id: &str, name: &str) -> Result<String, StoreError> {
        sqlx::query(
            "INSERT INTO institutes (id, name) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(new_id)
        .bind(name)
        .execute(&self.pool)
        .await?;
        let (id,) = sqlx::query_as("SELECT id FROM institutes WHERE name = $1")
            .bind(name)
            .fetch_one(&self.pool)
            .await?;
        Ok(id)
    }

    async fn ensure_course(
        &self,
        new_id: &str,
        institute_id: &str,
        code: &str,
        title: &str,
        term: &str,
    ) -> Result<String, StoreError> {
        sqlx::query(
            "INSERT INTO courses (id, institute_id, code, title, term) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (institute_id, code, term) DO NOTHING",
        )
        .bind(new_id)
        .bind(institute_id)
        .bind(code)
        .bind(title)
        .bind(term)
        .execute(&self.pool)
        .await?;
        let (id,) = sqlx::query_as(
            "SELECT id FROM courses WHERE institute_id = $1 AND code = $2 AND term = $3",
        )
        .bind(institute_id)
        .bind(code)
        .bind(term)
        .fetch_one(&self.pool)
        .await?;
        Ok(id)
    }

    async fn user_id_by_email(&self, email: &str) -> Result<Option<String>, StoreError> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT id FROM users WHERE lower(email) = lower($1)")
                .bind(email)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(id,)| id))
    }

    async fn insert_user(&self, u: &NewUser<'_>) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO users (id, institute_id, email, name, password_hash, role, age_band) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(u.id)
        .bind(u.institute_id)
        .bind(u.email)
        .bind(u.name)
        .bind(u.password_hash)
        .bind(role_str(u.role))
        .bind(age_band_str(u.age_band))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn ensure_enrolment(
        &self,
        course_id: &str,
        user_id: &str,
        role: Role,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO enrolments (course_id, user_id, role) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING",
        )
        .bind(course_id)
        .bind(user_id)
        .bind(role_str(role))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn ensure_room(
        &self,
        new_id: &str,
        institute_id: &str,
        name: &str,
        default_course_id: &str,
    ) -> Result<String, StoreError> {
        sqlx::query(
            "INSERT INTO rooms (id, institute_id, name, default_course_id) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (institute_id, name) DO UPDATE SET default_course_id = excluded.default_course_id",
        )
        .bind(new_id)
        .bind(institute_id)
        .bind(name)
        .bind(default_course_id)
        .execute(&self.pool)
        .await?;
        let (id,) = sqlx::query_as("SELECT id FROM rooms WHERE institute_id = $1 AND name = $2")
            .bind(institute_id)
            .bind(name)
            .fetch_one(&self.pool)
            .await?;
        Ok(id)
    }

    async fn upsert_agent(
        &self,
        new_id: &str,
        name: &str,
        room_id: &str,
        token_hash: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO agents (id, name, room_id, token_hash) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (name) DO UPDATE SET room_id = excluded.room_id, token_hash = excluded.token_hash",
        )
        .bind(new_id)
        .bind(name)
        .bind(room_id)
        .bind(token_hash)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn upsert_worker(
        &self,
        new_id: &str,
        name: &str,
        token_hash: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO workers (id, name, token_hash) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET token_hash = excluded.token_hash",
        )
        .bind(new_id)
        .bind(name)
        .bind(token_hash)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
