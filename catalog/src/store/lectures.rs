//! Capture boxes (agents), transcode workers, lectures, renditions and segments.

use chrono::{DateTime, Duration, Utc};
use lectern_packager::playlist::SegmentEntry;
use lectern_wire::api::LectureState;
use lectern_wire::worker::{RenditionReport, SegmentReport};

use super::people::{role_str, User, COURSE_VISIBLE};
use super::{new_id, parse_opt_ts, parse_ts, ts, Store, StoreError};

/// A worker counts as available for live sessions this long after it last registered.
pub const WORKER_FRESH_FOR: Duration = Duration::seconds(60);

/// A lecture as stored.
#[derive(Debug, Clone)]
pub struct LectureRow {
    pub id: String,
    pub course_id: String,
    pub room_id: Option<String>,
    pub title: String,
    pub state: LectureState,
    pub main_track: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub error: Option<String>,
    pub media_version: String,
}

#[derive(sqlx::FromRow)]
struct RawLecture {
    id: String,
    course_id: String,
    room_id: Option<String>,
    title: String,
    state: String,
    main_track: Option<String>,
    started_at: Option<String>,
    ended_at: Option<String>,
    error: Option<String>,
    media_version: String,
}

impl TryFrom<RawLecture> for LectureRow {
    type Error = StoreError;
    fn try_from(r: RawLecture) -> Result<LectureRow, StoreError> {
        Ok(LectureRow {
            state: parse_state(&r.state)?,
            started_at: parse_opt_ts(r.started_at)?,
            ended_at: parse_opt_ts(r.ended_at)?,
            id: r.id,
            course_id: r.course_id,
            room_id: r.room_id,
            title: r.title,
            main_track: r.main_track,
            error: r.error,
            media_version: r.media_version,
        })
    }
}

const LECTURE_COLUMNS: &str = "l.id, l.course_id, l.room_id, l.title, l.state, l.main_track, \
     l.started_at, l.ended_at, l.error, l.media_version";

fn state_str(state: LectureState) -> &'static str {
    match state {
        LectureState::Scheduled => "scheduled",
        LectureState::Capturing => "capturing",
        LectureState::Processing => "processing",
        LectureState::Ready => "ready",
        LectureState::Failed => "failed",
    }
}

fn parse_state(text: &str) -> Result<LectureState, StoreError> {
    [
        LectureState::Scheduled,
        LectureState::Capturing,
        LectureState::Processing,
        LectureState::Ready,
        LectureState::Failed,
    ]
    .into_iter()
    .find(|s| state_str(*s) == text)
    .ok_or_else(|| StoreError::Corrupt(format!("lecture state {text:?}")))
}

/// What a lecture has to play: the renditions that hold at least one segment, and the
/// rendition that measures it (the main track's highest rung).
#[derive(Debug, Clone, Default)]
pub struct LectureMedia {
    /// Playable renditions, in the order they were first reported.
    pub renditions: Vec<RenditionReport>,
    /// The main track: the lecture's first track when it has media, else the first reported.
    pub main_track: Option<String>,
    /// Summed segment durations of the main track's highest rung.
    pub duration_seconds: f64,
}

impl LectureMedia {
    /// True once at least one rendition has a segment.
    pub fn playable(&self) -> bool {
        !self.renditions.is_empty()
    }

    /// The playable renditions of the main track.
    pub fn main_renditions(&self) -> Vec<RenditionReport> {
        self.renditions
            .iter()
            .filter(|r| Some(&r.track) == self.main_track.as_ref())
            .cloned()
            .collect()
    }
}

#[derive(sqlx::FromRow)]
struct RawRendition {
    track: String,
    rung: String,
    width: i64,
    height: i64,
    bandwidth: i64,
    codecs: String,
    frame_rate: f64,
}

impl From<RawRendition> for RenditionReport {
    fn from(r: RawRendition) -> RenditionReport {
        RenditionReport {
            track: r.track,
            rung: r.rung,
            width: r.width.try_into().unwrap_or(0),
            height: r.height.try_into().unwrap_or(0),
            bandwidth: r.bandwidth.try_into().unwrap_or(0),
            codecs: r.codecs,
            frame_rate: r.frame_rate,
        }
    }
}

