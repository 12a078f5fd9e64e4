//! Bodies of the management API under `/api/v1`: what admins, instructors and teaching
//! assistants send to run an institute, its courses, rooms, capture boxes and lectures.
//!
//! A `…Patch` body changes only the fields it names. For a field that may be cleared, `null`
//! clears it and leaving it out keeps it (`Option<Option<T>>`).

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};

use crate::api::{AgeBand, CourseRole, Role};

/// `GET`/`PATCH /api/v1/institute`: the caller's institute.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Institute {
    pub id: String,
    pub name: String,
    /// Whether people may create their own student accounts (off: only admins invite).
    pub open_signup: bool,
    /// Days the audit log is kept; `null` keeps it for good. The retention job deletes older
    /// entries every day.
    pub audit_retention_days: Option<u32>,
}

/// `PATCH /api/v1/institute`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct InstitutePatch {
    pub name: Option<String>,
    pub open_signup: Option<bool>,
    /// 1 to 36 500 days, or `null` to keep the audit log for good.
    #[serde(default, deserialize_with = "present")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<u32>))]
    pub audit_retention_days: Option<Option<u32>>,
}

/// `POST /api/v1/courses` (admins).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewCourse {
    pub code: String,
    pub title: String,
    pub term: String,
    #[serde(default = "yes")]
    pub auto_publish: bool,
}

fn yes() -> bool {
    true
}

/// `PATCH /api/v1/courses/{id}` (the course's instructors and admins).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CoursePatch {
    pub code: Option<String>,
    pub title: Option<String>,
    pub term: Option<String>,
    pub auto_publish: Option<bool>,
}

/// One person enrolled in a course (`GET /api/v1/courses/{id}/enrolments`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Enrolment {
    pub user_id: String,
    pub name: String,
    pub email: String,
    pub role: CourseRole,
}

/// `PUT /api/v1/courses/{id}/enrolments/{user_id}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EnrolmentRequest {
    pub role: CourseRole,
}

/// A lecture hall or classroom (`/api/v1/rooms`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Room {
    pub id: String,
    pub name: String,
    /// Where a recording started in this room outside any schedule goes.
    pub default_course_id: Option<String>,
}

/// `POST /api/v1/rooms`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewRoom {
    pub name: String,
    #[serde(default)]
    pub default_course_id: Option<String>,
}

/// `PATCH /api/v1/rooms/{id}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RoomPatch {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub default_course_id: Option<Option<String>>,
}

/// A capture box as admins see it (`/api/v1/agents`). Its token is shown once, when it is
/// made ([`AgentCreated`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentInfo {
    pub id: String,
    pub name: String,
    pub room_id: String,
    /// When the box last reported; `None` if it never has.
    pub last_seen: Option<DateTime<Utc>>,
    /// What it last said it was doing (`idle`, `capturing`, `uploading`, …).
    pub state: Option<String>,
    pub version: Option<String>,
    /// Whether it reported within the last three heartbeat intervals (90 s): one lost
    /// heartbeat or a slow network does not make a box flap between on- and offline.
    pub online: bool,
    /// Its last health report as it sent it (disk free bytes, devices, audio level, …).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub health: Option<serde_json::Value>,
}

/// `POST /api/v1/agents`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewAgent {
    pub name: String,
    pub room_id: String,
}

/// `PATCH /api/v1/agents/{id}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AgentPatch {
    pub name: Option<String>,
    pub room_id: Option<String>,
}

/// A new capture box or a new token for one: the token is shown here and never again.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentCreated {
    pub agent: AgentInfo,
    /// Put it in the box's `ingest.toml` as `token`.
    pub token: String,
}

