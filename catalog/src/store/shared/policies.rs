//! Privacy policy versions, their acceptances, and the retention job's deletes.

use chrono::{DateTime, Utc};
use lectern_wire::api::PrivacyPolicy;

use super::super::{read_ts, ts, Db, Ts};
use super::read_opt_ts;
use crate::store::StoreError;

#[derive(sqlx::FromRow)]
struct PolicyRow {
    version: i64,
    body: String,
    published_at: Ts,
    accepted_at: Option<Ts>,
}

impl Db {
    pub(in crate::store) async fn privacy_policy(
        &self,
        institute_id: &str,
        user_id: &str,
    ) -> Result<Option<PrivacyPolicy>, StoreError> {
        let row: Option<PolicyRow> = sqlx::query_as(
            "SELECT p.version, p.body, p.published_at, a.accepted_at FROM privacy_policies p \
             LEFT JOIN policy_acceptances a ON a.version = p.version AND a.user_id = $2 \
             WHERE p.institute_id = $1 ORDER BY p.version DESC LIMIT 1",
        )
        .bind(institute_id)
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(PrivacyPolicy {
                version: u32::try_from(r.version).unwrap_or(u32::MAX),
                body: r.body,
                published_at: read_ts(r.published_at)?,
                accepted_at: read_opt_ts(r.accepted_at)?,
            })
        })
        .transpose()
    }

    pub(in crate::store) async fn publish_policy(
        &self,
        institute_id: &str,
        body: &str,
        now: DateTime<Utc>,
    ) -> Result<u32, StoreError> {
        let version: i64 = sqlx::query_scalar(
            "INSERT INTO privacy_policies (institute_id, version, body, published_at) \
             SELECT $1, COALESCE(MAX(version), 0) + 1, $2, $3 FROM privacy_policies \
             WHERE institute_id = $1 RETURNING version",
        )
        .bind(institute_id)
        .bind(body)
        .bind(ts(now))
        .fetch_one(&self.pool)
        .await?;
        Ok(u32::try_from(version).unwrap_or(u32::MAX))
    }

    /// Only the institute's current version can be accepted.
    pub(in crate::store) async fn accept_policy(
        &self,
        institute_id: &str,
        user_id: &str,
        version: u32,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let current: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM privacy_policies WHERE institute_id = $1")
                .bind(institute_id)
                .fetch_one(&self.pool)
                .await?;
        if current != Some(i64::from(version)) {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO policy_acceptances (user_id, version, accepted_at) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id, version) DO NOTHING",
        )
        .bind(user_id)
        .bind(i64::from(version))
        .bind(ts(now))
        .execute(&self.pool)
        .await?;
        Ok(true)
    }

    /// Institutes that keep their audit log for a limited number of days.
    pub(in crate::store) async fn audit_retention_limits(
        &self,
    ) -> Result<Vec<(String, u32)>, StoreError> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT id, audit_retention_days FROM institutes \
             WHERE audit_retention_days IS NOT NULL ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, days)| (id, u32::try_from(days).unwrap_or(u32::MAX)))
            .collect())
    }

    /// Deletes the institute's audit entries made before `before`; returns how many.
    pub(in crate::store) async fn purge_audit(
        &self,
        institute_id: &str,
        before: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM audit_log WHERE institute_id = $1 AND at < $2")
            .bind(institute_id)
            .bind(ts(before))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}
