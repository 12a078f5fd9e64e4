//! The store: everything the catalog keeps, described in domain terms. Handlers call
//! [`Store`] and never see which database is behind it (design decision 6):
//!
//! - SQLite, the embedded default (`database_url = "sqlite://…"`), in [`sqlite`];
//! - PostgreSQL for production (`database_url = "postgres://…"`), in [`postgres`].
//!
//! SQL lives in the backends only: queries written once for both in `shared/` (compiled
//! into each backend, so both databases check them), and the older ones each backend
//! implements its own way behind the [`Database`](database::Database) trait. Each backend has
//! its own migrations (`migrations/sqlite`, `migrations/postgres`).
//! [`Store`] picks the backend from the URL's scheme and forwards to it; the few decisions
//! that are not SQL (a lecture's default title, which track measures a lecture, the demo
//! data) are made once, here, for both.
//!
//! - [`people`]: institutes, users, sessions, courses, enrolments and who may see what.
//! - [`users`]: accounts as institutes manage them: invitations, activation, sign-up.
//! - [`lectures`]: capture boxes, workers, lectures, renditions and segments.
//! - [`changes`]: which lectures' media changed since a point, here and on other replicas,
//!   so what was read about them can be kept without asking again.
//! - [`jobs`]: work for transcode workers: queued, claimed under a lease, completed with a
//!   segment index or failed and retried.
//! - [`login_attempts`]: failed and in-flight logins, counted for throttling.
//! - [`raw_chunks`]: the raw chunks capture boxes uploaded from their spools.
//! - [`resumable_uploads`]: people's resumable uploads in progress (tus).
//! - [`progress`]: where people are in each lecture and what is kept of their viewing;
//!   their opt-out of research.
//! - [`guardians`]: guardians' consents for accounts under 13.
//! - [`schedules`]: recurring schedules of courses in rooms, and their occurrences.
//! - [`provision`]: building an institute's world (institutes, users, courses, rooms, boxes).
//! - [`seed`]: the idempotent demo data.

/// Runs `$call` on whichever backend `$store` holds, bound as `$db`, and awaits it.
macro_rules! on_backend {
    ($store:expr, $db:ident => $call:expr) => {
        match &$store.backend {
            $crate::store::Backend::Sqlite($db) => $call.await,
            $crate::store::Backend::Postgres($db) => $call.await,
        }
    };
}

mod audit;
pub mod changes;
mod courses;
mod database;
mod guardians;
mod jobs;
mod lectures;
mod login_attempts;
mod people;
mod policies;
mod postgres;
pub mod privacy;
mod progress;
mod provision;
mod raw_chunks;
mod resumable_uploads;
mod rooms;
mod schedules;
mod seed;
mod sqlite;
mod users;

pub use audit::AuditEvent;
pub use courses::{CourseAccess, CourseEntry, CourseError};
pub use jobs::{ClaimedJob, EndedJob, FailOutcome, JobError, JobPolicy, NewJob};
pub use lectures::{
    Agent, LectureMedia, LectureRow, LectureSettings, LiveWorker, StartError, Worker,
    WORKER_FRESH_FOR,
};
pub use people::User;
pub use progress::{CohortViewing, LectureProgress, Progress};
pub use provision::NewAccount;
pub use resumable_uploads::{ResumableUpload, S3Staging};
pub use rooms::{RoomError, AGENT_ONLINE_WITHIN};
pub use schedules::{ScheduleError, ScheduledStart, CLASH_HORIZON_DAYS, EARLY_START};
pub use seed::{DemoSeed, INSTITUTE as DEMO_INSTITUTE, PASSWORD as DEMO_PASSWORD};
pub use users::{Invitation, UserError, UserQuery};

use lectern_wire::api::LectureState;
use std::fmt;
use std::sync::Arc;

use changes::MediaChanges;

/// Why the store failed. Handlers turn these into 500s.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// `database_url` names a database the catalog does not support.
    #[error(transparent)]
    UnsupportedUrl(#[from] UnsupportedUrl),
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

/// `database_url` starts with neither `sqlite:` nor `postgres:`. Only the scheme is shown:
/// the rest of a URL may hold a password.
#[derive(Debug, thiserror::Error)]
#[error(
    "database_url must start with sqlite: (embedded) or postgres: (production), \
     not {scheme:?}"
)]
pub struct UnsupportedUrl {
    /// What stood before the first `:` (the whole value when it has none, cut short).
    pub scheme: String,
}

/// The databases the catalog runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DatabaseKind {
    /// SQLite through sqlx: the embedded default, one file.
    Sqlite,
    /// PostgreSQL through sqlx: production, shared by catalog replicas.
    Postgres,
}

impl DatabaseKind {
    /// The database a `database_url` names, by its scheme (`sqlite:`, `postgres:` or
    /// `postgresql:`).
    pub fn from_url(url: &str) -> Result<DatabaseKind, UnsupportedUrl> {
        let scheme = url.split_once(':').map_or("", |(scheme, _)| scheme);
        match scheme.to_ascii_lowercase().as_str() {
            "sqlite" => Ok(DatabaseKind::Sqlite),
            "postgres" | "postgresql" => Ok(DatabaseKind::Postgres),
            _ => Err(UnsupportedUrl {
                scheme: if scheme.is_empty() {
                    url.chars().take(12).collect()
                } else {
                    scheme.to_owned()
                },
            }),
        }
    }
}

impl fmt::Display for DatabaseKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DatabaseKind::Sqlite => "SQLite",
            DatabaseKind::Postgres => "PostgreSQL",
        })
    }
}

