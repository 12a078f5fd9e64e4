//! The SQL of login throttling on SQLite (see `store/login_attempts.rs`).

use chrono::{DateTime, Utc};

use super::{parse_ts, ts, SqliteDb};
use crate::store::login_attempts::LoginAttemptsDb;
use crate::store::StoreError;

impl LoginAttemptsDb for SqliteDb {
    async fn insert_login_attempt(
        &self,
        attempt_id: &str,
        keys: &[String],
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        for key in keys {
            sqlx::query(
                "INSERT INTO login_attempts (attempt_id, throttle_key, at) VALUES (?1, ?2, ?3)",
            )
            .bind(attempt_id)
            .bind(key)
            .bind(ts(at))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn recent_login_attempts(
        &self,
        key: &str,
        since: DateTime<Utc>,
        excluding: &str,
        limit: u32,
    ) -> Result<Vec<DateTime<Utc>>, StoreError> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT at FROM login_attempts \
             WHERE throttle_key = ?1 AND at > ?2 AND attempt_id <> ?3 \
             ORDER BY at DESC LIMIT ?4",
        )
        .bind(key)
        .bind(ts(since))
        .bind(excluding)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|(at,)| parse_ts(at)).collect()
    }

    async fn delete_login_attempt(&self, attempt_id: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM login_attempts WHERE attempt_id = ?1")
            .bind(attempt_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn delete_login_attempts_under(&self, key: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM login_attempts WHERE throttle_key = ?1")
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn sweep_login_attempts(&self, before: DateTime<Utc>) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM login_attempts WHERE at <= ?1")
            .bind(ts(before))
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
