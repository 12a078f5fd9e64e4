//! Bodies of the public API under `/api/v1` (the player and admin UI).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// `POST /api/v1/auth/login`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

/// `POST /api/v1/auth/activate`: the token of an activation link and the password the person
/// chooses. The `Debug` output hides both.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActivateRequest {
    pub token: String,
    pub password: String,
}

impl std::fmt::Debug for ActivateRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActivateRequest")
            .field("token", &"<hidden>")
            .field("password", &"<hidden>")
            .finish()
    }
}

/// `POST /api/v1/auth/signup`: a student account of an institute with open sign-up. The
/// `Debug` output hides the password.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignupRequest {
    pub institute_id: String,
    pub email: String,
    pub name: String,
    pub password: String,
}

impl std::fmt::Debug for SignupRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignupRequest")
            .field("institute_id", &self.institute_id)
            .field("email", &self.email)
            .field("name", &self.name)
            .field("password", &"<hidden>")
            .finish()
    }
}

/// A user's role within their institute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Instructor,
    Student,
}

/// `GET /api/v1/me`, and the body of a successful login.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Me {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub institute_id: String,
    pub institute_name: String,
    /// The version of the institute's privacy policy the person has yet to accept
    /// (`GET /api/v1/privacy-policy` shows it; nothing plays until they do), if any.
    #[serde(default)]
    pub policy_to_accept: Option<u32>,
}

/// Someone's role in one course.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CourseRole {
    Student,
    /// Manages the course's lectures like an instructor, but not its enrolments.
    TeachingAssistant,
    Instructor,
}

/// One course, as listed by `GET /api/v1/courses` and shown by `GET /api/v1/courses/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Course {
    pub id: String,
    pub code: String,
    pub title: String,
    pub term: String,
    /// Whether a new recording of the course is published as soon as it starts.
    pub auto_publish: bool,
    /// The caller's role in the course; `None` for an admin who is not enrolled.
    pub my_role: Option<CourseRole>,
}

/// Where a lecture is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LectureState {
    /// Planned, nothing recorded yet.
    Scheduled,
    /// The capture box is recording; it can be watched live.
    Capturing,
    /// Recording has ended; the worker is closing the on-demand copy.
    Processing,
    /// The on-demand recording is complete.
    Ready,
    /// Something went wrong; `error` on the lecture says what.
    Failed,
}

/// `GET /api/v1/lectures/{id}` and the items of `GET /api/v1/courses/{id}/lectures`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Lecture {
    pub id: String,
    pub course_id: String,
    pub title: String,
    pub state: LectureState,
    /// True while the lecture can be watched at its live edge.
    pub live: bool,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    /// Seconds of media the catalog holds for the main track.
    pub duration_seconds: f64,
    /// A message a person understands, when `state` is `failed`.
    pub error: Option<String>,
    /// Whether students of the course may see it (within its availability window).
    pub published: bool,
    /// Students see it from this time on (always, when `None`).
    pub available_from: Option<DateTime<Utc>>,
    /// Students no longer see it from this time on (never hidden, when `None`).
    pub available_until: Option<DateTime<Utc>>,
    /// When it is planned to begin and end (scheduled lectures).
    pub planned_start: Option<DateTime<Utc>>,
    pub planned_end: Option<DateTime<Utc>>,
    /// Seconds from the start of the recording where playback begins and ends.
    pub trim_in: Option<f64>,
    pub trim_out: Option<f64>,
    /// The schedule whose occurrence it was recorded in, if any.
    pub schedule_id: Option<String>,
    /// The poster's URL (a JPEG, with a media token like [`Playback`]'s), for the course
    /// page; `None` until the worker stored one.
    pub poster: Option<String>,
}

/// `GET /api/v1/lectures/{id}/playback`: where the player finds the master playlist and the
/// lecture's pictures. Every URL carries a short-lived token scoped to this lecture.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Playback {
    pub master: String,
    /// A JPEG to show before playing; `None` until the worker stored one.
    pub poster: Option<String>,
    /// Timeline thumbnails: a WebVTT file whose cues name tiles of sprite sheets
    /// (`sprite-0.jpg?token=…#xywh=x,y,w,h`, relative to it); `None` when there are none.
    pub thumbnails: Option<String>,
    /// Chapters at the slide changes (`Slide 1`, `Slide 2`, …) as WebVTT; `None` when none
    /// were found.
    pub chapters: Option<String>,
}

/// The body of every error answer: `{"error": {"code", "message"}}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// A machine-readable `code` (e.g. `not_found`) and a `message` for people.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
}