/// A recurring recording time of a course in a room (`/api/v1/schedules`), with iCalendar
/// semantics: occurrences are local times in `timezone`, so a 09:15 lecture stays at 09:15
/// across daylight saving changes.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Schedule {
    pub id: String,
    pub course_id: String,
    pub room_id: String,
    /// The title its lectures get, followed by the date.
    pub title: String,
    /// The first occurrence's start, a local wall-clock time in `timezone` without an
    /// offset, e.g. `2026-09-07T09:15:00`.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "2026-09-07T09:15:00"))]
    pub first_start: NaiveDateTime,
    /// An IANA time zone name, e.g. `Europe/Berlin`: the room's.
    pub timezone: String,
    /// An RFC 5545 recurrence rule without the `RRULE:` prefix, e.g.
    /// `FREQ=WEEKLY;BYDAY=MO,WE;UNTIL=20261218T230000Z`, whose occurrences are the times it
    /// yields from `first_start` on. FREQ is DAILY, WEEKLY, MONTHLY or YEARLY; UNTIL is UTC;
    /// a rule without COUNT or UNTIL recurs until it is changed.
    pub rrule: String,
    /// How long each occurrence lasts (1 to 720).
    pub duration_minutes: u32,
    pub updated_at: DateTime<Utc>,
}

/// `POST /api/v1/schedules` (admins).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewSchedule {
    pub course_id: String,
    pub room_id: String,
    pub title: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "2026-09-07T09:15:00"))]
    pub first_start: NaiveDateTime,
    pub timezone: String,
    pub rrule: String,
    pub duration_minutes: u32,
}

/// `PATCH /api/v1/schedules/{id}` (admins): the fields it names.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SchedulePatch {
    pub course_id: Option<String>,
    pub room_id: Option<String>,
    pub title: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, example = "2026-09-07T09:15:00"))]
    pub first_start: Option<NaiveDateTime>,
    pub timezone: Option<String>,
    pub rrule: Option<String>,
    pub duration_minutes: Option<u32>,
}

/// `POST /api/v1/courses/{id}/lectures`: a lecture planned ahead (state `scheduled`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewLecture {
    pub title: String,
    #[serde(default)]
    pub room_id: Option<String>,
    #[serde(default)]
    pub planned_start: Option<DateTime<Utc>>,
    #[serde(default)]
    pub planned_end: Option<DateTime<Utc>>,
}

/// `PATCH /api/v1/lectures/{id}` (the course's instructors, TAs and admins). Trim points are
/// seconds from the start of the recording; players see only what lies between them.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LecturePatch {
    pub title: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<DateTime<Utc>>))]
    pub available_from: Option<Option<DateTime<Utc>>>,
    #[serde(default, deserialize_with = "present")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<DateTime<Utc>>))]
    pub available_until: Option<Option<DateTime<Utc>>>,
    #[serde(default, deserialize_with = "present")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<f64>))]
    pub trim_in: Option<Option<f64>>,
    #[serde(default, deserialize_with = "present")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<f64>))]
    pub trim_out: Option<Option<f64>>,
}

/// What a CSV import did (`POST /api/v1/imports/courses`, `…/enrolments`): rows are applied
/// one by one, so the good rows of a file with bad ones are in, and each bad one is listed.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportReport {
    /// Courses or enrolments that did not exist before.
    pub created: u64,
    /// Existing ones the file changed (a title, a role).
    pub updated: u64,
    /// Rows that matched what the catalog already had.
    pub unchanged: u64,
    /// Accounts made for people the file named with a name but who had none; they sign in
    /// once an admin sends them an invitation.
    pub users_created: Vec<String>,
    /// Every row that was not imported, with its line and why.
    pub rejected: Vec<RejectedRow>,
}

/// A row of an imported file that was not applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RejectedRow {
    /// The line of the file (1 is the header).
    pub line: u64,
    pub reason: String,
}

/// A person's account as the institute's admins see it (`/api/v1/users`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserInfo {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    /// A disabled account cannot sign in and has no sessions.
    pub disabled: bool,
    /// Whether the person has set a password (followed their activation link or signed up).
    pub activated: bool,
    pub created_at: DateTime<Utc>,
    pub age_band: AgeBand,
    /// The guardian's consent recorded for an account under 13, if any.
    pub guardian_consent: Option<GuardianConsent>,
}

