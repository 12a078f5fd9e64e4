//! People's viewing of lectures (table `lecture_progress`) and their opt-out of research
//! (`users.research_opt_out`). What is kept, and for whom, is decided in [`crate::viewing`];
//! here it is stored and read.

use chrono::{DateTime, Utc};

use super::{Store, StoreError};
use crate::viewing::{Report, Timeline};

/// One person's place in one lecture.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    pub position_seconds: f64,
    /// 0 when not recorded (under 13).
    pub views: i64,
    /// `None` when not recorded (under 13).
    pub watched_seconds: Option<f64>,
    pub updated_at: DateTime<Utc>,
}

/// A person's place in one lecture of a course, with the lecture's title.
#[derive(Debug, Clone)]
pub struct LectureProgress {
    pub lecture_id: String,
    pub title: String,
    pub progress: Progress,
}

/// What one student of a lecture's cohort contributes to its aggregates.
#[derive(Debug, Clone)]
pub struct CohortViewing {
    pub views: i64,
    pub watched_seconds: f64,
    pub parts: Timeline,
}

impl Store {
    /// Records a report of the player of `user_id` on `lecture_id`, keeping what
    /// [`crate::viewing::Recording`] allows for the person as they are at that moment.
    #[tracing::instrument(skip(self, report))]
    pub async fn record_progress(
        &self,
        user_id: &str,
        lecture_id: &str,
        report: &Report,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        on_backend!(self, db => db.record_progress(user_id, lecture_id, report, now))
    }

    /// Where `user_id` is in `lecture_id`, if they ever played it.
    pub async fn progress(
        &self,
        user_id: &str,
        lecture_id: &str,
    ) -> Result<Option<Progress>, StoreError> {
        on_backend!(self, db => db.progress(user_id, lecture_id))
    }

    /// Where `user_id` is in each lecture of `course_id` they played, most recent first.
    pub async fn course_progress(
        &self,
        course_id: &str,
        user_id: &str,
    ) -> Result<Vec<LectureProgress>, StoreError> {
        on_backend!(self, db => db.course_progress(course_id, user_id))
    }

    /// The viewing of every student of the lecture's course who played it, but those under
    /// 13 and those who opted out of research: the rows aggregates are made of.
    pub async fn lecture_cohort(&self, lecture_id: &str) -> Result<Vec<CohortViewing>, StoreError> {
        on_backend!(self, db => db.lecture_cohort(lecture_id))
    }

    /// Whether `user_id` opted out of research.
    pub async fn research_opt_out(&self, user_id: &str) -> Result<bool, StoreError> {
        on_backend!(self, db => db.research_opt_out(user_id))
    }

    /// Opts `user_id` out of research (deleting which parts of lectures they played, in the
    /// same transaction), or back in.
    #[tracing::instrument(skip(self))]
    pub async fn set_research_opt_out(
        &self,
        user_id: &str,
        opt_out: bool,
    ) -> Result<(), StoreError> {
        on_backend!(self, db => db.set_research_opt_out(user_id, opt_out))
    }
}
