//! Building an institute's world: institutes, users, courses, enrolments, rooms, capture
//! boxes and workers. The demo seed, test fixtures and (later) the admin API build with
//! these; every call is idempotent by the thing's natural key (name, email, code and term).

use lectern_wire::api::{AgeBand, Role};

use super::database::{Database, NewUser};
use super::{new_id, Store, StoreError};

/// A person to add to an institute.
#[derive(Debug, Clone, Copy)]
pub struct NewAccount<'a> {
    pub institute_id: &'a str,
    pub email: &'a str,
    pub name: &'a str,
    /// Their role in the institute.
    pub role: Role,
    /// An argon2id PHC string (see `auth::hash_password`).
    pub password_hash: &'a str,
    /// How old they are (an `under_13` account needs a guardian's consent to watch).
    pub age_band: AgeBand,
}

impl Store {
    /// The id of the institute named `name`, created if missing.
    #[tracing::instrument(skip(self))]
    pub async fn ensure_institute(&self, name: &str) -> Result<String, StoreError> {
        on_backend!(self, db => db.ensure_institute(&new_id(), name))
    }

    /// The id of the course (institute, code, term), created with `title` if missing.
    #[tracing::instrument(skip(self))]
    pub async fn ensure_course(
        &self,
        institute_id: &str,
        code: &str,
        title: &str,
        term: &str,
    ) -> Result<String, StoreError> {
        on_backend!(self, db => db.ensure_course(&new_id(), institute_id, code, title, term))
    }

    /// The id of the user with `account.email`, created from `account` if missing (an
    /// existing user is left as it is).
    #[tracing::instrument(skip_all, fields(email = %account.email))]
    pub async fn ensure_user(&self, account: &NewAccount<'_>) -> Result<String, StoreError> {
        if let Some(id) = on_backend!(self, db => db.user_id_by_email(account.email))? {
            return Ok(id);
        }
        let id = new_id();
        let user = NewUser {
            id: &id,
            institute_id: account.institute_id,
            email: account.email,
            name: account.name,
            password_hash: account.password_hash,
            role: account.role,
            age_band: account.age_band,
        };
        on_backend!(self, db => db.insert_user(&user))?;
        Ok(id)
    }

    /// Enrols a user in a course as `role` (student or instructor) unless already enrolled.
    #[tracing::instrument(skip(self))]
    pub async fn enrol(
        &self,
        course_id: &str,
        user_id: &str,
        role: Role,
    ) -> Result<(), StoreError> {
        on_backend!(self, db => db.ensure_enrolment(course_id, user_id, role))
    }

    /// The id of the room (institute, name), created if missing; ad-hoc recordings in it go
    /// to `default_course_id`.
    #[tracing::instrument(skip(self))]
    pub async fn ensure_room(
        &self,
        institute_id: &str,
        name: &str,
        default_course_id: &str,
    ) -> Result<String, StoreError> {
        on_backend!(self, db => db.ensure_room(&new_id(), institute_id, name, default_course_id))
    }

    /// Adds the capture box `name` in `room_id`, or moves it there with a new token hash.
    #[tracing::instrument(skip(self, token_hash))]
    pub async fn upsert_agent(
        &self,
        name: &str,
        room_id: &str,
        token_hash: &str,
    ) -> Result<(), StoreError> {
        on_backend!(self, db => db.upsert_agent(&new_id(), name, room_id, token_hash))
    }

    /// Adds the transcode worker `name`, or gives it a new token hash.
    #[tracing::instrument(skip(self, token_hash))]
    pub async fn upsert_worker(&self, name: &str, token_hash: &str) -> Result<(), StoreError> {
        on_backend!(self, db => db.upsert_worker(&new_id(), name, token_hash))
    }
}