/// `POST /api/v1/users`: invite a person into the admin's institute.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub email: String,
    pub name: String,
    pub role: Role,
    /// `adult` when left out.
    #[serde(default)]
    pub age_band: AgeBand,
}

/// `PATCH /api/v1/users/{id}`. Disabling ends every session of the person at once.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    pub name: Option<String>,
    pub role: Option<Role>,
    pub disabled: Option<bool>,
    /// `under_13` deletes what was recorded of the person's viewing beyond where to resume.
    pub age_band: Option<AgeBand>,
}

/// An invited person and their single-use activation link, shown here and never again.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserInvited {
    pub user: UserInfo,
    /// `/activate#token=…` (absolute when the catalog knows its public origin). The token is
    /// in the fragment, which browsers never send to a server, so it stays out of access
    /// logs and `Referer` headers. Lectern sends no mail: pass the link on to the person.
    pub activation_url: String,
    /// When the link stops working.
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for UserInvited {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserInvited")
            .field("user", &self.user)
            .field("activation_url", &"<hidden>")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// One line of the audit log (`GET /api/v1/audit`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// Who acted; `None` for the system itself.
    pub actor_id: Option<String>,
    /// What was done, e.g. `course.create`, `lecture.delete`, `user.read`.
    pub action: String,
    pub target_kind: String,
    pub target_id: Option<String>,
    /// What changed, as JSON.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub detail: serde_json::Value,
}

/// A field that was present in the JSON: `null` becomes `Some(None)`, absence (through
/// `#[serde(default)]`) stays `None`.
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_patch_tells_a_null_from_an_absent_field() {
        let patch: LecturePatch = serde_json::from_str(r#"{"trim_in": null}"#).unwrap();
        assert_eq!(patch.trim_in, Some(None));
        assert_eq!(patch.trim_out, None);
        let patch: LecturePatch = serde_json::from_str(r#"{"trim_out": 12.5}"#).unwrap();
        assert_eq!(patch.trim_out, Some(Some(12.5)));
    }

    #[test]
    fn unknown_fields_are_refused_so_typos_do_not_pass_silently() {
        assert!(serde_json::from_str::<CoursePatch>(r#"{"titel": "x"}"#).is_err());
    }
}

/// `POST /api/v1/users/{id}/guardian-consent`: an admin records that the guardian of a
/// person under 13 consented to their use of Lectern.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct GuardianConsentRequest {
    /// Who consented.
    pub guardian_name: String,
    /// How they are related to the person (`mother`, `legal guardian`, …).
    pub relation: String,
}

/// A guardian's consent as recorded.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GuardianConsent {
    pub guardian_name: String,
    pub relation: String,
    /// The admin who recorded it; `None` once their account was erased.
    pub recorded_by: Option<String>,
    pub recorded_at: DateTime<Utc>,
}

/// `GET /api/v1/courses/{id}/students/{user_id}`: a student of the course as its staff see
/// them: who they are and how far they got in each of its lectures they played.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StudentRecord {
    pub user_id: String,
    pub name: String,
    pub email: String,
    pub age_band: AgeBand,
    pub course_id: String,
    /// Their role in the course (always `student`).
    pub role: CourseRole,
    /// The course's lectures they played, most recently played first.
    pub progress: Vec<StudentLectureProgress>,
}

/// How far a student got in one lecture.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StudentLectureProgress {
    pub lecture_id: String,
    pub title: String,
    /// Where they stopped.
    pub position_seconds: f64,
    /// How many times they started playing it (0: not recorded, under 13).
    pub views: u64,
    /// Seconds played over every view; `None`: not recorded (under 13).
    pub watched_seconds: Option<f64>,
    pub updated_at: DateTime<Utc>,
}
