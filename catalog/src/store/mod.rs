//! The store: everything the catalog keeps, described in domain terms. SQL lives only in
//! this module; handlers never see which database is behind it. SQLite is the embedded
//! default; PostgreSQL joins behind the same methods in a later issue (design decision 6).
//!
//! - [`people`]: institutes, users, sessions, courses, enrolments and who may see what.
//! - [`lectures`]: capture boxes, workers, lectures, renditions and segments.
//! - [`seed`]: the idempotent demo data.

mod lectures;
mod people;
mod seed;

pub use lectures::{
    Agent, LectureMedia, LectureRow, LiveWorker, StartError, Worker, WORKER_FRESH_FOR,
};
pub use people::User;
pub use seed::{DemoSeed, PASSWORD as DEMO_PASSWORD};

use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use std::str::FromStr;

/// Why the store failed. Handlers turn these into 500s.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused a query or could not be reached.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// The schema could not be brought up to date.
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A row holds a value the code does not understand (e.g. an unknown role).
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// Hashing a password failed.
    #[error("password hashing: {0}")]
    Password(String),
}

/// The catalog's database. Cheap to clone (a pool inside).
#[derive(Clone, Debug)]
pub struct Store {
    pool: SqlitePool,
}

impl Store {
    /// Connects to `database_url` (`sqlite://path?mode=rwc` or `sqlite::memory:`).
    #[tracing::instrument(skip_all)]
    pub async fn connect(database_url: &str) -> Result<Store, StoreError> {
        let options = SqliteConnectOptions::from_str(database_url)?
            .foreign_keys(true)
            .busy_timeout(std::time::Duration::from_secs(5));
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
        Ok(Store { pool })
    }

    /// Brings the schema up to date.
    #[tracing::instrument(skip_all)]
    pub async fn migrate(&self) -> Result<(), StoreError> {
        sqlx::migrate!("./migrations/sqlite")
            .run(&self.pool)
            .await?;
        Ok(())
    }

    /// Closes every connection (at shutdown).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// A new random ID (UUID v4). IDs are not secrets; tokens are.
fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Times are stored as fixed-width RFC 3339 UTC text so they also compare as text.
fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn parse_ts(text: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt(format!("time {text:?}: {e}")))
}

fn parse_opt_ts(text: Option<String>) -> Result<Option<DateTime<Utc>>, StoreError> {
    text.as_deref().map(parse_ts).transpose()
}
