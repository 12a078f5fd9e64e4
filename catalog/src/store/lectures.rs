//! Capture boxes (agents), transcode workers, lectures, renditions and segments: the
//! domain types both backends return, and the decisions that are not SQL (which lecture a
//! recording becomes and its default title, which worker may report on a lecture, which
//! rendition measures a lecture).

use chrono::{DateTime, Duration, Utc};
use lectern_packager::playlist::SegmentEntry;
use lectern_wire::api::LectureState;
use lectern_wire::worker::{RenditionReport, SegmentReport, ThumbnailReport};
use std::collections::HashMap;

use super::courses::CourseEntry;
use super::database::Database;
use super::people::User;
use super::schedules::EARLY_START;
use super::{new_id, Page, Store, StoreError};

/// A worker counts as available for live sessions this long after it last registered.
pub const WORKER_FRESH_FOR: Duration = Duration::seconds(60);

/// A lecture as stored.
#[derive(Debug, Clone)]
pub struct LectureRow {
    pub id: String,
    pub course_id: String,
    pub room_id: Option<String>,
    pub state: LectureState,
    pub main_track: Option<String>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub error: Option<String>,
    pub media_version: String,
    /// The schedule whose occurrence it was recorded in.
    pub schedule_id: Option<String>,
    /// What people set: title, publishing, availability, plan and trim.
    pub settings: LectureSettings,
}

/// What instructors, teaching assistants and admins set on a lecture.
#[derive(Debug, Clone, PartialEq)]
pub struct LectureSettings {
    pub title: String,
    pub published: bool,
    pub available_from: Option<DateTime<Utc>>,
    pub available_until: Option<DateTime<Utc>>,
    pub planned_start: Option<DateTime<Utc>>,
    pub planned_end: Option<DateTime<Utc>>,
    /// Seconds from the start of the media where playback begins.
    pub trim_in: Option<f64>,
    /// Seconds from the start of the media where playback ends.
    pub trim_out: Option<f64>,
}

impl LectureSettings {
    /// Whether an enrolled student may see the lecture at `now`: published and inside its
    /// availability window.
    pub fn open_to_students(&self, now: DateTime<Utc>) -> bool {
        self.published
            && self.available_from.is_none_or(|from| from <= now)
            && self.available_until.is_none_or(|until| until > now)
    }

    /// The segments viewers get: those that overlap the trim window. Trimming cuts at
    /// segment boundaries (no re-encode), so up to one segment's length shows on either side.
    pub fn trim(&self, segments: Vec<SegmentEntry>) -> Vec<SegmentEntry> {
        if self.trim_in.is_none() && self.trim_out.is_none() {
            return segments;
        }
        let (from, to) = (
            self.trim_in.unwrap_or(0.0),
            self.trim_out.unwrap_or(f64::INFINITY),
        );
        let mut start = 0.0;
        segments
            .into_iter()
            .filter(|s| {
                let (begin, end) = (start, start + s.duration);
                start = end;
                end > from && begin < to
            })
            .collect()
    }

    /// Where the trimmed playlist of `segments` begins and ends on the untrimmed timeline
    /// (the segments [`LectureSettings::trim`] keeps); `(0, 0)` when it keeps none.
    pub fn trim_window(&self, segments: &[SegmentEntry]) -> (f64, f64) {
        let (from, to) = (
            self.trim_in.unwrap_or(0.0),
            self.trim_out.unwrap_or(f64::INFINITY),
        );
        let mut start = 0.0;
        let mut window: Option<(f64, f64)> = None;
        for s in segments {
            let (begin, end) = (start, start + s.duration);
            start = end;
            if end > from && begin < to {
                window = Some((window.map_or(begin, |w| w.0), end));
            }
        }
        window.unwrap_or((0.0, 0.0))
    }

    /// How long the trimmed lecture plays, given the untrimmed length.
    pub fn trimmed_duration(&self, full: f64) -> f64 {
        let end = self.trim_out.map_or(full, |out| out.min(full));
        (end - self.trim_in.unwrap_or(0.0)).max(0.0)
    }
}

/// A lecture to insert.
#[derive(Debug)]
pub(super) struct NewLecture<'a> {
    pub id: &'a str,
    pub course_id: &'a str,
    pub room_id: Option<&'a str>,
    pub title: &'a str,
    pub state: LectureState,
    pub main_track: Option<&'a str>,
    pub now: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub planned_start: Option<DateTime<Utc>>,
    pub planned_end: Option<DateTime<Utc>>,
    /// The schedule whose occurrence it was recorded in.
    pub schedule_id: Option<&'a str>,
}