/// The catalog's database. Cheap to clone (a pool inside).
#[derive(Clone, Debug)]
pub struct Store {
    backend: Backend,
    /// The media changes this store made or heard of (shared by its clones).
    changes: Arc<MediaChanges>,
    /// Woken when a job ends (done or failed), for the sweep of its dead attempts.
    jobs_ended: Arc<tokio::sync::Notify>,
}

/// The backend a [`Store`] forwards to (see [`on_backend!`]).
#[derive(Clone, Debug)]
enum Backend {
    Sqlite(sqlite::SqliteDb),
    Postgres(postgres::PostgresDb),
}

impl Store {
    /// Connects to `database_url`: `sqlite://path?mode=rwc`, `sqlite::memory:` or
    /// `postgres://user:password@host:port/database`.
    #[tracing::instrument(skip_all)]
    pub async fn connect(database_url: &str) -> Result<Store, StoreError> {
        let backend = match DatabaseKind::from_url(database_url)? {
            DatabaseKind::Sqlite => Backend::Sqlite(sqlite::SqliteDb::connect(database_url).await?),
            DatabaseKind::Postgres => {
                Backend::Postgres(postgres::PostgresDb::connect(database_url).await?)
            }
        };
        // One catalog process owns an SQLite file and sees every change; PostgreSQL replicas
        // see the others' changes only once they follow them (`follow_other_replicas`).
        let complete = matches!(backend, Backend::Sqlite(_));
        let store = Store {
            backend,
            changes: Arc::new(MediaChanges::new(complete)),
            jobs_ended: Arc::default(),
        };
        tracing::info!(database = %store.kind(), "database connected");
        Ok(store)
    }

    /// The clock of media changes, for whoever keeps what it read about a lecture's media.
    pub fn media_changes(&self) -> &Arc<MediaChanges> {
        &self.changes
    }

    /// Starts following the media changes other catalog replicas make (PostgreSQL; on SQLite
    /// there are none). Until it is listening, [`MediaChanges::mark`] gives no marks.
    pub fn follow_other_replicas(&self) {
        if let Backend::Postgres(db) = &self.backend {
            db.follow_media_changes(&self.changes);
        }
    }

    /// `lecture_id`'s media changed (the write is committed): recorded, and announced to the
    /// other replicas. An announcement that fails is logged: they notice within their cache's
    /// lifetime.
    async fn media_changed(&self, lecture_id: &str) {
        self.changes.record(lecture_id);
        if let Backend::Postgres(db) = &self.backend {
            if let Err(error) = db
                .announce_media_change(self.changes.replica(), lecture_id)
                .await
            {
                tracing::warn!(%error, lecture = lecture_id, "could not announce a media change to other replicas");
            }
        }
    }

    /// Which database is behind this store (for logs and tests; handlers do not ask).
    pub fn kind(&self) -> DatabaseKind {
        match self.backend {
            Backend::Sqlite(_) => DatabaseKind::Sqlite,
            Backend::Postgres(_) => DatabaseKind::Postgres,
        }
    }

    /// Brings the schema up to date with the backend's own migrations.
    #[tracing::instrument(skip_all)]
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Sqlite(db) => db.migrate().await,
            Backend::Postgres(db) => db.migrate().await,
        }
    }

    /// Answers when the database answers (readiness probes).
    pub async fn ping(&self) -> Result<(), StoreError> {
        on_backend!(self, db => db.ping())
    }

    /// How many lectures are in each state (states without lectures are left out).
    pub async fn lecture_counts(&self) -> Result<Vec<(LectureState, u64)>, StoreError> {
        let rows = on_backend!(self, db => db.lecture_counts())?;
        rows.into_iter()
            .map(|(state, n)| {
                Ok((
                    lectures::parse_state(&state)?,
                    u64::try_from(n).unwrap_or(0),
                ))
            })
            .collect()
    }

    /// Closes every connection (at shutdown).
    pub async fn close(&self) {
        match &self.backend {
            Backend::Sqlite(db) => db.close().await,
            Backend::Postgres(db) => db.close().await,
        }
    }
}

/// A window of a listing: at most `limit` items after skipping `offset`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Page {
    pub limit: u32,
    pub offset: u32,
}

impl Page {
    /// Everything (for internal callers that need a whole list).
    pub const ALL: Page = Page {
        limit: u32::MAX,
        offset: 0,
    };

    fn limit(self) -> i64 {
        i64::from(self.limit)
    }

    fn offset(self) -> i64 {
        i64::from(self.offset)
    }
}

/// A new random ID (UUID v4, as text on both databases). IDs are not secrets; tokens are.
fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A new lecture id, for a lecture whose storage keys are needed before its row exists
/// (an upload's file is stored under it first).
pub fn new_lecture_id() -> String {
    new_id()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_scheme_picks_the_database() {
        for (url, kind) in [
            (
                "sqlite://.lectern/catalog.db?mode=rwc",
                DatabaseKind::Sqlite,
            ),
            ("sqlite::memory:", DatabaseKind::Sqlite),
            ("postgres://lectern@db/lectern", DatabaseKind::Postgres),
            ("postgresql://lectern@db/lectern", DatabaseKind::Postgres),
            ("PostgreSQL://lectern@db/lectern", DatabaseKind::Postgres),
        ] {
            assert_eq!(DatabaseKind::from_url(url).unwrap(), kind, "{url}");
        }
    }

    #[test]
    fn another_scheme_is_an_error_naming_the_key_and_not_the_password() {
        let error = DatabaseKind::from_url("mysql://root:hunter2@db/lectern").unwrap_err();
        let message = error.to_string();
        assert!(message.contains("database_url"), "{message}");
        assert!(message.contains("\"mysql\""), "{message}");
        assert!(!message.contains("hunter2"), "{message}");
        let message = DatabaseKind::from_url("catalog.db")
            .unwrap_err()
            .to_string();
        assert!(message.contains("database_url"), "{message}");
    }
}