/// An authenticated capture box.
#[derive(Debug, Clone)]
pub struct Agent {
    pub id: String,
    pub room_id: String,
}

/// An authenticated transcode worker.
#[derive(Debug, Clone)]
pub struct Worker {
    pub id: String,
}

/// A live target picked for a new recording.
#[derive(Debug, Clone)]
pub struct LiveWorker {
    pub worker_id: String,
    pub srt_url: String,
}

/// Why a recording could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The agent's room has no course to record into.
    #[error("the room has no default course to record into")]
    NoCourse,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for StartError {
    fn from(e: sqlx::Error) -> Self {
        StartError::Store(e.into())
    }
}

impl Store {
    /// The capture box with this token hash.
    pub async fn agent_by_token_hash(&self, token_hash: &str) -> Result<Option<Agent>, StoreError> {
        let row: Option<(String, String)> =
            sqlx::query_as("SELECT id, room_id FROM agents WHERE token_hash = ?1")
                .bind(token_hash)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(id, room_id)| Agent { id, room_id }))
    }

    /// The worker with this token hash.
    pub async fn worker_by_token_hash(
        &self,
        token_hash: &str,
    ) -> Result<Option<Worker>, StoreError> {
        let row: Option<(String,)> = sqlx::query_as("SELECT id FROM workers WHERE token_hash = ?1")
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|(id,)| Worker { id }))
    }

    /// Records that `worker` is up and takes live sessions at `srt_url` (also the heartbeat).
    #[tracing::instrument(skip(self))]
    pub async fn register_worker(
        &self,
        worker_id: &str,
        srt_url: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE workers SET srt_url = ?2, last_seen = ?3 WHERE id = ?1")
            .bind(worker_id)
            .bind(srt_url)
            .bind(ts(now))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The worker seen most recently, if within [`WORKER_FRESH_FOR`].
    pub async fn live_worker(&self, now: DateTime<Utc>) -> Result<Option<LiveWorker>, StoreError> {
        let row: Option<(String, String)> = sqlx::query_as(
            "SELECT id, srt_url FROM workers WHERE srt_url IS NOT NULL AND last_seen >= ?1 \
             ORDER BY last_seen DESC LIMIT 1",
        )
        .bind(ts(now - WORKER_FRESH_FOR))
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(worker_id, srt_url)| LiveWorker { worker_id, srt_url }))
    }

    /// Creates a `capturing` lecture in the room's default course. `title` defaults to
    /// "<code> lecture, <date time>" (UTC).
    #[tracing::instrument(skip(self))]
    pub async fn start_lecture(
        &self,
        agent: &Agent,
        title: Option<&str>,
        main_track: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<String, StartError> {
        let course: Option<(String, String)> = sqlx::query_as(
            "SELECT c.id, c.code FROM rooms r JOIN courses c ON c.id = r.default_course_id WHERE r.id = ?1",
        )
        .bind(&agent.room_id)
        .fetch_optional(&self.pool)
        .await?;
        let (course_id, code) = course.ok_or(StartError::NoCourse)?;
        let title = match title.map(str::trim) {
            Some(t) if !t.is_empty() => t.to_owned(),
            _ => format!("{code} lecture, {}", now.format("%-d %b %Y %H:%M")),
        };
        let id = new_id();
        sqlx::query(
            "INSERT INTO lectures (id, course_id, room_id, title, state, main_track, created_at, started_at) \
             VALUES (?1, ?2, ?3, ?4, 'capturing', ?5, ?6, ?6)",
        )
        .bind(&id)
        .bind(&course_id)
        .bind(&agent.room_id)
        .bind(&title)
        .bind(main_track)
        .bind(ts(now))
        .execute(&self.pool)
        .await?;
        Ok(id)
    }

    /// The box stopped recording: `capturing` → `processing`. False when the lecture is not
    /// one of this box's room. A lecture past capturing is left as it is.
    #[tracing::instrument(skip(self))]
    pub async fn stop_lecture(
        &self,
        agent: &Agent,
        lecture_id: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let found: Option<(String,)> =
            sqlx::query_as("SELECT id FROM lectures WHERE id = ?1 AND room_id = ?2")
                .bind(lecture_id)
                .bind(&agent.room_id)
                .fetch_optional(&self.pool)
                .await?;
        if found.is_none() {
            return Ok(false);
        }
        sqlx::query(
            "UPDATE lectures SET state = 'processing', ended_at = COALESCE(ended_at, ?2) \
             WHERE id = ?1 AND state IN ('scheduled', 'capturing')",
        )
        .bind(lecture_id)
        .bind(ts(now))
        .execute(&self.pool)
        .await?;
        Ok(true)
    }

    /// The worker closed the lecture: `ready`, or `failed` with `error`. False when the
    /// lecture does not exist.
    #[tracing::instrument(skip(self))]
    pub async fn finish_lecture(
        &self,
        lecture_id: &str,
        error: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let state = if error.is_some() {
            LectureState::Failed
        } else {
            LectureState::Ready
        };
        let done = sqlx::query(
            "UPDATE lectures SET state = ?2, error = ?3, ended_at = COALESCE(ended_at, ?4) WHERE id = ?1",
        )
        .bind(lecture_id)
        .bind(state_str(state))
        .bind(error)
        .bind(ts(now))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// A lecture by id, whoever asks (media and worker paths; their tokens decide access).
    pub async fn lecture(&self, lecture_id: &str) -> Result<Option<LectureRow>, StoreError> {
        let row: Option<RawLecture> = sqlx::query_as(&format!(
            "SELECT {LECTURE_COLUMNS} FROM lectures l WHERE l.id = ?1"
        ))
        .bind(lecture_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(LectureRow::try_from).transpose()
    }

    /// A lecture, if `user` may see its course.
    #[tracing::instrument(skip(self, user), fields(user = %user.id))]
    pub async fn visible_lecture(
        &self,
        user: &User,
        lecture_id: &str,
    ) -> Result<Option<LectureRow>, StoreError> {
        let row: Option<RawLecture> = sqlx::query_as(&format!(
            "SELECT {LECTURE_COLUMNS} FROM lectures l JOIN courses c ON c.id = l.course_id \
             WHERE {COURSE_VISIBLE} AND l.id = ?4"
        ))
        .bind(&user.institute_id)
        .bind(role_str(user.role))
        .bind(&user.id)
        .bind(lecture_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(LectureRow::try_from).transpose()
    }

    /// The lectures of a course, newest first. The caller has checked the course is visible.
    pub async fn course_lectures(&self, course_id: &str) -> Result<Vec<LectureRow>, StoreError> {
        let rows: Vec<RawLecture> = sqlx::query_as(&format!(
            "SELECT {LECTURE_COLUMNS} FROM lectures l WHERE l.course_id = ?1 \
             ORDER BY COALESCE(l.started_at, l.created_at) DESC, l.id"
        ))
        .bind(course_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(LectureRow::try_from).collect()
    }

    /// What `lecture` has to play and how long its main track is.
    pub async fn lecture_media(&self, lecture: &LectureRow) -> Result<LectureMedia, StoreError> {
        let rows: Vec<RawRendition> = sqlx::query_as(
            "SELECT r.track, r.rung, r.width, r.height, r.bandwidth, r.codecs, r.frame_rate \
             FROM renditions r WHERE r.lecture_id = ?1 AND EXISTS (SELECT 1 FROM segments s \
             WHERE s.lecture_id = r.lecture_id AND s.track = r.track AND s.rung = r.rung) \
             ORDER BY r.rowid",
        )
        .bind(&lecture.id)
        .fetch_all(&self.pool)
        .await?;
        let renditions: Vec<RenditionReport> = rows.into_iter().map(Into::into).collect();
        let main_track = lecture
            .main_track
            .clone()
            .filter(|t| renditions.iter().any(|r| &r.track == t))
            .or_else(|| renditions.first().map(|r| r.track.clone()));
        let top = renditions
            .iter()
            .filter(|r| Some(&r.track) == main_track.as_ref())
            .max_by_key(|r| (r.height, r.bandwidth));
        let duration_seconds = match top {
            Some(r) => {
                let (sum,): (f64,) = sqlx::query_as(
                    "SELECT COALESCE(SUM(duration), 0.0) FROM segments \
                     WHERE lecture_id = ?1 AND track = ?2 AND rung = ?3",
                )
                .bind(&lecture.id)
                .bind(&r.track)
                .bind(&r.rung)
                .fetch_one(&self.pool)
                .await?;
                sum
            }
            None => 0.0,
        };
        Ok(LectureMedia {
            renditions,
            main_track,
            duration_seconds,
        })
    }

    /// Adds or updates a rendition (by track and rung). False when the lecture is unknown.
    #[tracing::instrument(skip(self))]
    pub async fn upsert_rendition(
        &self,
        lecture_id: &str,
        r: &RenditionReport,
    ) -> Result<bool, StoreError> {
        if self.lecture(lecture_id).await?.is_none() {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO renditions (lecture_id, track, rung, width, height, bandwidth, codecs, frame_rate) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (lecture_id, track, rung) DO UPDATE SET \
             width = excluded.width, height = excluded.height, bandwidth = excluded.bandwidth, \
             codecs = excluded.codecs, frame_rate = excluded.frame_rate",
        )
        .bind(lecture_id)
        .bind(&r.track)
        .bind(&r.rung)
        .bind(i64::from(r.width))
        .bind(i64::from(r.height))
        .bind(i64::try_from(r.bandwidth).unwrap_or(i64::MAX))
        .bind(&r.codecs)
        .bind(r.frame_rate)
        .execute(&self.pool)
        .await?;
        Ok(true)
    }

    /// Records a stored segment; a repeated report changes nothing. False when the lecture
    /// is unknown.
    #[tracing::instrument(skip(self))]
    pub async fn add_segment(
        &self,
        lecture_id: &str,
        s: &SegmentReport,
    ) -> Result<bool, StoreError> {
        if self.lecture(lecture_id).await?.is_none() {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO segments (lecture_id, track, rung, sequence, duration, program_date_time, discontinuity, bytes) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT DO NOTHING",
        )
        .bind(lecture_id)
        .bind(&s.track)
        .bind(&s.rung)
        .bind(i64::try_from(s.sequence).unwrap_or(i64::MAX))
        .bind(s.duration)
        .bind(ts(s.program_date_time))
        .bind(s.discontinuity)
        .bind(i64::try_from(s.bytes).unwrap_or(i64::MAX))
        .execute(&self.pool)
        .await?;
        Ok(true)
    }

    /// The segments of one rendition in sequence order (empty when it has none).
    pub async fn segments(
        &self,
        lecture_id: &str,
        track: &str,
        rung: &str,
    ) -> Result<Vec<SegmentEntry>, StoreError> {
        let rows: Vec<(i64, f64, String, bool)> = sqlx::query_as(
            "SELECT sequence, duration, program_date_time, discontinuity FROM segments \
             WHERE lecture_id = ?1 AND track = ?2 AND rung = ?3 ORDER BY sequence",
        )
        .bind(lecture_id)
        .bind(track)
        .bind(rung)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(sequence, duration, pdt, discontinuity)| {
                Ok(SegmentEntry {
                    sequence: u64::try_from(sequence)
                        .map_err(|_| StoreError::Corrupt("negative sequence".into()))?,
                    duration,
                    program_date_time: parse_ts(&pdt)?,
                    discontinuity,
                })
            })
            .collect()
    }

    /// True when this segment was reported.
    pub async fn segment_exists(
        &self,
        lecture_id: &str,
        track: &str,
        rung: &str,
        sequence: u64,
    ) -> Result<bool, StoreError> {
        let Ok(sequence) = i64::try_from(sequence) else {
            return Ok(false);
        };
        let row: Option<(i64,)> = sqlx::query_as(
            "SELECT 1 FROM segments WHERE lecture_id = ?1 AND track = ?2 AND rung = ?3 AND sequence = ?4",
        )
        .bind(lecture_id)
        .bind(track)
        .bind(rung)
        .bind(sequence)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.is_some())
    }
}
