//! Institutes, users, sessions, courses and enrolments, and the one rule of who sees what:
//! a course is visible to the people enrolled in it (as student or instructor) and to the
//! admins of its institute; nobody sees across institutes.

use chrono::{DateTime, Utc};
use lectern_wire::api::{Course, Role};

use super::{ts, Store, StoreError};

/// The SQL condition "course `c` is visible to the caller"; binds `?1` institute id,
/// `?2` role, `?3` user id.
pub(super) const COURSE_VISIBLE: &str = "c.institute_id = ?1 AND (?2 = 'admin' OR EXISTS \
     (SELECT 1 FROM enrolments e WHERE e.course_id = c.id AND e.user_id = ?3))";

/// A signed-in person, as the API and the access rules see them.
#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub institute_id: String,
    pub institute_name: String,
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: String,
    email: String,
    name: String,
    role: String,
    institute_id: String,
    institute_name: String,
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;
    fn try_from(r: UserRow) -> Result<User, StoreError> {
        Ok(User {
            role: parse_role(&r.role)?,
            id: r.id,
            email: r.email,
            name: r.name,
            institute_id: r.institute_id,
            institute_name: r.institute_name,
        })
    }
}

pub(super) fn role_str(role: Role) -> &'static str {
    match role {
        Role::Admin => "admin",
        Role::Instructor => "instructor",
        Role::Student => "student",
    }
}

fn parse_role(text: &str) -> Result<Role, StoreError> {
    match text {
        "admin" => Ok(Role::Admin),
        "instructor" => Ok(Role::Instructor),
        "student" => Ok(Role::Student),
        other => Err(StoreError::Corrupt(format!("role {other:?}"))),
    }
}

const USER_COLUMNS: &str =
    "u.id, u.email, u.name, u.role, u.institute_id, i.name AS institute_name";

#[derive(sqlx::FromRow)]
struct CourseRow {
    id: String,
    code: String,
    title: String,
    term: String,
}

impl From<CourseRow> for Course {
    fn from(r: CourseRow) -> Course {
        Course {
            id: r.id,
            code: r.code,
            title: r.title,
            term: r.term,
        }
    }
}

impl Store {
    /// An enabled user by email, with their password hash, for login.
    #[tracing::instrument(skip(self))]
    pub async fn user_for_login(&self, email: &str) -> Result<Option<(User, String)>, StoreError> {
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT password_hash FROM users WHERE email = ?1 COLLATE NOCASE AND disabled = 0",
        )
        .bind(email)
        .fetch_optional(&self.pool)
        .await?;
        let Some((hash,)) = row else { return Ok(None) };
        let user: UserRow = sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} FROM users u JOIN institutes i ON i.id = u.institute_id \
             WHERE u.email = ?1 COLLATE NOCASE"
        ))
        .bind(email)
        .fetch_one(&self.pool)
        .await?;
        Ok(Some((user.try_into()?, hash)))
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
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(ts(now))
        .bind(ts(expires_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The enabled user whose unexpired session has this token hash.
    #[tracing::instrument(skip_all)]
    pub async fn session_user(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<User>, StoreError> {
        let row: Option<UserRow> = sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} FROM sessions s JOIN users u ON u.id = s.user_id \
             JOIN institutes i ON i.id = u.institute_id \
             WHERE s.token_hash = ?1 AND s.expires_at > ?2 AND u.disabled = 0"
        ))
        .bind(token_hash)
        .bind(ts(now))
        .fetch_optional(&self.pool)
        .await?;
        row.map(User::try_from).transpose()
    }

    /// Ends a session (logout); also sweeps expired ones.
    #[tracing::instrument(skip_all)]
    pub async fn delete_session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = ?1 OR expires_at <= ?2")
            .bind(token_hash)
            .bind(ts(now))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The courses `user` may see, by code.
    #[tracing::instrument(skip_all, fields(user = %user.id))]
    pub async fn visible_courses(&self, user: &User) -> Result<Vec<Course>, StoreError> {
        let rows: Vec<CourseRow> = sqlx::query_as(&format!(
            "SELECT c.id, c.code, c.title, c.term FROM courses c WHERE {COURSE_VISIBLE} \
             ORDER BY c.code, c.term"
        ))
        .bind(&user.institute_id)
        .bind(role_str(user.role))
        .bind(&user.id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Course::from).collect())
    }

    /// One course, if `user` may see it.
    #[tracing::instrument(skip(self, user), fields(user = %user.id))]
    pub async fn visible_course(
        &self,
        user: &User,
        course_id: &str,
    ) -> Result<Option<Course>, StoreError> {
        let row: Option<CourseRow> = sqlx::query_as(&format!(
            "SELECT c.id, c.code, c.title, c.term FROM courses c WHERE {COURSE_VISIBLE} AND c.id = ?4"
        ))
        .bind(&user.institute_id)
        .bind(role_str(user.role))
        .bind(&user.id)
        .bind(course_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(Course::from))
    }
}

// Keep the parser honest about what it writes.
#[cfg(test)]
mod tests {
    use super::super::parse_ts;
    use super::*;

    #[test]
    fn roles_round_trip_through_their_column_text() {
        for role in [Role::Admin, Role::Instructor, Role::Student] {
            assert_eq!(parse_role(role_str(role)).unwrap(), role);
        }
        assert!(parse_role("root").is_err());
    }

    #[test]
    fn stored_times_parse_back() {
        let now = Utc::now();
        let back = parse_ts(&ts(now)).unwrap();
        assert_eq!(back.timestamp_micros(), now.timestamp_micros());
    }
}
