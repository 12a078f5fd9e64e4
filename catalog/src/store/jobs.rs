//! Jobs for transcode workers, kept in the database (design decision 6).
//!
//! A job is queued once per (kind, lecture, dedupe key): queueing the same work again finds
//! it. A worker claims the oldest runnable job, one that is queued or whose holder's lease
//! ran out, and holds it under a lease ([`JobPolicy::lease_seconds`]) that each heartbeat
//! moves on. Claims cannot hand a job out twice: on PostgreSQL the claiming `UPDATE` picks its
//! row `FOR UPDATE SKIP LOCKED`, on SQLite the one writer does it.
//!
//! Only the holder acts on a job: another worker's heartbeat, completion or failure is
//! refused ([`JobError::LeaseLost`]). A holder whose lease ran out keeps the job until someone
//! else claims it. Completion records the job's segment index and marks it done in one
//! transaction; a new media version replaces the lecture's renditions and segments there, so
//! viewers switch from the old copy to the new one at once (design decision 2). A failed
//! attempt puts the job back in the queue until [`JobPolicy::max_attempts`] attempts have
//! been made; a worker that goes silent counts as a failed attempt. A failure the worker marks
//! final (`retry: false`: the input is at fault, so every attempt would fail alike) is the
//! last at once. The last failure of the lecture's processing job fails the lecture with the
//! job's error.
//!
//! Every job must be idempotent: a job whose worker died runs again from the start.

use chrono::{DateTime, Duration, Utc};
use lectern_wire::jobs::{CompleteJob, JobKind, JobState, LectureJob};
use serde::Deserialize;

use super::{new_id, Store, StoreError};

/// `[jobs]`: how long a claim lasts without a heartbeat and how often a job is tried.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobPolicy {
    /// Seconds a worker holds a job after its claim or last heartbeat (default 60). A
    /// crashed worker's job waits this long before another worker takes it.
    #[serde(default = "default_lease_seconds")]
    pub lease_seconds: u32,
    /// Attempts before a job fails for good (default 3).
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
}

fn default_lease_seconds() -> u32 {
    60
}

fn default_max_attempts() -> u32 {
    3
}

impl Default for JobPolicy {
    fn default() -> Self {
        JobPolicy {
            lease_seconds: default_lease_seconds(),
            max_attempts: default_max_attempts(),
        }
    }
}

/// The longest lease accepted: an hour without a word is a dead worker.
const MAX_LEASE_SECONDS: u32 = 3600;
/// The most attempts accepted.
const MAX_ATTEMPTS: u32 = 100;

impl JobPolicy {
    /// Checks the ranges; the error names the key and says what it must be.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if !(1..=MAX_LEASE_SECONDS).contains(&self.lease_seconds) {
            return Err((
                "jobs.lease_seconds",
                format!(
                    "must be 1 to {MAX_LEASE_SECONDS} (an hour), not {}",
                    self.lease_seconds
                ),
            ));
        }
        if !(1..=MAX_ATTEMPTS).contains(&self.max_attempts) {
            return Err((
                "jobs.max_attempts",
                format!("must be 1 to {MAX_ATTEMPTS}, not {}", self.max_attempts),
            ));
        }
        Ok(())
    }

    /// How long a claim or heartbeat holds a job.
    pub fn lease(&self) -> Duration {
        Duration::seconds(i64::from(self.lease_seconds))
    }
}

/// Work to queue.
#[derive(Debug, Clone)]
pub struct NewJob<'a> {
    pub kind: JobKind,
    pub lecture_id: &'a str,
    /// The job's input, handed to the worker as it is.
    pub payload: &'a serde_json::Value,
    /// Names the input: the same kind, lecture and key is the same job, queued once. Work
    /// that must run again on new input (a new upload) gets a new key.
    pub dedupe_key: &'a str,
}

/// A job as a worker claimed it.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedJob {
    pub id: String,
    pub kind: JobKind,
    pub lecture_id: String,
    pub payload: serde_json::Value,
    /// 1 on the first claim.
    pub attempt: u32,
    pub lease_expires_at: DateTime<Utc>,
}

/// Why a worker's heartbeat, completion or failure of a job was refused.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// No job has this id.
    #[error("no such job")]
    NotFound,
    /// Another worker holds the job (its lease ran out and it was claimed again, or it was
    /// never this worker's): this worker must stop working on it.
    #[error("the job is held by another worker (this worker's lease ran out or it never held it): stop working on it")]
    LeaseLost,
    /// This worker held the job last but it is no longer running.
    #[error("the job is {}, not running", .0.as_str())]
    NotRunning(JobState),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a failed attempt did to its job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOutcome {
    /// Queued for another attempt.
    Retried,
    /// That was the last attempt: the job failed (and its lecture, if the lecture waited
    /// for it).
    Failed,
}

