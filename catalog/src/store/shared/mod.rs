//! SQL written once for both databases. Each backend compiles this directory as its own
//! `shared` module (`#[path]` in `sqlite/mod.rs` and `postgres/mod.rs`), so every query here
//! is checked against SQLite and against PostgreSQL, and the two can never drift apart.
//!
//! What differs between the databases is named by the backend and used here: `Db` (the
//! backend's pool), `Driver` (its sqlx database) and `Conn` (one of its connections), for
//! work done in a transaction, `Ts` (how a time column is bound and read: RFC 3339 text on
//! SQLite, `timestamptz` on PostgreSQL) with `ts` and `read_ts`, and the row locks
//! `SKIP_LOCKED` and `FOR_UPDATE` (empty on SQLite, whose single writer makes them
//! unnecessary).
//! Placeholders are `$1`, `$2`… on both; booleans are bound as `bool`.

mod audit;
mod courses;
mod guardians;
mod jobs;
mod lectures;
mod media;
mod policies;
mod privacy;
mod progress;
mod resumable_uploads;
mod rooms;
mod schedules;
mod users;

use chrono::{DateTime, Utc};

use super::{read_ts, Ts};
use crate::store::StoreError;

/// A nullable time column as read back.
fn read_opt_ts(t: Option<Ts>) -> Result<Option<DateTime<Utc>>, StoreError> {
    t.map(read_ts).transpose()
}
