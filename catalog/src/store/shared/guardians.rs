//! Guardians' consents.

use chrono::{DateTime, Utc};
use lectern_wire::admin::GuardianConsent;

use super::super::{read_ts, ts, Db, Ts};
use crate::store::StoreError;

impl Db {
    pub(in crate::store) async fn guardian_consent(
        &self,
        user_id: &str,
    ) -> Result<Option<GuardianConsent>, StoreError> {
        let row: Option<(String, String, Option<String>, Ts)> = sqlx::query_as(
            "SELECT guardian_name, relation, recorded_by, recorded_at FROM guardian_consents \
             WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|(guardian_name, relation, recorded_by, recorded_at)| {
            Ok(GuardianConsent {
                guardian_name,
                relation,
                recorded_by,
                recorded_at: read_ts(recorded_at)?,
            })
        })
        .transpose()
    }

    /// Replaces the person's consent record with this one, in one transaction; true when
    /// there was one.
    pub(in crate::store) async fn record_guardian_consent(
        &self,
        user_id: &str,
        guardian_name: &str,
        relation: &str,
        recorded_by: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let replaced = sqlx::query("DELETE FROM guardian_consents WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            > 0;
        sqlx::query(
            "INSERT INTO guardian_consents (user_id, guardian_name, relation, recorded_by, \
             recorded_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(user_id)
        .bind(guardian_name)
        .bind(relation)
        .bind(recorded_by)
        .bind(ts(now))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(replaced)
    }

    pub(in crate::store) async fn withdraw_guardian_consent(
        &self,
        user_id: &str,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM guardian_consents WHERE user_id = $1")
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}