/// A lecture state's text in the `lectures.state` column.
pub(super) fn state_str(state: LectureState) -> &'static str {
    match state {
        LectureState::Scheduled => "scheduled",
        LectureState::Capturing => "capturing",
        LectureState::Processing => "processing",
        LectureState::Ready => "ready",
        LectureState::Failed => "failed",
    }
}

pub(super) fn parse_state(text: &str) -> Result<LectureState, StoreError> {
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

/// What a lecture has to play: the renditions that hold at least one segment, the
/// rendition that measures it (the main track's highest rung), and its tracks' pictures.
#[derive(Debug, Clone, Default)]
pub struct LectureMedia {
    /// Playable renditions, in the order they were first reported.
    pub renditions: Vec<RenditionReport>,
    /// The main track: the lecture's first track when it has media, else the first reported.
    pub main_track: Option<String>,
    /// Summed segment durations of the main track's highest rung.
    pub duration_seconds: f64,
    /// The pictures of each track that reported any: the main track's first, then by name.
    pub pictures: Vec<ThumbnailReport>,
}

impl LectureMedia {
    /// True once at least one rendition has a segment.
    pub fn playable(&self) -> bool {
        !self.renditions.is_empty()
    }

    /// The track whose pictures of one kind viewers get (`has` says whether a track has
    /// them): the main track's when it has them, else the first other track's.
    pub fn picture_track(&self, has: impl Fn(&ThumbnailReport) -> bool) -> Option<&str> {
        self.pictures
            .iter()
            .find(|p| has(p))
            .map(|p| p.track.as_str())
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

/// A rendition as both backends select it (integers are 64-bit on both).
#[derive(sqlx::FromRow)]
pub(super) struct RawRendition {
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

/// A worker that takes live sessions: where boxes reach it and its ports.
#[derive(Debug, Clone)]
pub struct LiveWorker {
    pub worker_id: String,
    pub srt_host: String,
    /// The first and last port of its SRT range (inclusive).
    pub ports: (u16, u16),
}

/// The listener picked for a new recording: a port of one worker and a fresh passphrase.
#[derive(Clone)]
pub struct LiveAssignment {
    pub worker_id: String,
    pub srt_host: String,
    pub port: u16,
    /// A secret: never logged (`Debug` hides it).
    pub passphrase: String,
}

impl std::fmt::Debug for LiveAssignment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveAssignment")
            .field("worker_id", &self.worker_id)
            .field("srt_host", &self.srt_host)
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

/// A capturing lecture assigned to a worker, as `GET /api/v1/worker/sessions` lists it.
#[derive(Clone)]
pub struct LiveSessionRow {
    pub lecture_id: String,
    pub port: u16,
    /// The tracks the box pushes, in its order.
    pub tracks: Vec<String>,
    /// A secret: never logged (`Debug` hides it).
    pub passphrase: String,
}

impl std::fmt::Debug for LiveSessionRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveSessionRow")
            .field("lecture_id", &self.lecture_id)
            .field("port", &self.port)
            .field("tracks", &self.tracks)
            .finish_non_exhaustive()
    }
}

/// A new SRT passphrase: 32 hex digits (128 random bits; SRT takes 10 to 79 characters).
fn new_passphrase() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// The lowest port of `range` not in `used`.
fn free_port(range: (u16, u16), used: &[i64]) -> Option<u16> {
    (range.0..=range.1).find(|p| !used.contains(&i64::from(*p)))
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

/// A lecture's media from its playable renditions (in the order first reported) and their
/// durations: the main track is the lecture's first track when it has media, else the first
/// reported; its highest rung measures the lecture.
fn media_of(
    lecture: &LectureRow,
    renditions: Vec<(RenditionReport, f64)>,
    mut pictures: Vec<ThumbnailReport>,
) -> LectureMedia {
    let main_track = lecture
        .main_track
        .clone()
        .filter(|t| renditions.iter().any(|(r, _)| &r.track == t))
        .or_else(|| renditions.first().map(|(r, _)| r.track.clone()));
    let duration_seconds = renditions
        .iter()
        .filter(|(r, _)| Some(&r.track) == main_track.as_ref())
        .max_by_key(|(r, _)| (r.height, r.bandwidth))
        .map_or(0.0, |(_, duration)| *duration);
    // Stable: the other tracks stay in the order they came (by name).
    pictures.sort_by_key(|p| Some(&p.track) != main_track.as_ref());
    LectureMedia {
        renditions: renditions.into_iter().map(|(r, _)| r).collect(),
        main_track,
        duration_seconds,
        pictures,
    }
}

impl Store {
    /// The capture box with this token hash.
    pub async fn agent_by_token_hash(&self, token_hash: &str) -> Result<Option<Agent>, StoreError> {
        on_backend!(self, db => db.agent_by_token_hash(token_hash))
    }

    /// The worker with this token hash.
    pub async fn worker_by_token_hash(
        &self,
        token_hash: &str,
    ) -> Result<Option<Worker>, StoreError> {
        on_backend!(self, db => db.worker_by_token_hash(token_hash))
    }

    /// Records that `worker` is up and takes live sessions at `srt_host` on the ports
    /// `ports.0..=ports.1` (also the heartbeat).
    #[tracing::instrument(skip(self))]
    pub async fn register_worker(
        &self,
        worker_id: &str,
        srt_host: &str,
        ports: (u16, u16),
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        on_backend!(self, db => db.register_worker(worker_id, srt_host, ports, now))
    }

    /// Picks a listener for the capturing lecture `lecture_id`: of the workers seen within
    /// [`WORKER_FRESH_FOR`], the one with the fewest capturing lectures that has a free port
    /// (the most recently seen on a tie), its lowest free port, and a new passphrase; stores
    /// them with the lecture. `None` when no worker has a free port.
    #[tracing::instrument(skip(self))]
    pub async fn assign_live(
        &self,
        lecture_id: &str,
        tracks: &[String],
        now: DateTime<Utc>,
    ) -> Result<Option<LiveAssignment>, StoreError> {
        // Two recordings starting at once may pick the same port; the unique index on
        // (worker, port) of capturing lectures refuses the second, which tries again.
        for _ in 0..5 {
            let workers = on_backend!(self, db => db.live_workers(now - WORKER_FRESH_FOR))?;
            let mut best: Option<(usize, LiveWorker, u16)> = None;
            for worker in workers {
                let used = on_backend!(self, db => db.live_ports(&worker.worker_id))?;
                let Some(port) = free_port(worker.ports, &used) else {
                    continue;
                };
                if best.as_ref().is_none_or(|(n, _, _)| used.len() < *n) {
                    best = Some((used.len(), worker, port));
                }
            }
            let Some((_, worker, port)) = best else {
                return Ok(None);
            };
            let assignment = LiveAssignment {
                worker_id: worker.worker_id,
                srt_host: worker.srt_host,
                port,
                passphrase: new_passphrase(),
            };
            let tracks = tracks.join(" ");
            match on_backend!(self, db => db.assign_live(lecture_id, &assignment, &tracks)) {
                Ok(()) => return Ok(Some(assignment)),
                Err(StoreError::Database(sqlx::Error::Database(e))) if e.is_unique_violation() => {
                    tracing::debug!(port, "the port was taken meanwhile; picking again");
                }
                Err(e) => return Err(e),
            }
        }
        Ok(None)
    }

    /// The capturing lectures assigned to `worker_id`, with their ports and passphrases.
    pub async fn worker_sessions(
        &self,
        worker_id: &str,
    ) -> Result<Vec<LiveSessionRow>, StoreError> {
        on_backend!(self, db => db.worker_sessions(worker_id))
    }

    /// The lecture a box's recording becomes, `capturing` from `now`. In order:
    ///
    /// 1. a lecture planned in the box's room for now (still `scheduled`, from [`EARLY_START`]
    ///    before its planned start to its planned end; the nearest in time of several),
    ///    which keeps its course, title and plan;
    /// 2. inside an occurrence of one of the room's schedules (see [`Store::occurrence_at`]),
    ///    a new lecture of that schedule's course, planned for the occurrence and titled
    ///    "<schedule title>, <local date>";
    /// 3. otherwise a new lecture of the room's default course, "<code> lecture, <date time>"
    ///    (UTC).
    ///
    /// A `title` the box sends wins over any of these.
    #[tracing::instrument(skip(self))]
    pub async fn start_lecture(
        &self,
        agent: &Agent,
        title: Option<&str>,
        main_track: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<String, StartError> {
        let title = title.map(str::trim).filter(|t| !t.is_empty());
        if let Some(id) = self
            .begin_planned_lecture(agent, title, main_track, now)
            .await?
        {
            return Ok(id);
        }
        let scheduled = self.occurrence_at(&agent.room_id, now).await?;
        let (course_id, default_title) = match &scheduled {
            Some(s) => (
                s.schedule.course_id.clone(),
                format!(
                    "{}, {}",
                    s.schedule.title,
                    s.local_start.format("%-d %b %Y")
                ),
            ),
            None => {
                let course = on_backend!(self, db => db.room_default_course(&agent.room_id))?;
                let (course_id, code) = course.ok_or(StartError::NoCourse)?;
                let title = format!("{code} lecture, {}", now.format("%-d %b %Y %H:%M"));
                (course_id, title)
            }
        };
        let title = title.map_or(default_title, str::to_owned);
        let id = new_id();
        let lecture = NewLecture {
            id: &id,
            course_id: &course_id,
            room_id: Some(&agent.room_id),
            title: &title,
            state: LectureState::Capturing,
            main_track,
            now,
            started_at: Some(now),
            planned_start: scheduled.as_ref().map(|s| s.occurrence.start),
            planned_end: scheduled.as_ref().map(|s| s.occurrence.end),
            schedule_id: scheduled.as_ref().map(|s| s.schedule.id.as_str()),
        };
        on_backend!(self, db => db.insert_lecture(&lecture))?;
        Ok(id)
    }

    /// Turns the lecture planned in the box's room for `now` into the recording, if there is
    /// one: still `scheduled`, with a planned start at most [`EARLY_START`] ahead (as for a
    /// schedule's occurrence) and a planned end still to come. Of several, the one planned to
    /// start nearest to `now` (before or after) is taken: a box starting just before the
    /// next lecture records that one, not the one that is ending. Lectures planned without
    /// a room or without both times are never taken.
    async fn begin_planned_lecture(
        &self,
        agent: &Agent,
        title: Option<&str>,
        main_track: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Option<String>, StoreError> {
        let mut planned =
            on_backend!(self, db => db.planned_in_room(&agent.room_id, now, now + EARLY_START))?;
        planned.sort_by_key(|l| {
            let start = l.settings.planned_start.unwrap_or(now);
            ((start - now).abs(), start, l.id.clone())
        });
        for lecture in planned {
            // A second box of the room may have taken it meanwhile: then the next one.
            if on_backend!(self, db => db.begin_planned_lecture(&lecture.id, title, main_track, now))?
            {
                return Ok(Some(lecture.id));
            }
        }
        Ok(None)
    }

    /// The box stopped recording: `capturing` → `ready` when the worker has already closed
    /// the live copy, else `processing` until it does (or until a repair makes one). False
    /// when the lecture is not one of this box's room. A lecture past capturing is left as it is.
    #[tracing::instrument(skip(self))]
    pub async fn stop_lecture(
        &self,
        agent: &Agent,
        lecture_id: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let found = on_backend!(self, db => db.stop_lecture(&agent.room_id, lecture_id, now))?;
        if found {
            self.media_changed(lecture_id).await;
        }
        Ok(found)
    }

    /// The worker closed its live session. While the box still records (a network cut) the
    /// lecture stays `capturing` and the worker listens again; after the box stopped it
    /// becomes `ready`, or `failed` with `error`. False unless `worker_id` is the lecture's
    /// live worker (see [`Store::is_live_worker`]).
    #[tracing::instrument(skip(self))]
    pub async fn finish_lecture(
        &self,
        worker_id: &str,
        lecture_id: &str,
        error: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        if !self.is_live_worker(worker_id, lecture_id).await? {
            return Ok(false);
        }
        let state = if error.is_some() {
            LectureState::Failed
        } else {
            LectureState::Ready
        };
        let found = on_backend!(self, db => db.finish_lecture(lecture_id, state, error, now))?;
        if found {
            self.media_changed(lecture_id).await;
        }
        Ok(found)
    }

    /// Whether `worker_id` may report on `lecture_id`: only the worker its live session was
    /// assigned to (`live_worker_id`) may, so a worker's token reaches no other lecture (jobs
    /// have their own leases). The binding outlives the session, as reports and the finish
    /// arrive after the box stopped, and a restarted worker keeps its id and with it its
    /// lectures; were a session ever handed to another worker, the reports would follow it.
    pub async fn is_live_worker(
        &self,
        worker_id: &str,
        lecture_id: &str,
    ) -> Result<bool, StoreError> {
        on_backend!(self, db => db.is_live_worker(lecture_id, worker_id))
    }

    /// A lecture by id, whoever asks (media and worker paths; their tokens decide access).
    pub async fn lecture(&self, lecture_id: &str) -> Result<Option<LectureRow>, StoreError> {
        on_backend!(self, db => db.lecture(lecture_id))
    }

    /// A lecture `user` may see, with their standing in its course: staff see every lecture
    /// of their courses, students only those open to them at `now`.
    #[tracing::instrument(skip(self, user), fields(user = %user.id))]
    pub async fn lecture_for(
        &self,
        user: &User,
        lecture_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(LectureRow, CourseEntry)>, StoreError> {
        let Some(row) = self.lecture(lecture_id).await? else {
            return Ok(None);
        };
        let Some(course) = self.course_for(user, &row.course_id).await? else {
            return Ok(None);
        };
        let visible = course.access.manages_lectures() || row.settings.open_to_students(now);
        Ok(visible.then_some((row, course)))
    }

    /// The lectures of a course the caller may see, newest first.
    pub async fn course_lectures(
        &self,
        course: &CourseEntry,
        now: DateTime<Utc>,
        page: Page,
    ) -> Result<Vec<LectureRow>, StoreError> {
        let all = course.access.manages_lectures();
        on_backend!(self, db => db.course_lectures(&course.course.id, all, now, page))
    }

    /// Plans a lecture of a course (state `scheduled`); returns its id.
    #[tracing::instrument(skip(self))]
    pub async fn plan_lecture(
        &self,
        course_id: &str,
        new: &lectern_wire::admin::NewLecture,
        now: DateTime<Utc>,
    ) -> Result<String, StoreError> {
        let id = new_id();
        let lecture = NewLecture {
            id: &id,
            course_id,
            room_id: new.room_id.as_deref(),
            title: &new.title,
            state: LectureState::Scheduled,
            main_track: None,
            now,
            started_at: None,
            planned_start: new.planned_start,
            planned_end: new.planned_end,
            schedule_id: None,
        };
        on_backend!(self, db => db.insert_lecture(&lecture))?;
        Ok(id)
    }

    /// The lecture `id` (from [`super::new_lecture_id`]) of a course for an uploaded file
    /// (state `processing` until its job is done).
    #[tracing::instrument(skip(self))]
    pub async fn create_uploaded_lecture(
        &self,
        id: &str,
        course_id: &str,
        title: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let lecture = NewLecture {
            id,
            course_id,
            room_id: None,
            title,
            state: LectureState::Processing,
            main_track: None,
            now,
            started_at: None,
            planned_start: None,
            planned_end: None,
            schedule_id: None,
        };
        on_backend!(self, db => db.insert_lecture(&lecture))
    }

    /// Writes a lecture's settings.
    #[tracing::instrument(skip(self))]
    pub async fn update_lecture_settings(
        &self,
        lecture_id: &str,
        settings: &LectureSettings,
    ) -> Result<(), StoreError> {
        on_backend!(self, db => db.update_lecture_settings(lecture_id, settings))?;
        // Trim points decide what the playlists list.
        self.media_changed(lecture_id).await;
        Ok(())
    }

    /// Deletes a lecture's rows (its renditions, segments, chunks and jobs go with it). The
    /// caller deletes its storage objects first. False when it is gone or `capturing` (a
    /// planned lecture a box started recording meanwhile).
    #[tracing::instrument(skip(self))]
    pub async fn delete_lecture(&self, lecture_id: &str) -> Result<bool, StoreError> {
        let deleted = on_backend!(self, db => db.delete_lecture(lecture_id))?;
        if deleted {
            self.media_changed(lecture_id).await;
        }
        Ok(deleted)
    }

    /// What `lecture` has to play and how long its main track is.
    pub async fn lecture_media(&self, lecture: &LectureRow) -> Result<LectureMedia, StoreError> {
        let mut media = self.lectures_media(std::slice::from_ref(lecture)).await?;
        Ok(media.pop().unwrap_or_default())
    }

    /// [`Store::lecture_media`] of each of `lectures`, in their order, in two queries.
    pub async fn lectures_media(
        &self,
        lectures: &[LectureRow],
    ) -> Result<Vec<LectureMedia>, StoreError> {
        let ids: Vec<&str> = lectures.iter().map(|l| l.id.as_str()).collect();
        let rows = on_backend!(self, db => db.playable_renditions(&ids))?;
        let mut by_lecture: HashMap<String, Vec<(RenditionReport, f64)>> = HashMap::new();
        for (lecture_id, rendition, duration) in rows {
            by_lecture
                .entry(lecture_id)
                .or_default()
                .push((rendition, duration));
        }
        let mut pictures: HashMap<String, Vec<ThumbnailReport>> = HashMap::new();
        for (lecture_id, report) in on_backend!(self, db => db.thumbnails(&ids))? {
            pictures.entry(lecture_id).or_default().push(report);
        }
        Ok(lectures
            .iter()
            .map(|l| {
                let renditions = by_lecture.remove(&l.id).unwrap_or_default();
                media_of(l, renditions, pictures.remove(&l.id).unwrap_or_default())
            })
            .collect())
    }

    /// Records the pictures a live session stored of a track (replacing what the track had).
    /// False unless `worker_id` is the lecture's live worker.
    #[tracing::instrument(skip(self))]
    pub async fn upsert_thumbnails(
        &self,
        worker_id: &str,
        lecture_id: &str,
        report: &ThumbnailReport,
    ) -> Result<bool, StoreError> {
        if !self.is_live_worker(worker_id, lecture_id).await? {
            return Ok(false);
        }
        on_backend!(self, db => db.upsert_thumbnails(lecture_id, report))?;
        self.media_changed(lecture_id).await;
        Ok(true)
    }

    /// The pictures of each track of a lecture (by track name).
    pub async fn pictures(&self, lecture_id: &str) -> Result<Vec<ThumbnailReport>, StoreError> {
        let rows = on_backend!(self, db => db.thumbnails(&[lecture_id]))?;
        Ok(rows.into_iter().map(|(_, report)| report).collect())
    }

    /// Adds or updates a rendition (by track and rung). False unless `worker_id` is the
    /// lecture's live worker.
    #[tracing::instrument(skip(self))]
    pub async fn upsert_rendition(
        &self,
        worker_id: &str,
        lecture_id: &str,
        r: &RenditionReport,
    ) -> Result<bool, StoreError> {
        if !self.is_live_worker(worker_id, lecture_id).await? {
            return Ok(false);
        }
        on_backend!(self, db => db.upsert_rendition(lecture_id, r))?;
        self.media_changed(lecture_id).await;
        Ok(true)
    }

    /// Records a stored segment; a repeated report changes nothing. False unless
    /// `worker_id` is the lecture's live worker.
    #[tracing::instrument(skip(self))]
    pub async fn add_segment(
        &self,
        worker_id: &str,
        lecture_id: &str,
        s: &SegmentReport,
    ) -> Result<bool, StoreError> {
        if !self.is_live_worker(worker_id, lecture_id).await? {
            return Ok(false);
        }
        on_backend!(self, db => db.add_segment(lecture_id, s))?;
        self.media_changed(lecture_id).await;
        Ok(true)
    }

    /// The segments of one rendition in sequence order (empty when it has none).
    pub async fn segments(
        &self,
        lecture_id: &str,
        track: &str,
        rung: &str,
    ) -> Result<Vec<SegmentEntry>, StoreError> {
        on_backend!(self, db => db.segments(lecture_id, track, rung))
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
        on_backend!(self, db => db.segment_exists(lecture_id, track, rung, sequence))
    }
}

/// Segment sequences and sizes are `u64` on the wire and `BIGINT`/`INTEGER` (i64) in both
/// databases; values past `i64::MAX` are clamped (no real stream gets there).
pub(super) fn clamp_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> LectureSettings {
        LectureSettings {
            title: "t".into(),
            published: true,
            available_from: None,
            available_until: None,
            planned_start: None,
            planned_end: None,
            trim_in: None,
            trim_out: None,
        }
    }

    fn two_second_segments(n: u64) -> Vec<SegmentEntry> {
        (0..n)
            .map(|sequence| SegmentEntry {
                sequence,
                duration: 2.0,
                program_date_time: Utc::now(),
                discontinuity: false,
            })
            .collect()
    }

    #[test]
    fn trimming_keeps_the_segments_that_overlap_the_window() {
        let mut s = settings();
        assert_eq!(s.trim(two_second_segments(5)).len(), 5);
        s.trim_in = Some(3.0);
        s.trim_out = Some(6.0);
        let kept: Vec<u64> = s
            .trim(two_second_segments(5))
            .iter()
            .map(|x| x.sequence)
            .collect();
        assert_eq!(kept, [1, 2]);
        s.trim_in = Some(4.0);
        s.trim_out = None;
        let kept: Vec<u64> = s
            .trim(two_second_segments(5))
            .iter()
            .map(|x| x.sequence)
            .collect();
        assert_eq!(kept, [2, 3, 4]);
        assert_eq!(s.trimmed_duration(10.0), 6.0);
        s.trim_out = Some(30.0);
        assert_eq!(s.trimmed_duration(10.0), 6.0);
    }

    #[test]
    fn the_trim_window_spans_the_segments_trimming_keeps() {
        let mut s = settings();
        assert_eq!(s.trim_window(&two_second_segments(5)), (0.0, 10.0));
        s.trim_in = Some(3.0);
        s.trim_out = Some(6.0);
        // Segments 1 and 2 are kept: from 2 s to 6 s.
        assert_eq!(s.trim_window(&two_second_segments(5)), (2.0, 6.0));
        s.trim_in = Some(20.0);
        s.trim_out = None;
        assert_eq!(s.trim_window(&two_second_segments(5)), (0.0, 0.0));
    }

    #[test]
    fn the_main_track_s_pictures_come_first() {
        let lecture = LectureRow {
            id: "l".into(),
            course_id: "c".into(),
            room_id: None,
            state: LectureState::Ready,
            main_track: Some("presenter".into()),
            created_at: Utc::now(),
            started_at: None,
            ended_at: None,
            error: None,
            media_version: "v1".into(),
            schedule_id: None,
            settings: settings(),
        };
        let rendition = |track: &str| RenditionReport {
            track: track.into(),
            rung: "720p".into(),
            width: 1280,
            height: 720,
            bandwidth: 1,
            codecs: String::new(),
            frame_rate: 30.0,
        };
        let pictures = |track: &str, chapters| ThumbnailReport {
            track: track.into(),
            poster: true,
            sprites: 1,
            chapters,
        };
        let media = media_of(
            &lecture,
            vec![(rendition("presenter"), 4.0), (rendition("screen"), 4.0)],
            vec![pictures("presenter", 0), pictures("screen", 3)],
        );
        assert_eq!(media.picture_track(|p| p.poster), Some("presenter"));
        assert_eq!(media.picture_track(|p| p.chapters > 0), Some("screen"));
        let media = media_of(
            &lecture,
            vec![(rendition("presenter"), 4.0)],
            vec![pictures("a-camera", 0), pictures("presenter", 0)],
        );
        assert_eq!(media.picture_track(|p| p.poster), Some("presenter"));
    }

    #[test]
    fn students_see_a_lecture_only_published_and_inside_its_window() {
        let now = Utc::now();
        let mut s = settings();
        assert!(s.open_to_students(now));
        s.available_from = Some(now + Duration::hours(1));
        assert!(!s.open_to_students(now));
        s.available_from = Some(now - Duration::hours(1));
        s.available_until = Some(now);
        assert!(!s.open_to_students(now));
        s.available_until = Some(now + Duration::seconds(1));
        assert!(s.open_to_students(now));
        s.published = false;
        assert!(!s.open_to_students(now));
    }

    #[test]
    fn the_lowest_unused_port_of_the_range_is_free() {
        assert_eq!(free_port((9000, 9002), &[]), Some(9000));
        assert_eq!(free_port((9000, 9002), &[9000, 9002]), Some(9001));
        assert_eq!(free_port((9000, 9001), &[9000, 9001]), None);
    }

    #[test]
    fn a_passphrase_is_32_hex_digits_and_new_each_time() {
        let a = new_passphrase();
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, new_passphrase());
    }

    #[test]
    fn lecture_states_round_trip_through_their_column_text() {
        for state in [
            LectureState::Scheduled,
            LectureState::Capturing,
            LectureState::Processing,
            LectureState::Ready,
            LectureState::Failed,
        ] {
            assert_eq!(parse_state(state_str(state)).unwrap(), state);
        }
        assert!(parse_state("lost").is_err());
    }
}
