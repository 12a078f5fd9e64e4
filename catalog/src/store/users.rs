//! Accounts as institutes make and manage them (issue 3): an admin invites a person, who
//! gets a single-use activation link and sets their password with it; where the institute
//! allows it, people sign up as students themselves. Only a link's SHA-256 is kept.

use chrono::{DateTime, Utc};
use lectern_wire::admin::UserInfo;
use lectern_wire::api::{AgeBand, Role};

use super::courses::is_unique_violation;
use super::database::{Database, NewUser};
use super::provision::NewAccount;
use super::{new_id, Page, Store, StoreError, User};

/// An activation link to store: the SHA-256 of its token and when it stops working.
#[derive(Debug, Clone)]
pub struct Invitation {
    pub token_hash: String,
    pub expires_at: DateTime<Utc>,
}

/// Which of an institute's users to list.
#[derive(Debug, Clone, Default)]
pub struct UserQuery {
    /// A prefix of the name or the email address, in lower case.
    pub prefix: Option<String>,
    pub role: Option<Role>,
}

/// Why an account or institute could not be made.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    /// Emails are unique across every institute: they are what people sign in with.
    #[error("an account with the email address {0:?} already exists")]
    EmailTaken(String),
    #[error("an institute named {0:?} already exists")]
    InstituteTaken(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Store {
    /// An institute's users by name (see [`UserQuery`]).
    pub async fn users(
        &self,
        institute_id: &str,
        query: &UserQuery,
        page: Page,
    ) -> Result<Vec<UserInfo>, StoreError> {
        on_backend!(self, db => db.institute_users(institute_id, query, page))
    }

    /// A user of `institute_id`; `None` for anyone else's.
    pub async fn user_info(
        &self,
        institute_id: &str,
        user_id: &str,
    ) -> Result<Option<UserInfo>, StoreError> {
        on_backend!(self, db => db.institute_user(institute_id, user_id))
    }

    /// A user as a session sees them.
    pub async fn user(&self, user_id: &str) -> Result<Option<User>, StoreError> {
        on_backend!(self, db => db.user_by_id(user_id))
    }

    /// Adds an account: invited (an empty `password_hash` and an `invitation`) or signed
    /// up (a hash and none). Returns its id.
    #[tracing::instrument(skip_all, fields(role = ?account.role))]
    pub async fn create_account(
        &self,
        account: &NewAccount<'_>,
        invitation: Option<&Invitation>,
        now: DateTime<Utc>,
    ) -> Result<String, UserError> {
        let id = new_id();
        let user = new_user(&id, account);
        on_backend!(self, db => db.create_account(&user, invitation, now))
            .map_err(|e| email_taken(e, account.email))?;
        Ok(id)
    }

    /// Adds an institute named `name` and its first admin, invited with `invitation`
    /// (the operators' `lectern-catalog institute create`). Returns both ids.
    #[tracing::instrument(skip(self, admin_email, admin_name, invitation))]
    pub async fn create_institute(
        &self,
        name: &str,
        admin_email: &str,
        admin_name: &str,
        invitation: &Invitation,
        now: DateTime<Utc>,
    ) -> Result<(String, String), UserError> {
        let institute_id = new_id();
        let user_id = new_id();
        let account = NewAccount {
            institute_id: &institute_id,
            email: admin_email,
            name: admin_name,
            role: Role::Admin,
            password_hash: "",
            age_band: AgeBand::Adult,
        };
        let user = new_user(&user_id, &account);
        let created = on_backend!(self, db => db.create_institute_with_account(
            &institute_id,
            name,
            &user,
            invitation,
            now
        ));
        match created {
            Ok(()) => Ok((institute_id, user_id)),
            // Nothing was written: tell which of the two unique things clashed.
            Err(e) if is_unique_violation(&e) => {
                let email_taken = on_backend!(self, db => db.user_id_by_email(admin_email))?;
                Err(match email_taken {
                    Some(_) => UserError::EmailTaken(admin_email.to_owned()),
                    None => UserError::InstituteTaken(name.to_owned()),
                })
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Sets a user's name, role and age band. Making them `under_13` deletes what was
    /// recorded of their viewing beyond where to resume, as if it had been so all along.
    #[tracing::instrument(skip(self, name))]
    pub async fn update_user(
        &self,
        user_id: &str,
        name: &str,
        role: Role,
        age_band: AgeBand,
    ) -> Result<(), StoreError> {
        let role = super::people::role_str(role);
        on_backend!(self, db => db.update_user(user_id, name, role, age_band))
    }

    /// Sets a user's name (they correct their own profile).
    #[tracing::instrument(skip(self, name))]
    pub async fn rename_user(&self, user_id: &str, name: &str) -> Result<(), StoreError> {
        on_backend!(self, db => db.rename_user(user_id, name))
    }

    /// Disables a user (every session and activation link of theirs ends at once) or
    /// enables them again.
    #[tracing::instrument(skip(self))]
    pub async fn set_user_disabled(&self, user_id: &str, disabled: bool) -> Result<(), StoreError> {
        if disabled {
            on_backend!(self, db => db.disable_user(user_id))?;
            on_backend!(self, db => db.delete_invitations(user_id))
        } else {
            on_backend!(self, db => db.enable_user(user_id))
        }
    }

    /// Gives a user a new activation link; their older links stop working.
    #[tracing::instrument(skip(self, invitation))]
    pub async fn replace_invitation(
        &self,
        user_id: &str,
        invitation: &Invitation,
    ) -> Result<(), StoreError> {
        on_backend!(self, db => db.replace_invitation(user_id, invitation))
    }

    /// The person an activation link is for, if it can still be used at `now`.
    #[tracing::instrument(skip_all)]
    pub async fn invited_user(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<User>, StoreError> {
        on_backend!(self, db => db.invited_user(token_hash, now))
    }

    /// Uses an activation link once: sets the password hash of its person and returns them;
    /// `None` (and nothing changed) when the link is unknown, used, expired or its person
    /// was disabled meanwhile.
    #[tracing::instrument(skip_all)]
    pub async fn activate(
        &self,
        token_hash: &str,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<User>, StoreError> {
        let Some(user_id) = on_backend!(self, db => db.activate(token_hash, password_hash, now))?
        else {
            return Ok(None);
        };
        self.user(&user_id).await
    }

    /// Withdraws an invitation: deletes a user who never set a password. False when there
    /// is no such user or they have activated their account (that is erasure, with its own
    /// rules, not this).
    #[tracing::instrument(skip(self))]
    pub async fn delete_unactivated_user(&self, user_id: &str) -> Result<bool, StoreError> {
        on_backend!(self, db => db.delete_unactivated_user(user_id))
    }
}

fn new_user<'a>(id: &'a str, account: &NewAccount<'a>) -> NewUser<'a> {
    NewUser {
        id,
        institute_id: account.institute_id,
        email: account.email,
        name: account.name,
        password_hash: account.password_hash,
        role: account.role,
        age_band: account.age_band,
    }
}

fn email_taken(e: StoreError, email: &str) -> UserError {
    if is_unique_violation(&e) {
        UserError::EmailTaken(email.to_owned())
    } else {
        UserError::Store(e)
    }
}
