//! Accounts as institutes manage them: listing, invitations (activation links), activation,
//! sign-up, changes and withdrawing an invitation.

use chrono::{DateTime, Utc};
use lectern_wire::admin::{GuardianConsent, UserInfo};
use lectern_wire::api::AgeBand;

use super::super::{read_ts, ts, Db, Driver, Ts};
use crate::store::database::NewUser;
use crate::store::people::{age_band_str, parse_age_band, parse_role, role_str, User, UserRow};
use crate::store::users::{Invitation, UserQuery};
use crate::store::{Page, StoreError};

/// An account as admins see it, with its guardian's consent (`u`, and `g` left joined);
/// `activated` is computed (`password_hash` is '' until then).
const INFO_COLUMNS: &str = "u.id, u.email, u.name, u.role, u.disabled, \
     u.password_hash <> '' AS activated, u.created_at, u.age_band, g.guardian_name, \
     g.relation, g.recorded_by, g.recorded_at";

/// The tables [`INFO_COLUMNS`] reads.
const INFO_FROM: &str = "users u LEFT JOIN guardian_consents g ON g.user_id = u.id";

/// A signed-in person's columns, for a user joined with their institute.
const USER_COLUMNS: &str =
    "u.id, u.email, u.name, u.role, u.institute_id, i.name AS institute_name, u.age_band";

#[derive(sqlx::FromRow)]
struct InfoRow {
    id: String,
    email: String,
    name: String,
    role: String,
    disabled: bool,
    activated: bool,
    created_at: Ts,
    age_band: String,
    guardian_name: Option<String>,
    relation: Option<String>,
    recorded_by: Option<String>,
    recorded_at: Option<Ts>,
}

impl TryFrom<InfoRow> for UserInfo {
    type Error = StoreError;
    fn try_from(r: InfoRow) -> Result<UserInfo, StoreError> {
        let guardian_consent = match (r.guardian_name, r.relation, r.recorded_at) {
            (Some(guardian_name), Some(relation), Some(recorded_at)) => Some(GuardianConsent {
                guardian_name,
                relation,
                recorded_by: r.recorded_by,
                recorded_at: read_ts(recorded_at)?,
            }),
            _ => None,
        };
        Ok(UserInfo {
            role: parse_role(&r.role)?,
            created_at: read_ts(r.created_at)?,
            age_band: parse_age_band(&r.age_band)?,
            guardian_consent,
            id: r.id,
            email: r.email,
            name: r.name,
            disabled: r.disabled,
            activated: r.activated,
        })
    }
}

/// Inserts a user made at `now` and, when given, their activation link, on one connection
/// (the caller's transaction).
async fn insert_account(
    conn: &mut <Driver as sqlx::Database>::Connection,
    user: &NewUser<'_>,
    invitation: Option<&Invitation>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO users (id, institute_id, email, name, password_hash, role, created_at, \
         age_band) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(user.id)
    .bind(user.institute_id)
    .bind(user.email)
    .bind(user.name)
    .bind(user.password_hash)
    .bind(role_str(user.role))
    .bind(ts(now))
    .bind(age_band_str(user.age_band))
    .execute(&mut *conn)
    .await?;
    if let Some(invitation) = invitation {
        insert_invitation(conn, user.id, invitation).await?;
    }
    Ok(())
}

