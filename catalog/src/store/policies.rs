//! Each institute's privacy policy, versioned, and who accepted which version (issue 7); and
//! the retention job that deletes what an institute keeps no longer.

use chrono::{DateTime, Duration, Utc};
use lectern_wire::api::{PrivacyPolicy, RetentionReport};

use super::{AuditEvent, Store, StoreError, User};

impl Store {
    /// The institute's current policy, with when `user` accepted it; `None`: none published.
    pub async fn privacy_policy(&self, user: &User) -> Result<Option<PrivacyPolicy>, StoreError> {
        on_backend!(self, db => db.privacy_policy(&user.institute_id, &user.id))
    }

    /// The version of the institute's policy `user` has yet to accept, if any.
    pub async fn policy_to_accept(&self, user: &User) -> Result<Option<u32>, StoreError> {
        let policy = self.privacy_policy(user).await?;
        Ok(policy
            .filter(|p| p.accepted_at.is_none())
            .map(|p| p.version))
    }

    /// Publishes `body` as the institute's next policy version; returns it.
    #[tracing::instrument(skip(self, body))]
    pub async fn publish_policy(
        &self,
        institute_id: &str,
        body: &str,
        now: DateTime<Utc>,
    ) -> Result<u32, StoreError> {
        on_backend!(self, db => db.publish_policy(institute_id, body, now))
    }

    /// Records that `user` accepted `version`; false when it is not the current version.
    /// Accepting it again changes nothing.
    #[tracing::instrument(skip(self, user), fields(user = %user.id))]
    pub async fn accept_policy(
        &self,
        user: &User,
        version: u32,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        on_backend!(self, db => db.accept_policy(&user.institute_id, &user.id, version, now))
    }

    /// Deletes, in every institute, what is older than the institute keeps it, and records
    /// what went in the institute's audit log (`retention.purge`).
    #[tracing::instrument(skip(self))]
    pub async fn purge_expired(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<(String, RetentionReport)>, StoreError> {
        let limits = on_backend!(self, db => db.audit_retention_limits())?;
        let mut reports = Vec::new();
        for (institute_id, days) in limits {
            let before = now - Duration::days(i64::from(days));
            let audit_entries = on_backend!(self, db => db.purge_audit(&institute_id, before))?;
            let report = RetentionReport { audit_entries };
            if report != RetentionReport::default() {
                let event = AuditEvent {
                    action: "retention.purge",
                    target_kind: "institute",
                    target_id: Some(&institute_id),
                    detail: serde_json::json!({"report": report, "before": before}),
                };
                self.audit_system(&institute_id, event, now).await?;
                tracing::info!(institute = %institute_id, audit_entries, "retention: deleted what the institute keeps no longer");
            }
            reports.push((institute_id, report));
        }
        Ok(reports)
    }
}