/// A job that ended (done or failed) whose storage was not swept yet: the media versions of
/// its attempts that did not complete it may still be there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndedJob {
    pub id: String,
    pub lecture_id: String,
    pub state: JobState,
    /// How many times it was claimed.
    pub attempts: u32,
}

impl EndedJob {
    /// The attempts whose media versions are dead: every attempt of a failed job; every
    /// attempt of a done job but its last (only the holder of the latest claim completes).
    pub fn dead_attempts(&self) -> std::ops::RangeInclusive<u32> {
        let last_dead = match self.state {
            JobState::Done => self.attempts.saturating_sub(1),
            _ => self.attempts,
        };
        1..=last_dead
    }
}

/// Whether the lecture waits for jobs of this kind: their completion makes it `ready`, their
/// last failure makes a `processing` lecture `failed`.
pub(super) fn settles_lecture(kind: JobKind) -> bool {
    match kind {
        JobKind::Transcode | JobKind::TranscodeUpload => true,
    }
}

pub(super) fn parse_kind(text: &str) -> Result<JobKind, StoreError> {
    JobKind::ALL
        .into_iter()
        .find(|k| k.as_str() == text)
        .ok_or_else(|| StoreError::Corrupt(format!("job kind {text:?}")))
}

pub(super) fn parse_state(text: &str) -> Result<JobState, StoreError> {
    JobState::ALL
        .into_iter()
        .find(|s| s.as_str() == text)
        .ok_or_else(|| StoreError::Corrupt(format!("job state {text:?}")))
}

/// The error a lecture gets when its job's worker went silent on the last attempt.
fn silent_worker_error(policy: &JobPolicy) -> String {
    format!(
        "Processing stopped: the worker handling it stopped responding ({} attempts).",
        policy.max_attempts
    )
}

impl Store {
    /// Queues a job unless the same one (kind, lecture, dedupe key) is already there, in
    /// whatever state. Returns its id and whether it is new; `None` when the lecture does
    /// not exist.
    #[tracing::instrument(skip(self, job), fields(kind = job.kind.as_str(), lecture = job.lecture_id))]
    pub async fn enqueue_job(
        &self,
        job: &NewJob<'_>,
        now: DateTime<Utc>,
    ) -> Result<Option<(String, bool)>, StoreError> {
        if self.lecture(job.lecture_id).await?.is_none() {
            return Ok(None);
        }
        let id = new_id();
        let found = on_backend!(self, db => db.insert_job(&id, job, now))?;
        Ok(Some(found))
    }

    /// Hands `worker_id` the oldest runnable job under a new lease, or `None`. Jobs whose
    /// silent worker used their last attempt fail first.
    #[tracing::instrument(skip(self, policy))]
    pub async fn claim_job(
        &self,
        worker_id: &str,
        policy: &JobPolicy,
        now: DateTime<Utc>,
    ) -> Result<Option<ClaimedJob>, StoreError> {
        let max_attempts = i64::from(policy.max_attempts);
        let error = silent_worker_error(policy);
        let gave_up = on_backend!(self, db => db.fail_abandoned_jobs(max_attempts, &error, now))?;
        if !gave_up.is_empty() {
            tracing::warn!(
                jobs = gave_up.len(),
                "jobs failed: their workers went silent on the last attempt"
            );
        }
        for lecture_id in &gave_up {
            self.media_changed(lecture_id).await;
        }
        if !gave_up.is_empty() {
            self.jobs_ended.notify_one();
        }
        let lease_until = now + policy.lease();
        on_backend!(self, db => db.claim_job(worker_id, lease_until, max_attempts, now))
    }