async fn insert_invitation(
    conn: &mut <Driver as sqlx::Database>::Connection,
    user_id: &str,
    invitation: &Invitation,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO invitations (token_hash, user_id, expires_at) VALUES ($1, $2, $3)")
        .bind(&invitation.token_hash)
        .bind(user_id)
        .bind(ts(invitation.expires_at))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

impl Db {
    /// An institute's users by name, filtered by role and by a lower-case prefix of the
    /// name or email. (SQLite's `lower` folds ASCII only: a prefix with other capitals
    /// finds nothing there.)
    pub(in crate::store) async fn institute_users(
        &self,
        institute_id: &str,
        query: &UserQuery,
        page: Page,
    ) -> Result<Vec<UserInfo>, StoreError> {
        let rows: Vec<InfoRow> = sqlx::query_as(&format!(
            "SELECT {INFO_COLUMNS} FROM {INFO_FROM} WHERE u.institute_id = $1 \
             AND ($2 IS NULL OR u.role = $2) \
             AND ($3 IS NULL OR substr(lower(u.name), 1, length($3)) = $3 \
                  OR substr(lower(u.email), 1, length($3)) = $3) \
             ORDER BY lower(u.name), lower(u.email), u.id LIMIT $4 OFFSET $5"
        ))
        .bind(institute_id)
        .bind(query.role.map(role_str))
        .bind(query.prefix.as_deref())
        .bind(page.limit())
        .bind(page.offset())
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(UserInfo::try_from).collect()
    }

    pub(in crate::store) async fn institute_user(
        &self,
        institute_id: &str,
        user_id: &str,
    ) -> Result<Option<UserInfo>, StoreError> {
        let row: Option<InfoRow> = sqlx::query_as(&format!(
            "SELECT {INFO_COLUMNS} FROM {INFO_FROM} WHERE u.id = $1 AND u.institute_id = $2"
        ))
        .bind(user_id)
        .bind(institute_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(UserInfo::try_from).transpose()
    }

    /// A user with their institute's name, as a session sees them.
    pub(in crate::store) async fn user_by_id(
        &self,
        user_id: &str,
    ) -> Result<Option<User>, StoreError> {
        let row: Option<UserRow> = sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} FROM users u JOIN institutes i ON i.id = u.institute_id \
             WHERE u.id = $1"
        ))
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(User::try_from).transpose()
    }

    /// Adds a user and, when given, their activation link, together or not at all.
    pub(in crate::store) async fn create_account(
        &self,
        user: &NewUser<'_>,
        invitation: Option<&Invitation>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        insert_account(&mut tx, user, invitation, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Adds an institute with its first user and their activation link, together or not
    /// at all.
    pub(in crate::store) async fn create_institute_with_account(
        &self,
        institute_id: &str,
        name: &str,
        user: &NewUser<'_>,
        invitation: &Invitation,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("INSERT INTO institutes (id, name) VALUES ($1, $2)")
            .bind(institute_id)
            .bind(name)
            .execute(&mut *tx)
            .await?;
        insert_account(&mut tx, user, Some(invitation), now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sets a user's name, role and age band; a child's recorded viewing beyond where to
    /// resume goes in the same transaction.
    pub(in crate::store) async fn update_user(
        &self,
        user_id: &str,
        name: &str,
        role: &str,
        age_band: AgeBand,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE users SET name = $2, role = $3, age_band = $4 WHERE id = $1")
            .bind(user_id)
            .bind(name)
            .bind(role)
            .bind(age_band_str(age_band))
            .execute(&mut *tx)
            .await?;
        if age_band == AgeBand::Under13 {
            super::progress::forget_viewing(&mut tx, user_id).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub(in crate::store) async fn rename_user(
        &self,
        user_id: &str,
        name: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE users SET name = $2 WHERE id = $1")
            .bind(user_id)
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub(in crate::store) async fn enable_user(&self, user_id: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE users SET disabled = FALSE WHERE id = $1")
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Deletes every activation link of a user.
    pub(in crate::store) async fn delete_invitations(
        &self,
        user_id: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM invitations WHERE user_id = $1")
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Gives a user `invitation` as their only activation link.
    pub(in crate::store) async fn replace_invitation(
        &self,
        user_id: &str,
        invitation: &Invitation,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM invitations WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        insert_invitation(&mut tx, user_id, invitation).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The person an unexpired link is for, while they are enabled and have no password.
    pub(in crate::store) async fn invited_user(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<User>, StoreError> {
        let row: Option<UserRow> = sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} FROM invitations v JOIN users u ON u.id = v.user_id \
             JOIN institutes i ON i.id = u.institute_id \
             WHERE v.token_hash = $1 AND v.expires_at > $2 \
             AND u.password_hash = '' AND u.disabled = FALSE"
        ))
        .bind(token_hash)
        .bind(ts(now))
        .fetch_optional(&self.pool)
        .await?;
        row.map(User::try_from).transpose()
    }

    /// Uses an activation link: deletes it (so of two requests racing with one link only
    /// one finds it) and sets the password of its enabled, not yet activated user; then the
    /// user's other links go, and expired links of anyone. The user's id, or `None` when the
    /// link is unknown, expired or its user cannot be activated (nothing changes then).
    pub(in crate::store) async fn activate(
        &self,
        token_hash: &str,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<String>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let used: Option<(String,)> = sqlx::query_as(
            "DELETE FROM invitations WHERE token_hash = $1 AND expires_at > $2 RETURNING user_id",
        )
        .bind(token_hash)
        .bind(ts(now))
        .fetch_optional(&mut *tx)
        .await?;
        let Some((user_id,)) = used else {
            return Ok(None);
        };
        let set = sqlx::query(
            "UPDATE users SET password_hash = $2 \
             WHERE id = $1 AND password_hash = '' AND disabled = FALSE",
        )
        .bind(&user_id)
        .bind(password_hash)
        .execute(&mut *tx)
        .await?;
        if set.rows_affected() == 0 {
            return Ok(None);
        }
        sqlx::query("DELETE FROM invitations WHERE user_id = $1 OR expires_at <= $2")
            .bind(&user_id)
            .bind(ts(now))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(user_id))
    }

    /// Deletes a user who never set a password (their links, enrolments and sessions go
    /// with them); false when there is no such user or they have one.
    pub(in crate::store) async fn delete_unactivated_user(
        &self,
        user_id: &str,
    ) -> Result<bool, StoreError> {
        let deleted = sqlx::query("DELETE FROM users WHERE id = $1 AND password_hash = ''")
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(deleted.rows_affected() == 1)
    }
}
