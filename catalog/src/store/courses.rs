//! Courses and enrolments, and how a person stands to a course ([`CourseAccess`]): the one
//! place that turns institute roles and enrolments into rights. Nobody crosses institutes;
//! an institute's admins manage all its courses; instructors manage their courses and their
//! enrolments; teaching assistants manage their courses' lectures; students watch.

use lectern_wire::admin::{CoursePatch, Enrolment, NewCourse};
use lectern_wire::api::{Course, CourseRole, Role};

use super::people::User;
use super::{new_id, Page, Store, StoreError};

/// How the caller stands to one course. Callers with no standing never get one of these:
/// for them the course does not exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CourseAccess {
    Student,
    TeachingAssistant,
    Instructor,
    /// An admin of the course's institute (enrolled or not).
    Admin,
}

impl CourseAccess {
    /// From the caller's institute role and their enrolment in the course, if any.
    fn of(user: &User, enrolment: Option<CourseRole>) -> Option<CourseAccess> {
        if user.role == Role::Admin {
            return Some(CourseAccess::Admin);
        }
        enrolment.map(|role| match role {
            CourseRole::Student => CourseAccess::Student,
            CourseRole::TeachingAssistant => CourseAccess::TeachingAssistant,
            CourseRole::Instructor => CourseAccess::Instructor,
        })
    }

    /// Publish, trim, rename and delete lectures; see every lecture, published or not.
    pub fn manages_lectures(self) -> bool {
        self != CourseAccess::Student
    }

    /// Change the course itself and who is enrolled in it.
    pub fn manages_course(self) -> bool {
        matches!(self, CourseAccess::Instructor | CourseAccess::Admin)
    }
}

/// A course the caller may see, with their standing in it.
#[derive(Debug, Clone)]
pub struct CourseEntry {
    pub course: Course,
    pub institute_id: String,
    pub access: CourseAccess,
}

/// A course row and the caller's enrolment role, as the shared SQL reads them.
pub(super) struct RawCourse {
    pub course: Course,
    pub institute_id: String,
}

/// An enrolment role's column text.
pub(super) fn course_role_str(role: CourseRole) -> &'static str {
    match role {
        CourseRole::Student => "student",
        CourseRole::TeachingAssistant => "teaching_assistant",
        CourseRole::Instructor => "instructor",
    }
}

pub(super) fn parse_course_role(text: &str) -> Result<CourseRole, StoreError> {
    [
        CourseRole::Student,
        CourseRole::TeachingAssistant,
        CourseRole::Instructor,
    ]
    .into_iter()
    .find(|r| course_role_str(*r) == text)
    .ok_or_else(|| StoreError::Corrupt(format!("course role {text:?}")))
}

