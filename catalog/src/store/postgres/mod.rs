//! The PostgreSQL backend: production, shared by every catalog replica.
//! Schema in `migrations/postgres`; queries in [`queries`].
//!
//! Times are `timestamptz` bound and read as `DateTime<Utc>`; booleans are `boolean`;
//! emails compare through `lower(email)` (a unique index on it keeps them unique).

mod login_attempts;
mod queries;
mod raw_chunks;

use chrono::{DateTime, Utc};
use sqlx::postgres::{PgPool, PgPoolOptions};
use std::time::Duration;

use super::lectures::{parse_state, LectureRow};
use super::StoreError;

/// Connections per catalog process. Replicas multiply it: keep the sum under the server's
/// `max_connections` (100 by default).
const MAX_CONNECTIONS: u32 = 10;

/// A pool of PostgreSQL connections.
#[derive(Clone, Debug)]
pub(super) struct PostgresDb {
    pool: PgPool,
}

impl PostgresDb {
    /// Connects to `database_url` (`postgres://user:password@host:port/database`, or with
    /// `?host=/socket/dir` for a unix socket).
    pub(super) async fn connect(database_url: &str) -> Result<PostgresDb, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(Duration::from_secs(10))
            .connect(database_url)
            .await?;
        Ok(PostgresDb { pool })
    }

    /// Applies `migrations/postgres` (sqlx takes an advisory lock, so replicas starting
    /// together migrate once).
    pub(super) async fn migrate(&self) -> Result<(), StoreError> {
        sqlx::migrate!("./migrations/postgres")
            .run(&self.pool)
            .await?;
        Ok(())
    }

    /// Closes every connection.
    pub(super) async fn close(&self) {
        self.pool.close().await;
    }

    /// One round trip to the database (readiness).
    pub(super) async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// How many lectures are in each state (states without lectures are left out).
    pub(super) async fn lecture_counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(
            sqlx::query_as("SELECT state, COUNT(*) FROM lectures GROUP BY state")
                .fetch_all(&self.pool)
                .await?,
        )
    }
}

/// A lecture row with PostgreSQL's native times.
#[derive(sqlx::FromRow)]
struct RawLecture {
    id: String,
    course_id: String,
    room_id: Option<String>,
    title: String,
    state: String,
    main_track: Option<String>,
    started_at: Option<DateTime<Utc>>,
    ended_at: Option<DateTime<Utc>>,
    error: Option<String>,
    media_version: String,
}

impl TryFrom<RawLecture> for LectureRow {
    type Error = StoreError;
    fn try_from(r: RawLecture) -> Result<LectureRow, StoreError> {
        Ok(LectureRow {
            state: parse_state(&r.state)?,
            started_at: r.started_at,
            ended_at: r.ended_at,
            id: r.id,
            course_id: r.course_id,
            room_id: r.room_id,
            title: r.title,
            main_track: r.main_track,
            error: r.error,
            media_version: r.media_version,
        })
    }
}
