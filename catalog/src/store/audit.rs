//! The audit log: every admin action and every read of another person's data, kept per
//! institute. It records who did what to which thing, and what changed; never a password or
//! a token.

use chrono::{DateTime, Utc};
use lectern_wire::admin::AuditEntry;

use super::people::User;
use super::{Page, Store, StoreError};

/// One thing to record.
#[derive(Debug, Clone)]
pub struct AuditEvent<'a> {
    /// `<kind>.<verb>`, e.g. `course.update`, `enrolment.read`.
    pub action: &'a str,
    pub target_kind: &'a str,
    pub target_id: Option<&'a str>,
    /// What changed (the request body's fields, without secrets).
    pub detail: serde_json::Value,
}

impl Store {
    /// Records that `actor` did `event` in their institute.
    #[tracing::instrument(skip(self, actor, event), fields(actor = %actor.id, action = event.action))]
    pub async fn audit(
        &self,
        actor: &User,
        event: AuditEvent<'_>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let detail = event.detail.to_string();
        on_backend!(self, db => db.insert_audit(&actor.institute_id, Some(&actor.id), &event, &detail, now))
    }

    /// Records `event` in `institute_id`'s log with no person as its actor: something an
    /// operator did on the command line.
    #[tracing::instrument(skip(self, event), fields(action = event.action))]
    pub async fn audit_system(
        &self,
        institute_id: &str,
        event: AuditEvent<'_>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let detail = event.detail.to_string();
        on_backend!(self, db => db.insert_audit(institute_id, None, &event, &detail, now))
    }

    /// An institute's audit log, newest first.
    pub async fn audit_log(
        &self,
        institute_id: &str,
        page: Page,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        on_backend!(self, db => db.audit_log(institute_id, page))
    }
}
