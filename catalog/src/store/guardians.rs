//! Guardians' consents (table `guardian_consents`): an account under 13 plays nothing until
//! its institute's admin records one (who consented, their relation, who recorded it, when).

use chrono::{DateTime, Utc};
use lectern_wire::admin::GuardianConsent;

use super::{Store, StoreError};

impl Store {
    /// The consent recorded for `user_id`, if any.
    pub async fn guardian_consent(
        &self,
        user_id: &str,
    ) -> Result<Option<GuardianConsent>, StoreError> {
        on_backend!(self, db => db.guardian_consent(user_id))
    }

    /// Records the consent of `user_id`'s guardian, replacing an earlier record; true when
    /// it replaced one.
    #[tracing::instrument(skip(self, guardian_name, relation))]
    pub async fn record_guardian_consent(
        &self,
        user_id: &str,
        guardian_name: &str,
        relation: &str,
        recorded_by: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        on_backend!(self, db => db.record_guardian_consent(user_id, guardian_name, relation, recorded_by, now))
    }

    /// Withdraws the consent of `user_id`'s guardian; false when none was recorded.
    #[tracing::instrument(skip(self))]
    pub async fn withdraw_guardian_consent(&self, user_id: &str) -> Result<bool, StoreError> {
        on_backend!(self, db => db.withdraw_guardian_consent(user_id))
    }
}