/// Why a course could not be written.
#[derive(Debug, thiserror::Error)]
pub enum CourseError {
    /// Another course of the institute has this code in this term.
    #[error("the institute already has a course {code} in {term}")]
    Duplicate { code: String, term: String },
    /// The course still has lectures, which would lose their home.
    #[error("the course still has {0} lecture(s): delete them first")]
    HasLectures(i64),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Store {
    /// The courses `user` may see, by code and term: an admin's whole institute, anyone
    /// else's enrolments.
    #[tracing::instrument(skip_all, fields(user = %user.id))]
    pub async fn visible_courses(
        &self,
        user: &User,
        page: Page,
    ) -> Result<Vec<Course>, StoreError> {
        if user.role == Role::Admin {
            on_backend!(self, db => db.institute_courses(&user.institute_id, &user.id, page))
        } else {
            on_backend!(self, db => db.enrolled_courses(&user.institute_id, &user.id, page))
        }
    }

    /// One course and how `user` stands to it; `None` when they have no standing.
    #[tracing::instrument(skip(self, user), fields(user = %user.id))]
    pub async fn course_for(
        &self,
        user: &User,
        course_id: &str,
    ) -> Result<Option<CourseEntry>, StoreError> {
        let Some(raw) = on_backend!(self, db => db.course_with_role(course_id, &user.id))? else {
            return Ok(None);
        };
        if raw.institute_id != user.institute_id {
            return Ok(None);
        }
        Ok(
            CourseAccess::of(user, raw.course.my_role).map(|access| CourseEntry {
                course: raw.course,
                institute_id: raw.institute_id,
                access,
            }),
        )
    }

    /// Adds a course to an institute.
    #[tracing::instrument(skip(self))]
    pub async fn create_course(
        &self,
        institute_id: &str,
        new: &NewCourse,
    ) -> Result<String, CourseError> {
        let id = new_id();
        match on_backend!(self, db => db.insert_course(&id, institute_id, new)) {
            Ok(()) => Ok(id),
            Err(e) if is_unique_violation(&e) => Err(CourseError::Duplicate {
                code: new.code.clone(),
                term: new.term.clone(),
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// Changes the fields `patch` names.
    #[tracing::instrument(skip(self))]
    pub async fn update_course(
        &self,
        course: &Course,
        patch: &CoursePatch,
    ) -> Result<(), CourseError> {
        let code = patch.code.as_deref().unwrap_or(&course.code);
        let term = patch.term.as_deref().unwrap_or(&course.term);
        let title = patch.title.as_deref().unwrap_or(&course.title);
        let auto_publish = patch.auto_publish.unwrap_or(course.auto_publish);
        match on_backend!(self, db => db.update_course(&course.id, code, title, term, auto_publish))
        {
            Ok(()) => Ok(()),
            Err(e) if is_unique_violation(&e) => Err(CourseError::Duplicate {
                code: code.to_owned(),
                term: term.to_owned(),
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes a course without lectures (its enrolments and schedules go with it).
    #[tracing::instrument(skip(self))]
    pub async fn delete_course(&self, course_id: &str) -> Result<(), CourseError> {
        let lectures = on_backend!(self, db => db.count_course_lectures(course_id))?;
        if lectures > 0 {
            return Err(CourseError::HasLectures(lectures));
        }
        on_backend!(self, db => db.delete_course(course_id))?;
        Ok(())
    }

    /// Who is enrolled in a course, by role and name.
    pub async fn enrolments(
        &self,
        course_id: &str,
        page: Page,
    ) -> Result<Vec<Enrolment>, StoreError> {
        on_backend!(self, db => db.enrolments(course_id, page))
    }

    /// A course of an institute by its code and term.
    pub async fn course_by_code(
        &self,
        institute_id: &str,
        code: &str,
        term: &str,
    ) -> Result<Option<Course>, StoreError> {
        on_backend!(self, db => db.course_by_code(institute_id, code, term))
    }

    /// Someone's role in a course, if enrolled.
    pub async fn enrolment_role(
        &self,
        course_id: &str,
        user_id: &str,
    ) -> Result<Option<CourseRole>, StoreError> {
        on_backend!(self, db => db.enrolment_role(course_id, user_id))
    }

    /// The id and institute of the user with this email, regardless of case.
    pub async fn user_by_email(&self, email: &str) -> Result<Option<(String, String)>, StoreError> {
        on_backend!(self, db => db.user_by_email(email))
    }

    /// The institute of a user, if the user exists.
    pub async fn user_institute(&self, user_id: &str) -> Result<Option<String>, StoreError> {
        on_backend!(self, db => db.user_institute(user_id))
    }

    /// Enrols `user_id` as `role`, or changes their role.
    #[tracing::instrument(skip(self))]
    pub async fn set_enrolment(
        &self,
        course_id: &str,
        user_id: &str,
        role: CourseRole,
    ) -> Result<(), StoreError> {
        on_backend!(self, db => db.set_enrolment(course_id, user_id, role))
    }

    /// Ends an enrolment; false when there was none. New playback tokens stop at once.
    #[tracing::instrument(skip(self))]
    pub async fn remove_enrolment(
        &self,
        course_id: &str,
        user_id: &str,
    ) -> Result<bool, StoreError> {
        on_backend!(self, db => db.remove_enrolment(course_id, user_id))
    }
}

/// True when the database refused a row for a unique constraint.
pub(super) fn is_unique_violation(e: &StoreError) -> bool {
    matches!(e, StoreError::Database(sqlx::Error::Database(d)) if d.is_unique_violation())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn course_roles_round_trip_through_their_column_text() {
        for role in [
            CourseRole::Student,
            CourseRole::TeachingAssistant,
            CourseRole::Instructor,
        ] {
            assert_eq!(parse_course_role(course_role_str(role)).unwrap(), role);
        }
        assert!(parse_course_role("auditor").is_err());
    }

    #[test]
    fn only_staff_manage_lectures_and_only_instructors_and_admins_the_course() {
        use CourseAccess::*;
        assert!(!Student.manages_lectures());
        assert!(TeachingAssistant.manages_lectures() && !TeachingAssistant.manages_course());
        assert!(Instructor.manages_course() && Admin.manages_course());
    }
}