    /// The holder still works on the job and is `progress` (0 to 1) of the way: its lease
    /// runs `lease` from `now`. Returns the new end of the lease.
    #[tracing::instrument(skip(self, policy))]
    pub async fn heartbeat_job(
        &self,
        worker_id: &str,
        job_id: &str,
        progress: f64,
        policy: &JobPolicy,
        now: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, JobError> {
        let lease_until = now + policy.lease();
        if on_backend!(self, db => db.heartbeat_job(worker_id, job_id, progress, lease_until, now))?
        {
            return Ok(lease_until);
        }
        Err(self.refusal(worker_id, job_id).await)
    }

    /// The holder finished: records the job's segment index (switching the lecture to the
    /// job's media version, if it is a new one) and marks the job done, in one transaction.
    /// The same holder completing a done job again changes nothing (its first answer may
    /// have been lost).
    #[tracing::instrument(skip(self, index), fields(segments = index.segments.len()))]
    pub async fn complete_job(
        &self,
        worker_id: &str,
        job_id: &str,
        index: &CompleteJob,
        now: DateTime<Utc>,
    ) -> Result<(), JobError> {
        if let Some(lecture_id) =
            on_backend!(self, db => db.complete_job(worker_id, job_id, index, now))?
        {
            self.media_changed(&lecture_id).await;
            self.jobs_ended.notify_one();
            return Ok(());
        }
        match self.refusal(worker_id, job_id).await {
            JobError::NotRunning(JobState::Done) => Ok(()),
            refused => Err(refused),
        }
    }

    /// The holder's attempt failed with `error` (for a person): the job goes back to the
    /// queue, or fails for good after the last attempt, or at once when `retry` is false (the
    /// worker found the input at fault: no attempt can succeed), failing a `processing`
    /// lecture that waited for it with the same error.
    #[tracing::instrument(skip(self, policy))]
    pub async fn fail_job(
        &self,
        worker_id: &str,
        job_id: &str,
        error: &str,
        retry: bool,
        policy: &JobPolicy,
        now: DateTime<Utc>,
    ) -> Result<FailOutcome, JobError> {
        // Without a retry, this attempt is the last, whatever number it is.
        let max_attempts = if retry {
            i64::from(policy.max_attempts)
        } else {
            0
        };
        match on_backend!(self, db => db.fail_job(worker_id, job_id, error, max_attempts, now))? {
            Some((JobState::Failed, lecture_id)) => {
                self.media_changed(&lecture_id).await;
                self.jobs_ended.notify_one();
                Ok(FailOutcome::Failed)
            }
            Some(_) => Ok(FailOutcome::Retried),
            None => Err(self.refusal(worker_id, job_id).await),
        }
    }

    /// Why `worker_id` may not act on the job (after its guarded update matched nothing).
    async fn refusal(&self, worker_id: &str, job_id: &str) -> JobError {
        match on_backend!(self, db => db.job_holder(job_id)) {
            Err(e) => JobError::Store(e),
            Ok(None) => JobError::NotFound,
            Ok(Some((_, holder))) if holder.as_deref() != Some(worker_id) => JobError::LeaseLost,
            Ok(Some((state, _))) => JobError::NotRunning(state),
        }
    }

    /// A lecture's jobs, oldest first.
    pub async fn lecture_jobs(&self, lecture_id: &str) -> Result<Vec<LectureJob>, StoreError> {
        on_backend!(self, db => db.lecture_jobs(lecture_id))
    }

    /// Ended jobs whose dead attempts' media may still be in storage, longest ended first.
    pub async fn unswept_jobs(&self, limit: u32) -> Result<Vec<EndedJob>, StoreError> {
        on_backend!(self, db => db.unswept_jobs(i64::from(limit)))
    }

    /// The media of the job's dead attempts is gone from storage.
    pub async fn mark_job_swept(&self, job_id: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        on_backend!(self, db => db.mark_job_swept(job_id, now))
    }

    /// Resolves after a job ended (done or failed) here since the last call; a job ended
    /// before anyone waits is remembered (once).
    pub async fn job_ended(&self) {
        self.jobs_ended.notified().await;
    }

    /// How many jobs are in each state (states without jobs are left out).
    pub async fn job_counts(&self) -> Result<Vec<(JobState, u64)>, StoreError> {
        let rows = on_backend!(self, db => db.job_counts())?;
        rows.into_iter()
            .map(|(state, n)| Ok((parse_state(&state)?, u64::try_from(n).unwrap_or(0))))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_policy_is_valid_and_ranges_name_their_key() {
        assert_eq!(JobPolicy::default().validate(), Ok(()));
        assert_eq!(JobPolicy::default().lease(), Duration::seconds(60));
        let (key, message) = JobPolicy {
            lease_seconds: 0,
            ..JobPolicy::default()
        }
        .validate()
        .unwrap_err();
        assert_eq!(key, "jobs.lease_seconds");
        assert!(message.contains("not 0"), "{message}");
        let (key, _) = JobPolicy {
            max_attempts: 101,
            ..JobPolicy::default()
        }
        .validate()
        .unwrap_err();
        assert_eq!(key, "jobs.max_attempts");
    }

    #[test]
    fn a_done_job_keeps_its_last_attempt_and_a_failed_one_none() {
        let job = |state, attempts| EndedJob {
            id: "j".into(),
            lecture_id: "l".into(),
            state,
            attempts,
        };
        let dead = |job: EndedJob| job.dead_attempts().collect::<Vec<_>>();
        assert_eq!(dead(job(JobState::Done, 1)), Vec::<u32>::new());
        assert_eq!(dead(job(JobState::Done, 3)), [1, 2]);
        assert_eq!(dead(job(JobState::Failed, 2)), [1, 2]);
        assert_eq!(dead(job(JobState::Failed, 0)), Vec::<u32>::new());
    }

    #[test]
    fn kinds_and_states_parse_back_from_their_column_text() {
        for kind in JobKind::ALL {
            assert_eq!(parse_kind(kind.as_str()).unwrap(), kind);
        }
        for state in JobState::ALL {
            assert_eq!(parse_state(state.as_str()).unwrap(), state);
        }
        assert!(parse_kind("thumbnail").is_err());
        assert!(parse_state("lost").is_err());
    }
}
