//! Courses and enrolments.

use lectern_wire::admin::{Enrolment, NewCourse};
use lectern_wire::api::{Course, CourseRole};

use super::super::Db;
use crate::store::courses::{course_role_str, parse_course_role, RawCourse};
use crate::store::{Page, StoreError};

/// A course with the caller's enrolment role (NULL when not enrolled).
#[derive(sqlx::FromRow)]
struct CourseRow {
    id: String,
    institute_id: String,
    code: String,
    title: String,
    term: String,
    auto_publish: bool,
    my_role: Option<String>,
}

impl TryFrom<CourseRow> for RawCourse {
    type Error = StoreError;
    fn try_from(r: CourseRow) -> Result<RawCourse, StoreError> {
        Ok(RawCourse {
            course: Course {
                my_role: r.my_role.as_deref().map(parse_course_role).transpose()?,
                id: r.id,
                code: r.code,
                title: r.title,
                term: r.term,
                auto_publish: r.auto_publish,
            },
            institute_id: r.institute_id,
        })
    }
}

fn courses(rows: Vec<CourseRow>) -> Result<Vec<Course>, StoreError> {
    rows.into_iter()
        .map(|r| RawCourse::try_from(r).map(|raw| raw.course))
        .collect()
}

#[derive(sqlx::FromRow)]
struct EnrolmentRow {
    user_id: String,
    name: String,
    email: String,
    role: String,
}

impl Db {
    /// Every course of an institute, with `user_id`'s role in each.
    pub(in crate::store) async fn institute_courses(
        &self,
        institute_id: &str,
        user_id: &str,
        page: Page,
    ) -> Result<Vec<Course>, StoreError> {
        let rows: Vec<CourseRow> = sqlx::query_as(
            "SELECT c.id, c.institute_id, c.code, c.title, c.term, c.auto_publish, e.role AS my_role \
             FROM courses c LEFT JOIN enrolments e ON e.course_id = c.id AND e.user_id = $2 \
             WHERE c.institute_id = $1 ORDER BY c.code, c.term, c.id LIMIT $3 OFFSET $4",
        )
        .bind(institute_id)
        .bind(user_id)
        .bind(page.limit())
        .bind(page.offset())
        .fetch_all(&self.pool)
        .await?;
        courses(rows)
    }

    /// The courses of `institute_id` that `user_id` is enrolled in.
    pub(in crate::store) async fn enrolled_courses(
        &self,
        institute_id: &str,
        user_id: &str,
        page: Page,
    ) -> Result<Vec<Course>, StoreError> {
        let rows: Vec<CourseRow> = sqlx::query_as(
            // CROSS JOIN makes SQLite start from the person's enrolments (its index), not
            // from every course of the institute, even without ANALYZE statistics;
            // PostgreSQL plans it like any join.
            "SELECT c.id, c.institute_id, c.code, c.title, c.term, c.auto_publish, e.role AS my_role \
             FROM enrolments e CROSS JOIN courses c \
             WHERE c.id = e.course_id AND e.user_id = $2 AND c.institute_id = $1 \
             ORDER BY c.code, c.term, c.id LIMIT $3 OFFSET $4",
        )
        .bind(institute_id)
        .bind(user_id)
        .bind(page.limit())
        .bind(page.offset())
        .fetch_all(&self.pool)
        .await?;
        courses(rows)
    }

    /// One course with `user_id`'s role in it, whoever asks (the caller decides).
    pub(in crate::store) async fn course_with_role(
        &self,
        course_id: &str,
        user_id: &str,
    ) -> Result<Option<RawCourse>, StoreError> {
        let row: Option<CourseRow> = sqlx::query_as(
            "SELECT c.id, c.institute_id, c.code, c.title, c.term, c.auto_publish, e.role AS my_role \
             FROM courses c LEFT JOIN enrolments e ON e.course_id = c.id AND e.user_id = $2 \
             WHERE c.id = $1",
        )
        .bind(course_id)
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(RawCourse::try_from).transpose()
    }