/// `PATCH /api/v1/me`: a person corrects their own profile.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MeUpdate {
    /// The name shown to them and their instructors.
    pub name: String,
}

/// `POST /api/v1/me/export`: where to download one's data, for a few minutes.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExportLink {
    /// A path under `/api/v1/me/export/`; it works only in the same person's session.
    pub url: String,
    pub expires_at: DateTime<Utc>,
}

/// `POST /api/v1/me/erasure`: the person confirms with their password.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ErasureRequest {
    pub password: String,
}

/// What an erasure did: everything about the person is gone but what is listed here.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErasureReport {
    /// Records kept because the institute must keep them, with the reason.
    pub held: Vec<HeldRecords>,
}

/// Records an erasure kept.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HeldRecords {
    /// The table they are in (see the personal data registry in `docs/privacy.md`).
    pub table: String,
    pub rows: u64,
    pub reason: String,
}

/// `GET /api/v1/privacy-policy`: the institute's current privacy policy.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PrivacyPolicy {
    pub version: u32,
    /// The text, as the institute wrote it (plain text or Markdown).
    pub body: String,
    pub published_at: DateTime<Utc>,
    /// When the caller accepted this version; `null`: not yet.
    pub accepted_at: Option<DateTime<Utc>>,
}

/// `PUT /api/v1/institute/privacy-policy`: publishes a new version.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewPrivacyPolicy {
    pub body: String,
}

/// `POST /api/v1/me/policy-acceptance`: the person accepts the version they were shown.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PolicyAcceptance {
    pub version: u32,
}

/// What a run of the retention job removed from an institute.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RetentionReport {
    /// Audit log entries older than the institute's `audit_retention_days`.
    pub audit_entries: u64,
}

/// How old a person is, as their institute records it (`admin::NewUser`, `admin::UserPatch`).
/// An `under_13` account plays nothing until a guardian's consent is recorded, and nothing
/// about its viewing is recorded but where to resume. Unknown ages are `adult`, the default:
/// the institute that invites a child says so.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AgeBand {
    #[serde(rename = "under_13")]
    Under13,
    #[serde(rename = "13_to_17")]
    From13To17,
    #[default]
    #[serde(rename = "adult")]
    Adult,
}

/// `GET`/`PUT /api/v1/me/preferences`: what a person chose about their own data.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Preferences {
    /// Leaves the person out of every viewing aggregate (an instructor's lecture analytics),
    /// and stops recording which parts of lectures they played; where they stopped is still
    /// kept, to resume there.
    pub research_opt_out: bool,
}

/// `PUT /api/v1/lectures/{id}/progress`: what the player reports every ~15 s while it plays,
/// and when it pauses or is closed. Repeating a report changes nothing.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ProgressReport {
    /// An id the player picks for this playback (1 to 64 letters, digits, `-` or `_`): a
    /// report with a new one counts a new view.
    pub view: String,
    /// Where playback is, in seconds on the player's timeline: where to resume.
    pub position_seconds: f64,
    /// Seconds played in this view so far (the player's running total, not an increment).
    pub watched_seconds: f64,
    /// The parts of the timeline played since the last report, as `[from, to]` seconds (at
    /// most 64).
    #[serde(default)]
    pub watched: Vec<[f64; 2]>,
}

/// `GET /api/v1/lectures/{id}/progress`: the caller's own place in a lecture.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Progress {
    pub lecture_id: String,
    /// Where to resume (0 when never played).
    pub position_seconds: f64,
    /// How many times they started playing it; 0 for accounts under 13 (not recorded).
    pub views: u64,
    /// Seconds played over every view; `None` when not recorded (under 13, or never played).
    pub watched_seconds: Option<f64>,
    /// When the player last reported; `None` when never played.
    pub updated_at: Option<DateTime<Utc>>,
}

/// `GET /api/v1/lectures/{id}/analytics`: how a lecture was watched by the students of its
/// course, over those who did not opt out (never fewer than `minimum_cohort`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LectureAnalytics {
    pub lecture_id: String,
    /// The smallest number of students an aggregate is shown for.
    pub minimum_cohort: u64,
    /// Students who watched it (each counted once): the cohort every figure is over.
    pub unique_viewers: u64,
    /// Times they started playing it.
    pub views: u64,
    /// Seconds they played it, all together.
    pub watched_seconds: f64,
    /// The length of each part of the timeline in `retention`.
    pub bucket_seconds: u64,
    /// For each part of the lecture's timeline, in order, the share (0 to 1) of
    /// `unique_viewers` who played some of it.
    pub retention: Vec<f64>,
}
