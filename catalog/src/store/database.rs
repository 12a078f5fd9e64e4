//! What the catalog needs from a database, in domain terms: the contract both backends
//! implement with their own SQL. [`super::Store`] is the only caller; it adds the decisions
//! that are the same on every database.

use chrono::{DateTime, Utc};
use lectern_packager::playlist::SegmentEntry;
use lectern_wire::api::{AgeBand, LectureState, Role};

use super::lectures::{Agent, LiveAssignment, LiveSessionRow, LiveWorker, Worker};
use super::people::User;
use super::StoreError;

/// A user to insert (the demo seed; later, invitations).
#[derive(Debug)]
pub(crate) struct NewUser<'a> {
    pub id: &'a str,
    pub institute_id: &'a str,
    pub email: &'a str,
    pub name: &'a str,
    pub password_hash: &'a str,
    pub role: Role,
    pub age_band: AgeBand,
}

/// One database behind the store. Emails compare case-insensitively; times are UTC with
/// microsecond precision; every "ensure" and "upsert" is idempotent.
///
/// The trait is crate-private and only called on concrete backends, so its `async fn`s
/// need no `Send` bound spelled out: the compiler sees each future's real type.
pub(crate) trait Database {
    // People: see `people.rs` for the access rule the visible_* methods apply.

    /// An enabled user by email, with their password hash.
    async fn user_for_login(&self, email: &str) -> Result<Option<(User, String)>, StoreError>;
    /// Records a session by the hash of its token.
    async fn create_session(
        &self,
        user_id: &str,
        token_hash: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// The enabled user of an unexpired session.
    async fn session_user(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<User>, StoreError>;
    /// Ends a session and sweeps the expired ones.
    async fn delete_session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<(), StoreError>;
    /// Marks a user disabled and deletes all their sessions, in one transaction; false when
    /// there is no such user.
    async fn disable_user(&self, user_id: &str) -> Result<bool, StoreError>;

    // Capture boxes and workers.

    /// The capture box with this token hash.
    async fn agent_by_token_hash(&self, token_hash: &str) -> Result<Option<Agent>, StoreError>;
    /// The worker with this token hash.
    async fn worker_by_token_hash(&self, token_hash: &str) -> Result<Option<Worker>, StoreError>;
    /// Sets a worker's SRT host, port range and last-seen time.
    async fn register_worker(
        &self,
        worker_id: &str,
        srt_host: &str,
        ports: (u16, u16),
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// The workers with an SRT host seen at or after `since`, most recent first.
    async fn live_workers(&self, since: DateTime<Utc>) -> Result<Vec<LiveWorker>, StoreError>;
    /// The ports of a worker that its capturing lectures hold.
    async fn live_ports(&self, worker_id: &str) -> Result<Vec<i64>, StoreError>;
    /// Stores a capturing lecture's listener (worker, port, passphrase) and its tracks
    /// (space-separated); a port already held fails with a unique violation.
    async fn assign_live(
        &self,
        lecture_id: &str,
        assignment: &LiveAssignment,
        tracks: &str,
    ) -> Result<(), StoreError>;
    /// The capturing lectures assigned to a worker that still have a passphrase.
    async fn worker_sessions(&self, worker_id: &str) -> Result<Vec<LiveSessionRow>, StoreError>;

    // Lectures.

    /// The id and code of a room's default course.
    async fn room_default_course(
        &self,
        room_id: &str,
    ) -> Result<Option<(String, String)>, StoreError>;
    /// `capturing` → `processing` (or `ready`) for a lecture of `room_id`; false when the
    /// room has no such lecture (a lecture past capturing is left as it is, and true).
    async fn stop_lecture(
        &self,
        room_id: &str,
        lecture_id: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Sets the final state and error; false when the lecture does not exist.
    async fn finish_lecture(
        &self,
        lecture_id: &str,
        state: LectureState,
        error: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// One rendition's segments in sequence order.
    async fn segments(
        &self,
        lecture_id: &str,
        track: &str,
        rung: &str,
    ) -> Result<Vec<SegmentEntry>, StoreError>;
    /// True when this segment was reported.
    async fn segment_exists(
        &self,
        lecture_id: &str,
        track: &str,
        rung: &str,
        sequence: i64,
    ) -> Result<bool, StoreError>;

    // What the demo seed (and later the admin API) builds with.

    /// The id of the institute with this name, inserted with `new_id` if missing.
    async fn ensure_institute(&self, new_id: &str, name: &str) -> Result<String, StoreError>;
    /// The id of the course (institute, code, term), inserted with `new_id` if missing.
    async fn ensure_course(
        &self,
        new_id: &str,
        institute_id: &str,
        code: &str,
        title: &str,
        term: &str,
    ) -> Result<String, StoreError>;
    /// The id of the user with this email, if any.
    async fn user_id_by_email(&self, email: &str) -> Result<Option<String>, StoreError>;
    /// Inserts a user.
    async fn insert_user(&self, user: &NewUser<'_>) -> Result<(), StoreError>;
    /// Enrols a user in a course as `role` unless already enrolled.
    async fn ensure_enrolment(
        &self,
        course_id: &str,
        user_id: &str,
        role: Role,
    ) -> Result<(), StoreError>;
    /// The id of the room (institute, name), inserted with `new_id` if missing; its default
    /// course is set either way.
    async fn ensure_room(
        &self,
        new_id: &str,
        institute_id: &str,
        name: &str,
        default_course_id: &str,
    ) -> Result<String, StoreError>;
    /// Adds the capture box `name`, or moves it to `room_id` with a new token hash.
    async fn upsert_agent(
        &self,
        new_id: &str,
        name: &str,
        room_id: &str,
        token_hash: &str,
    ) -> Result<(), StoreError>;
    /// Adds the worker `name`, or gives it a new token hash.
    async fn upsert_worker(
        &self,
        new_id: &str,
        name: &str,
        token_hash: &str,
    ) -> Result<(), StoreError>;
}