    pub(in crate::store) async fn insert_course(
        &self,
        id: &str,
        institute_id: &str,
        new: &NewCourse,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO courses (id, institute_id, code, title, term, auto_publish) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(institute_id)
        .bind(&new.code)
        .bind(&new.title)
        .bind(&new.term)
        .bind(new.auto_publish)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub(in crate::store) async fn update_course(
        &self,
        course_id: &str,
        code: &str,
        title: &str,
        term: &str,
        auto_publish: bool,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE courses SET code = $2, title = $3, term = $4, auto_publish = $5 WHERE id = $1",
        )
        .bind(course_id)
        .bind(code)
        .bind(title)
        .bind(term)
        .bind(auto_publish)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub(in crate::store) async fn count_course_lectures(
        &self,
        course_id: &str,
    ) -> Result<i64, StoreError> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM lectures WHERE course_id = $1")
            .bind(course_id)
            .fetch_one(&self.pool)
            .await?;
        Ok(n)
    }

    /// Deletes a course; rooms that recorded into it by default no longer do.
    pub(in crate::store) async fn delete_course(&self, course_id: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM courses WHERE id = $1")
            .bind(course_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub(in crate::store) async fn enrolments(
        &self,
        course_id: &str,
        page: Page,
    ) -> Result<Vec<Enrolment>, StoreError> {
        let rows: Vec<EnrolmentRow> = sqlx::query_as(
            "SELECT u.id AS user_id, u.name, u.email, e.role FROM enrolments e \
             JOIN users u ON u.id = e.user_id WHERE e.course_id = $1 \
             ORDER BY CASE e.role WHEN 'instructor' THEN 0 WHEN 'teaching_assistant' THEN 1 ELSE 2 END, \
             u.name, u.id LIMIT $2 OFFSET $3",
        )
        .bind(course_id)
        .bind(page.limit())
        .bind(page.offset())
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(Enrolment {
                    role: parse_course_role(&r.role)?,
                    user_id: r.user_id,
                    name: r.name,
                    email: r.email,
                })
            })
            .collect()
    }

    /// A course of an institute by code and term.
    pub(in crate::store) async fn course_by_code(
        &self,
        institute_id: &str,
        code: &str,
        term: &str,
    ) -> Result<Option<Course>, StoreError> {
        let row: Option<CourseRow> = sqlx::query_as(
            "SELECT c.id, c.institute_id, c.code, c.title, c.term, c.auto_publish, NULL AS my_role \
             FROM courses c WHERE c.institute_id = $1 AND c.code = $2 AND c.term = $3",
        )
        .bind(institute_id)
        .bind(code)
        .bind(term)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| RawCourse::try_from(r).map(|raw| raw.course))
            .transpose()
    }

    /// Someone's role in a course, if enrolled.
    pub(in crate::store) async fn enrolment_role(
        &self,
        course_id: &str,
        user_id: &str,
    ) -> Result<Option<CourseRole>, StoreError> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT role FROM enrolments WHERE course_id = $1 AND user_id = $2")
                .bind(course_id)
                .bind(user_id)
                .fetch_optional(&self.pool)
                .await?;
        row.map(|(role,)| parse_course_role(&role)).transpose()
    }

    /// The id and institute of the user with this email (case-insensitive).
    pub(in crate::store) async fn user_by_email(
        &self,
        email: &str,
    ) -> Result<Option<(String, String)>, StoreError> {
        Ok(
            sqlx::query_as("SELECT id, institute_id FROM users WHERE lower(email) = lower($1)")
                .bind(email)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    pub(in crate::store) async fn user_institute(
        &self,
        user_id: &str,
    ) -> Result<Option<String>, StoreError> {
        let row: Option<(String,)> = sqlx::query_as("SELECT institute_id FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|(id,)| id))
    }

    pub(in crate::store) async fn set_enrolment(
        &self,
        course_id: &str,
        user_id: &str,
        role: CourseRole,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO enrolments (course_id, user_id, role) VALUES ($1, $2, $3) \
             ON CONFLICT (course_id, user_id) DO UPDATE SET role = excluded.role",
        )
        .bind(course_id)
        .bind(user_id)
        .bind(course_role_str(role))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub(in crate::store) async fn remove_enrolment(
        &self,
        course_id: &str,
        user_id: &str,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM enrolments WHERE course_id = $1 AND user_id = $2")
            .bind(course_id)
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}
