//! Institutes, users and sessions. Who may see which course is decided in
//! [`super::courses`].

use chrono::{DateTime, Utc};
use lectern_wire::api::{AgeBand, Role};

use super::database::Database;
use super::{Store, StoreError};

/// A signed-in person, as the API and the access rules see them.
#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub institute_id: String,
    pub institute_name: String,
    /// An `under_13` account needs a guardian's consent to play anything.
    pub age_band: AgeBand,
}

/// A user as both backends select it (`u.id, u.email, …, i.name AS institute_name`).
#[derive(sqlx::FromRow)]
pub(super) struct UserRow {
    id: String,
    email: String,
    name: String,
    role: String,
    institute_id: String,
    institute_name: String,
    age_band: String,
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;
    fn try_from(r: UserRow) -> Result<User, StoreError> {
        Ok(User {
            role: parse_role(&r.role)?,
            age_band: parse_age_band(&r.age_band)?,
            id: r.id,
            email: r.email,
            name: r.name,
            institute_id: r.institute_id,
            institute_name: r.institute_name,
        })
    }
}

/// A role's text in the `users.role` and `enrolments.role` columns.
pub(super) fn role_str(role: Role) -> &'static str {
    match role {
        Role::Admin => "admin",
        Role::Instructor => "instructor",
        Role::Student => "student",
    }
}

pub(super) fn parse_role(text: &str) -> Result<Role, StoreError> {
    match text {
        "admin" => Ok(Role::Admin),
        "instructor" => Ok(Role::Instructor),
        "student" => Ok(Role::Student),
        other => Err(StoreError::Corrupt(format!("role {other:?}"))),
    }
}

/// An age band's text in the `users.age_band` column.
pub(super) fn age_band_str(band: AgeBand) -> &'static str {
    match band {
        AgeBand::Under13 => "under_13",
        AgeBand::From13To17 => "13_to_17",
        AgeBand::Adult => "adult",
    }
}

pub(super) fn parse_age_band(text: &str) -> Result<AgeBand, StoreError> {
    [AgeBand::Under13, AgeBand::From13To17, AgeBand::Adult]
        .into_iter()
        .find(|band| age_band_str(*band) == text)
        .ok_or_else(|| StoreError::Corrupt(format!("age band {text:?}")))
}

impl Store {
    /// An enabled user by email (case-insensitive), with their password hash, for login.
    #[tracing::instrument(skip(self))]
    pub async fn user_for_login(&self, email: &str) -> Result<Option<(User, String)>, StoreError> {
        on_backend!(self, db => db.user_for_login(email))
    }

    /// Records a session; only the token's hash is kept.
    #[tracing::instrument(skip(self, token_hash))]
    pub async fn create_session(
        &self,
        user_id: &str,
        token_hash: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        on_backend!(self, db => db.create_session(user_id, token_hash, now, expires_at))
    }

    /// The enabled user whose unexpired session has this token hash.
    #[tracing::instrument(skip_all)]
    pub async fn session_user(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<User>, StoreError> {
        on_backend!(self, db => db.session_user(token_hash, now))
    }

    /// Ends a session (logout); also sweeps expired ones.
    #[tracing::instrument(skip_all)]
    pub async fn delete_session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        on_backend!(self, db => db.delete_session(token_hash, now))
    }

    /// Disables a user and ends every session they have, at once: their cookies answer 401
    /// from the next request and they cannot log in. False when there is no such user.
    #[tracing::instrument(skip(self))]
    pub async fn disable_user(&self, user_id: &str) -> Result<bool, StoreError> {
        on_backend!(self, db => db.disable_user(user_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_through_their_column_text() {
        for role in [Role::Admin, Role::Instructor, Role::Student] {
            assert_eq!(parse_role(role_str(role)).unwrap(), role);
        }
        assert!(parse_role("root").is_err());
    }

    #[test]
    fn age_bands_round_trip_through_their_column_text() {
        for band in [AgeBand::Under13, AgeBand::From13To17, AgeBand::Adult] {
            assert_eq!(parse_age_band(age_band_str(band)).unwrap(), band);
            // The column holds what the API says.
            assert_eq!(
                serde_json::to_value(band).unwrap(),
                serde_json::Value::from(age_band_str(band))
            );
        }
        assert!(parse_age_band("toddler").is_err());
    }
}
