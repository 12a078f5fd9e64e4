//! The SQLite backend: the embedded default, one file (WAL mode) or `:memory:`.
//! Schema in `migrations/sqlite`; queries in [`queries`].
//!
//! Times are stored as fixed-width RFC 3339 UTC text with microseconds, so they also
//! compare and sort correctly as text; booleans are integers; emails compare with
//! `COLLATE NOCASE`.

mod login_attempts;
mod queries;
mod raw_chunks;
/// The SQL written once for both backends, compiled here against SQLite.
#[path = "../shared/mod.rs"]
#[allow(clippy::duplicate_mod)] // Once per backend, on purpose: that is the point.
mod shared;

/// What the shared SQL names: this backend's pool, its sqlx database and one of its
/// connections (for work done in a transaction), and its time column type.
type Db = SqliteDb;
type Driver = sqlx::Sqlite;
type Conn = <Driver as sqlx::Database>::Connection;
/// The order renditions were first reported in: SQLite's rowid.
const RENDITION_ORDER: &str = "r.rowid";
type Ts = String;

/// SQLite has no row locks and needs none: one writer at a time, and a statement that
/// writes holds the database from its first row to its commit.
const SKIP_LOCKED: &str = "";
/// See [`SKIP_LOCKED`].
const FOR_UPDATE: &str = "";

use chrono::{DateTime, SecondsFormat, Utc};
use lectern_wire::api::LectureState;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use std::str::FromStr;
use std::time::Duration;

use super::StoreError;

/// A pool of SQLite connections.
#[derive(Clone, Debug)]
pub(super) struct SqliteDb {
    pool: SqlitePool,
}

impl SqliteDb {
    /// Opens `database_url` (`sqlite://path?mode=rwc` or `sqlite::memory:`), creating the
    /// file's directory when needed.
    pub(super) async fn connect(database_url: &str) -> Result<SqliteDb, StoreError> {
        let options = SqliteConnectOptions::from_str(database_url)?
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let in_memory = database_url.contains(":memory:") || database_url.contains("mode=memory");
        if !in_memory {
            // SQLite creates the file (mode=rwc) but not the directory it lives in.
            if let Some(dir) = options
                .get_filename()
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
            {
                std::fs::create_dir_all(dir)
                    .map_err(|e| StoreError::Database(sqlx::Error::Io(e)))?;
            }
        }
        let pool = if in_memory {
            // Every connection to `:memory:` is its own database: keep exactly one, forever.
            SqlitePoolOptions::new()
                .max_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(options)
                .await?
        } else {
            SqlitePoolOptions::new()
                .max_connections(8)
                .connect_with(options.journal_mode(SqliteJournalMode::Wal))
                .await?
        };
        Ok(SqliteDb { pool })
    }

    /// Applies `migrations/sqlite`.
    pub(super) async fn migrate(&self) -> Result<(), StoreError> {
        sqlx::migrate!("./migrations/sqlite")
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

/// A time as stored: fixed-width RFC 3339 UTC text.
fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn parse_ts(text: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt(format!("time {text:?}: {e}")))
}

/// A time as read back (the shared SQL's name for [`parse_ts`]).
fn read_ts(text: Ts) -> Result<DateTime<Utc>, StoreError> {
    parse_ts(&text)
}

/// The state column's text, for binding.
fn state_text(state: LectureState) -> &'static str {
    super::lectures::state_str(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_times_parse_back_and_sort_as_text() {
        let now = Utc::now();
        let back = parse_ts(&ts(now)).unwrap();
        assert_eq!(back.timestamp_micros(), now.timestamp_micros());
        let later = now + chrono::Duration::milliseconds(1500);
        assert!(ts(now) < ts(later));
        assert_eq!(ts(now).len(), ts(later).len());
    }
}
