//! The PostgreSQL backend: production, shared by every catalog replica.
//! Schema in `migrations/postgres`; queries in [`queries`].
//!
//! Times are `timestamptz` bound and read as `DateTime<Utc>`; booleans are `boolean`;
//! emails compare through `lower(email)` (a unique index on it keeps them unique).

mod changes;
mod login_attempts;
mod queries;
mod raw_chunks;
/// The SQL written once for both backends, compiled here against PostgreSQL.
#[path = "../shared/mod.rs"]
#[allow(clippy::duplicate_mod)] // Once per backend, on purpose: that is the point.
mod shared;

/// What the shared SQL names: this backend's pool, its sqlx database and one of its
/// connections (for work done in a transaction), and its time column type.
type Db = PostgresDb;
type Driver = sqlx::Postgres;
type Conn = <Driver as sqlx::Database>::Connection;
/// The order renditions were first reported in: the identity column `position`.
const RENDITION_ORDER: &str = "r.position";
type Ts = DateTime<Utc>;

/// Locks the row a `SELECT` picks for this transaction, passing over rows another
/// transaction holds: how catalog replicas claim jobs without handing one out twice.
const SKIP_LOCKED: &str = "FOR UPDATE SKIP LOCKED";
/// Locks the rows a `SELECT` reads until the transaction ends.
const FOR_UPDATE: &str = "FOR UPDATE";

/// A time as bound: `timestamptz` takes it as it is.
fn ts(t: DateTime<Utc>) -> Ts {
    t
}

/// A time as read back.
#[allow(clippy::unnecessary_wraps)] // The SQLite twin parses text and can fail.
fn read_ts(t: Ts) -> Result<DateTime<Utc>, StoreError> {
    Ok(t)
}

use chrono::{DateTime, Utc};
use sqlx::postgres::{PgPool, PgPoolOptions};
use std::time::Duration;

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
