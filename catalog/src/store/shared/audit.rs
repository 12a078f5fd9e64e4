//! The audit log.

use chrono::{DateTime, Utc};
use lectern_wire::admin::AuditEntry;

use super::super::{read_ts, ts, Db, Ts};
use crate::store::{AuditEvent, Page, StoreError};

#[derive(sqlx::FromRow)]
struct AuditRow {
    id: i64,
    at: Ts,
    actor_id: Option<String>,
    action: String,
    target_kind: String,
    target_id: Option<String>,
    detail: String,
}

impl Db {
    pub(in crate::store) async fn insert_audit(
        &self,
        institute_id: &str,
        actor_id: Option<&str>,
        event: &AuditEvent<'_>,
        detail: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO audit_log (at, institute_id, actor_id, action, target_kind, target_id, detail) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(ts(now))
        .bind(institute_id)
        .bind(actor_id)
        .bind(event.action)
        .bind(event.target_kind)
        .bind(event.target_id)
        .bind(detail)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub(in crate::store) async fn audit_log(
        &self,
        institute_id: &str,
        page: Page,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let rows: Vec<AuditRow> = sqlx::query_as(
            "SELECT id, at, actor_id, action, target_kind, target_id, detail FROM audit_log \
             WHERE institute_id = $1 ORDER BY id DESC LIMIT $2 OFFSET $3",
        )
        .bind(institute_id)
        .bind(page.limit())
        .bind(page.offset())
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(AuditEntry {
                    at: read_ts(r.at)?,
                    detail: serde_json::from_str(&r.detail)
                        .map_err(|e| StoreError::Corrupt(format!("audit detail: {e}")))?,
                    id: r.id,
                    actor_id: r.actor_id,
                    action: r.action,
                    target_kind: r.target_kind,
                    target_id: r.target_id,
                })
            })
            .collect()
    }
}
