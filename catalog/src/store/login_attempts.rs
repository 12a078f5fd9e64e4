//! Login attempts, for throttling (the policy is in `crate::login_throttle`). The store
//! keeps one row per attempt and throttle key: written *before* the password is checked,
//! deleted when the attempt succeeds or is refused, kept when it fails. Counting rows that
//! are already written makes the limit hold across replicas and concurrent requests: of
//! any number of simultaneous attempts at most the limit see room for themselves.
//!
//! Keys are opaque to the store (the policy hashes them); times are UTC.

use chrono::{DateTime, Utc};

use super::{new_id, Store, StoreError};

/// What the throttle needs from a database; both backends implement it next to their other
/// SQL (`sqlite/login_attempts.rs`, `postgres/login_attempts.rs`).
pub(crate) trait LoginAttemptsDb {
    /// Records attempt `attempt_id` under every key in `keys`, at `at`.
    async fn insert_login_attempt(
        &self,
        attempt_id: &str,
        keys: &[String],
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// The times of the newest `limit` attempts under `key` after `since`, newest first,
    /// leaving out attempt `excluding`.
    async fn recent_login_attempts(
        &self,
        key: &str,
        since: DateTime<Utc>,
        excluding: &str,
        limit: u32,
    ) -> Result<Vec<DateTime<Utc>>, StoreError>;
    /// Deletes every row of one attempt.
    async fn delete_login_attempt(&self, attempt_id: &str) -> Result<(), StoreError>;
    /// Deletes every attempt under `key`.
    async fn delete_login_attempts_under(&self, key: &str) -> Result<(), StoreError>;
    /// Deletes every attempt at or before `before`.
    async fn sweep_login_attempts(&self, before: DateTime<Utc>) -> Result<(), StoreError>;
}

impl Store {
    /// Records a login attempt under `keys` at `now` before its password is checked, and
    /// forgets attempts at or before `forget_before` (they no longer count). Returns the
    /// attempt's id for [`Store::recent_login_attempts`] and [`Store::forget_login_attempt`].
    #[tracing::instrument(skip_all)]
    pub async fn begin_login_attempt(
        &self,
        keys: &[String],
        now: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> Result<String, StoreError> {
        on_backend!(self, db => db.sweep_login_attempts(forget_before))?;
        let attempt_id = new_id();
        on_backend!(self, db => db.insert_login_attempt(&attempt_id, keys, now))?;
        Ok(attempt_id)
    }

    /// The times of the newest `limit` other attempts under `key` after `since`, newest
    /// first (attempts in flight count: they may be failing right now).
    #[tracing::instrument(skip_all)]
    pub async fn recent_login_attempts(
        &self,
        key: &str,
        since: DateTime<Utc>,
        excluding: &str,
        limit: u32,
    ) -> Result<Vec<DateTime<Utc>>, StoreError> {
        on_backend!(self, db => db.recent_login_attempts(key, since, excluding, limit))
    }

    /// Forgets one attempt (it succeeded, or it was refused without a password check).
    #[tracing::instrument(skip_all)]
    pub async fn forget_login_attempt(&self, attempt_id: &str) -> Result<(), StoreError> {
        on_backend!(self, db => db.delete_login_attempt(attempt_id))
    }

    /// Forgets every attempt under `key` (a successful login clears its account's count).
    #[tracing::instrument(skip_all)]
    pub async fn clear_login_attempts(&self, key: &str) -> Result<(), StoreError> {
        on_backend!(self, db => db.delete_login_attempts_under(key))
    }
}
