//! The access-control matrix: every endpoint × every kind of caller, as data. Adding an
//! endpoint means adding a row to [`MATRIX`]; the OpenAPI test holds the documented `/api/v1`
//! operations to this table, so a documented route without a row (or the reverse) fails there.
//!
//! The rules the rows encode (`docs/contracts.md`):
//! - people: without a session every `/api/v1` endpoint but login answers 401; with one,
//!   anything the caller may not see answers 404, never 403; nobody crosses institutes;
//! - capture boxes and workers: a missing or wrong bearer token (a person's cookie, the other
//!   kind of machine's token) answers 401; a box acts only on its own room's lectures (404);
//!   a worker reports only on the lectures whose live session it runs (another worker's
//!   lecture is 404) and acts only on the jobs it holds (another worker's job is 409, like a
//!   lost lease);
//! - media: anything but a valid token for that very lecture answers 404;
//! - operators: `/healthz` and `/readyz` are public; `/metrics` wants the `metrics_token`.

use axum::http::{Method, StatusCode};
use chrono::Utc;
use serde_json::Value;

use crate::fixtures::{
    build_world, World, FOREIGN_ADMIN, FOREIGN_AGENT_TOKEN, FOREIGN_INSTRUCTOR, FOREIGN_STUDENT,
    METRICS_TOKEN, OTHER_INSTRUCTOR, OTHER_WORKER_TOKEN,
};
use crate::helpers::{As, Db, TestApp, AGENT_TOKEN, OUTSIDER, STUDENT, WORKER_TOKEN};

const INSTRUCTOR: &str = "instructor@demo.lectern.test";
const ADMIN: &str = "admin@demo.lectern.test";

/// Who calls, and which columns a row of that kind has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Session cookies. Columns: anonymous, student enrolled in LEC101, student of the same
    /// institute not enrolled, student of another institute, LEC101's instructor, the
    /// instructor of another course (LEC202), the institute's admin, another institute's admin.
    People,
    /// Like `People`, but each caller logs in afresh first (for requests that end a session).
    FreshPeople,
    /// Capture box bearer tokens. Columns: none, a wrong token, the demo box's token, the other
    /// institute's box's token, a worker's token, the admin's session cookie.
    Agent,
    /// Worker bearer tokens. Columns: none, a wrong token, the demo worker's token, the other
    /// worker's token, a capture box's token, the admin's session cookie.
    Worker,
    /// `/metrics` bearer tokens. Columns: none, a wrong token, the configured `metrics_token`,
    /// a worker's token, the admin's session cookie.
    Metrics,
    /// `?token=` on media URLs of the LEC101 lecture. Columns: none, a valid token for it, a
    /// valid token for another lecture, an expired token, a tampered token, the enrolled
    /// student's session cookie without a token.
    Media,
}

const PEOPLE: [&str; 8] = [
    "",
    STUDENT,
    OUTSIDER,
    FOREIGN_STUDENT,
    INSTRUCTOR,
    OTHER_INSTRUCTOR,
    ADMIN,
    FOREIGN_ADMIN,
];
const PEOPLE_NAMES: [&str; 8] = [
    "anonymous",
    "enrolled student",
    "student not enrolled",
    "student of another institute",
    "instructor of the course",
    "instructor of another course",
    "admin of the institute",
    "admin of another institute",
];
const AGENT_NAMES: [&str; 6] = [
    "no token",
    "wrong token",
    "the box's token",
    "another box's token",
    "a worker's token",
    "an admin's cookie",
];
const WORKER_NAMES: [&str; 6] = [
    "no token",
    "wrong token",
    "the worker's token",
    "another worker's token",
    "a box's token",
    "an admin's cookie",
];
const METRICS_NAMES: [&str; 5] = [
    "no token",
    "wrong token",
    "the metrics token",
    "a worker's token",
    "an admin's cookie",
];
const MEDIA_NAMES: [&str; 6] = [
    "no token",
    "the lecture's token",
    "another lecture's token",
    "an expired token",
    "a tampered token",
    "a session cookie only",
];

/// One endpoint, called by every caller of its kind, in column order. `path` and `body` may
/// name `{course}`, `{other_course}`, `{foreign_course}`, `{lecture}`, `{foreign_lecture}`,
/// `{scratch}`, `{planned}`, `{room}`, `{scratch_room}`, `{agent}`, `{scratch_agent}`,
/// `{scratch_course}`, `{outsider}`, `{student}` (the enrolled student's id),
/// `{foreign_student}` (Other College's student's id, where a path wants `{user_id}`),
/// `{schedule}`, `{held_job}`, `{retry_job}` (see
/// `fixtures::World`), `{member}` (the outsider's id where a path wants `{id}`),
/// `{foreign_member}` (the foreign student), `{invited}`, `{institute}`,
/// `{foreign_institute}`, `{upload}` (a resumable upload LEC101's instructor began) and
/// `{missing}` (an id nothing has). Rows that change the world
/// come last; a row that deletes something expects 204 from the first caller allowed and
/// 404 from the allowed callers after it.
struct Row {
    method: Method,
    path: &'static str,
    body: Option<&'static str>,
    kind: Kind,
    /// The expected status per column of `kind`, in the order its doc comment gives.
    expect: &'static [u16],
    /// Extra request headers (e.g. a chunk's SHA-256).
    headers: &'static [(&'static str, &'static str)],
}

const fn row(
    method: Method,
    path: &'static str,
    body: Option<&'static str>,
    kind: Kind,
    expect: &'static [u16],
) -> Row {
    Row {
        method,
        path,
        body,
        kind,
        expect,
        headers: &[],
    }
}

/// A [`row`] whose requests carry `headers`.
const fn row_with(
    headers: &'static [(&'static str, &'static str)],
    method: Method,
    path: &'static str,
    body: Option<&'static str>,
    kind: Kind,
    expect: &'static [u16],
) -> Row {
    Row {
        method,
        path,
        body,
        kind,
        expect,
        headers,
    }
}

use Kind::{Agent, FreshPeople, Media, Metrics, People, Worker};
const GET: Method = Method::GET;
const POST: Method = Method::POST;
const PUT: Method = Method::PUT;
const PATCH: Method = Method::PATCH;
const DELETE: Method = Method::DELETE;
const HEAD: Method = Method::HEAD;
const OPTIONS: Method = Method::OPTIONS;

const NEW_COURSE: &str = r#"{"code": "MTX100", "title": "Matrix Studies", "term": "2026 Autumn"}"#;
const COURSE_PATCH: &str = r#"{"title": "Introduction to Lecture Capture"}"#;
const ENROL: &str = r#"{"role": "student"}"#;
const NEW_LECTURE: &str = r#"{"title": "Planned by the matrix"}"#;
const LECTURE_PATCH: &str = r#"{"trim_in": null}"#;
const INSTITUTE_PATCH: &str = r#"{"open_signup": false}"#;
const NEW_ROOM: &str = r#"{"name": "Matrix Room"}"#;
const ROOM_PATCH: &str = r#"{"default_course_id": null}"#;
const NEW_AGENT: &str = r#"{"name": "matrix-box", "room_id": "{room}"}"#;
const AGENT_PATCH: &str = r#"{"name": "demo-hall-box"}"#;
const NEW_SCHEDULE: &str = r#"{"course_id": "{course}", "room_id": "{scratch_room}",
    "title": "Matrix lecture", "first_start": "2031-01-07T10:00:00", "timezone": "Europe/Berlin",
    "rrule": "FREQ=WEEKLY;COUNT=10", "duration_minutes": 90}"#;
const SCHEDULE_PATCH: &str = r#"{"title": "Lecture Capture, Mondays"}"#;
const NEW_USER: &str =
    r#"{"email": "matrix@demo.lectern.test", "name": "Max Matrix", "role": "student"}"#;
const ME_PATCH: &str = r#"{"name": "Matrix Person"}"#;
const EMPTY_POLICY: &str = r#"{"body": "  "}"#;
const ACCEPT_POLICY: &str = r#"{"version": 1}"#;
const PROGRESS: &str = r#"{"view": "matrix-view", "position_seconds": 1.5, "watched_seconds": 1.5, "watched": [[0, 1.5]]}"#;
const PREFERENCES: &str = r#"{"research_opt_out": false}"#;
const UNDER_13: &str = r#"{"age_band": "under_13"}"#;
const CONSENT: &str = r#"{"guardian_name": "Gina Guardian", "relation": "mother"}"#;
const WRONG_PASSWORD: &str = r#"{"password": "not-the-password"}"#;
const OUTSIDER_PATCH: &str = r#"{"name": "Olle Outsider"}"#;
const FOREIGN_STUDENT_PATCH: &str = r#"{"name": "Oona Student"}"#;
const ACTIVATE: &str = r#"{"token": "not-a-token", "password": "zebra lantern quietly"}"#;
const SIGNUP_CLOSED: &str = r#"{"institute_id": "{institute}", "email": "signup@demo.lectern.test",
    "name": "Sid Signup", "password": "zebra lantern quietly"}"#;
const SIGNUP_OPEN: &str = r#"{"institute_id": "{foreign_institute}", "email": "signup@other.lectern.test",
    "name": "Sid Signup", "password": "zebra lantern quietly"}"#;

const LOGIN: &str = r#"{"email": "student@demo.lectern.test", "password": "lectern-demo"}"#;
const BAD_LOGIN: &str = r#"{"email": "student@demo.lectern.test", "password": "not-it"}"#;
const TRACKS: &str = r#"{"tracks": ["presenter"]}"#;
const STOP: &str = r#"{"recorded_seconds": 1.0}"#;
const AGENT_HEARTBEAT: &str =
    r#"{"state": "idle", "version": "0.1.0", "health": {"disk_free_bytes": 1}}"#;
const REGISTER: &str = r#"{"srt_host": "127.0.0.1", "srt_ports": [9000, 9009]}"#;
const RENDITION: &str = r#"{"track": "presenter", "rung": "360p", "width": 640, "height": 360,
    "bandwidth": 800000, "codecs": "avc1.64001e", "frame_rate": 30.0}"#;
const THUMBNAILS: &str = r#"{"track": "presenter", "poster": true, "sprites": 1, "chapters": 0}"#;
const SEGMENT: &str = r#"{"track": "presenter", "rung": "360p", "sequence": 0, "duration": 2.0,
    "program_date_time": "2026-11-24T09:00:00Z", "discontinuity": false, "bytes": 10}"#;
const FINISH: &str = "{}";
const JOB_HEARTBEAT: &str = r#"{"progress": 0.4}"#;
const COMPLETE: &str = r#"{"renditions": [{"track": "presenter", "rung": "360p", "width": 640,
    "height": 360, "bandwidth": 800000, "codecs": "avc1.64001e", "frame_rate": 30.0}],
    "segments": [{"track": "presenter", "rung": "360p", "sequence": 0, "duration": 2.0,
    "program_date_time": "2026-11-24T09:00:00Z", "discontinuity": false, "bytes": 10}]}"#;
const FAIL: &str = r#"{"error": "The uploaded recording could not be read."}"#;
/// Tus requests: every one says the protocol version; a creation the file's length; a PATCH
/// (its body the 7 bytes of `CHUNK`) where its bytes start.
const TUS: &[(&str, &str)] = &[("tus-resumable", "1.0.0")];
const TUS_CREATE: &[(&str, &str)] = &[("tus-resumable", "1.0.0"), ("upload-length", "10")];
const TUS_PATCH: &[(&str, &str)] = &[
    ("tus-resumable", "1.0.0"),
    ("content-type", "application/offset+octet-stream"),
    ("upload-offset", "0"),
];
/// A raw chunk's body: the JSON string `"chunk"` is sent as the 7 bytes `"chunk"`.
const CHUNK: &str = r#""chunk""#;
const CHUNK_HEADERS: &[(&str, &str)] = &[
    (
        "x-lectern-sha256",
        "6977fca547351662878fb6c8dbcca1f0d99a67ac5225377fc62c704875fce24f",
    ),
    ("x-lectern-chunk-start", "2026-11-24T09:00:00Z"),
    ("x-lectern-chunk-duration-ns", "10000000000"),
];

#[rustfmt::skip]
const MATRIX: &[Row] = &[
    // People                                                          anon enr  une  fst  ins  oin  adm  fad
    row(POST, "/api/v1/auth/login", Some(LOGIN), People,            &[200, 200, 200, 200, 200, 200, 200, 200]),
    row(POST, "/api/v1/auth/login", Some(BAD_LOGIN), People,        &[401, 401, 401, 401, 401, 401, 401, 401]),
    row(POST, "/api/v1/auth/logout", None, FreshPeople,             &[401, 204, 204, 204, 204, 204, 204, 204]),
    row(GET, "/api/v1/me", None, People,                            &[401, 200, 200, 200, 200, 200, 200, 200]),
    row(PATCH, "/api/v1/me", Some(ME_PATCH), People,                &[401, 200, 200, 200, 200, 200, 200, 200]),
    row(POST, "/api/v1/me/export", None, People,                    &[401, 201, 201, 201, 201, 201, 201, 201]),
    // {token}: an export link of the enrolled student's.
    row(GET, "/api/v1/me/export/{token}", None, People,             &[401, 200, 404, 404, 404, 404, 404, 404]),
    row(POST, "/api/v1/me/erasure", Some(WRONG_PASSWORD), People,   &[401, 401, 401, 401, 401, 401, 401, 401]),
    row(POST, "/api/v1/users/{missing}/erasure", None, People,      &[401, 404, 404, 404, 404, 404, 404, 404]),
    // No policy is published here (it would hold back every playback below): an empty text
    // shows who may publish without publishing.
    row(PUT, "/api/v1/institute/privacy-policy", Some(EMPTY_POLICY), People, &[401, 404, 404, 404, 404, 404, 400, 400]),
    row(GET, "/api/v1/privacy-policy", None, People,                &[401, 404, 404, 404, 404, 404, 404, 404]),
    row(POST, "/api/v1/me/policy-acceptance", Some(ACCEPT_POLICY), People, &[401, 409, 409, 409, 409, 409, 409, 409]),
    row(GET, "/api/v1/courses", None, People,                       &[401, 200, 200, 200, 200, 200, 200, 200]),
    row(GET, "/api/v1/courses/{course}/lectures", None, People,     &[401, 200, 404, 404, 200, 404, 200, 404]),
    row(GET, "/api/v1/courses/{other_course}/lectures", None, People, &[401, 404, 404, 404, 404, 200, 200, 404]),
    row(GET, "/api/v1/courses/{foreign_course}/lectures", None, People, &[401, 404, 404, 200, 404, 404, 404, 200]),
    row(GET, "/api/v1/courses/{missing}/lectures", None, People,    &[401, 404, 404, 404, 404, 404, 404, 404]),
    row(GET, "/api/v1/lectures/{lecture}", None, People,            &[401, 200, 404, 404, 200, 404, 200, 404]),
    row(GET, "/api/v1/lectures/{foreign_lecture}", None, People,    &[401, 404, 404, 200, 404, 404, 404, 200]),
    row(GET, "/api/v1/lectures/{missing}", None, People,            &[401, 404, 404, 404, 404, 404, 404, 404]),
    row(GET, "/api/v1/lectures/{lecture}/playback", None, People,   &[401, 200, 404, 404, 200, 404, 200, 404]),
    row(GET, "/api/v1/lectures/{foreign_lecture}/playback", None, People, &[401, 404, 404, 200, 404, 404, 404, 200]),
    row(GET, "/api/v1/lectures/{missing}/playback", None, People,   &[401, 404, 404, 404, 404, 404, 404, 404]),
    row(GET, "/api/v1/lectures/{lecture}/jobs", None, People,       &[401, 404, 404, 404, 200, 404, 200, 404]),
    row(GET, "/api/v1/lectures/{foreign_lecture}/jobs", None, People, &[401, 404, 404, 404, 404, 404, 404, 200]),
    row(GET, "/api/v1/lectures/{missing}/jobs", None, People,       &[401, 404, 404, 404, 404, 404, 404, 404]),
    row(GET, "/api/v1/courses/{course}", None, People,              &[401, 200, 404, 404, 200, 404, 200, 404]),
    row(GET, "/api/v1/courses/{foreign_course}", None, People,      &[401, 404, 404, 200, 404, 404, 404, 200]),
    row(GET, "/api/v1/courses/{missing}", None, People,             &[401, 404, 404, 404, 404, 404, 404, 404]),
    row(GET, "/api/v1/courses/{course}/enrolments", None, People,   &[401, 404, 404, 404, 200, 404, 200, 404]),
    row(GET, "/api/v1/courses/{foreign_course}/enrolments", None, People, &[401, 404, 404, 404, 404, 404, 404, 200]),
    row(GET, "/api/v1/institute", None, People,                     &[401, 404, 404, 404, 404, 404, 200, 200]),
    row(GET, "/api/v1/rooms", None, People,                         &[401, 404, 404, 404, 404, 404, 200, 200]),
    row(GET, "/api/v1/rooms/{room}", None, People,                  &[401, 404, 404, 404, 404, 404, 200, 404]),
    row(GET, "/api/v1/rooms/{missing}", None, People,               &[401, 404, 404, 404, 404, 404, 404, 404]),
    row(GET, "/api/v1/agents", None, People,                        &[401, 404, 404, 404, 404, 404, 200, 200]),
    row(GET, "/api/v1/agents/{agent}", None, People,                &[401, 404, 404, 404, 404, 404, 200, 404]),
    row(GET, "/api/v1/agents/{missing}", None, People,              &[401, 404, 404, 404, 404, 404, 404, 404]),
    row(GET, "/api/v1/audit", None, People,                         &[401, 404, 404, 404, 404, 404, 200, 200]),
    row(POST, "/api/v1/imports/courses", Some("null"), People,      &[401, 404, 404, 404, 404, 404, 400, 400]),
    row(POST, "/api/v1/imports/enrolments", Some("null"), People,   &[401, 404, 404, 404, 404, 404, 400, 400]),
    // A JSON body is not multipart: 415 tells the course's managers, 404 everyone else.
    row(POST, "/api/v1/courses/{course}/uploads", Some("null"), People, &[401, 404, 404, 404, 415, 404, 415, 404]),
    row(POST, "/api/v1/courses/{foreign_course}/uploads", Some("null"), People, &[401, 404, 404, 404, 404, 404, 404, 415]),
    row(POST, "/api/v1/courses/{missing}/uploads", Some("null"), People, &[401, 404, 404, 404, 404, 404, 404, 404]),
    // Resumable uploads: only the person who began one reaches it (the instructor here);
    // even the institute's admin, who may upload to the course, gets 404.
    row_with(TUS, OPTIONS, "/api/v1/courses/{course}/uploads/resumable", None, People, &[401, 404, 404, 404, 204, 404, 204, 404]),
    row_with(TUS, OPTIONS, "/api/v1/courses/{foreign_course}/uploads/resumable", None, People, &[401, 404, 404, 404, 404, 404, 404, 204]),
    row_with(TUS, HEAD, "/api/v1/uploads/{upload}", None, People,    &[401, 404, 404, 404, 200, 404, 404, 404]),
    row_with(TUS, HEAD, "/api/v1/uploads/{missing}", None, People,   &[401, 404, 404, 404, 404, 404, 404, 404]),
    row(GET, "/api/v1/uploads/{upload}", None, People,               &[401, 404, 404, 404, 200, 404, 404, 404]),
    row(GET, "/api/v1/uploads/{missing}", None, People,              &[401, 404, 404, 404, 404, 404, 404, 404]),
    row(GET, "/api/v1/courses/{course}/schedules", None, People,    &[401, 404, 404, 404, 200, 404, 200, 404]),
    row(GET, "/api/v1/courses/{foreign_course}/schedules", None, People, &[401, 404, 404, 404, 404, 404, 404, 200]),
    row(GET, "/api/v1/courses/{missing}/schedules", None, People,   &[401, 404, 404, 404, 404, 404, 404, 404]),
    row(GET, "/api/v1/schedules/{schedule}", None, People,          &[401, 404, 404, 404, 200, 404, 200, 404]),
    row(GET, "/api/v1/schedules/{missing}", None, People,           &[401, 404, 404, 404, 404, 404, 404, 404]),
    row(GET, "/api/v1/users", None, People,                         &[401, 404, 404, 404, 404, 404, 200, 200]),
    row(GET, "/api/v1/users/{member}", None, People,                &[401, 404, 404, 404, 404, 404, 200, 404]),
    row(GET, "/api/v1/users/{foreign_member}", None, People,        &[401, 404, 404, 404, 404, 404, 404, 200]),
    row(GET, "/api/v1/users/{missing}", None, People,               &[401, 404, 404, 404, 404, 404, 404, 404]),
    // Viewing: one's own place in a lecture one may see; aggregates for the course's staff,
    // who hear that fewer than five students watched (409), while to everyone else they do
    // not exist.
    row(GET, "/api/v1/lectures/{lecture}/progress", None, People,   &[401, 200, 404, 404, 200, 404, 200, 404]),
    row(GET, "/api/v1/lectures/{foreign_lecture}/progress", None, People, &[401, 404, 404, 200, 404, 404, 404, 200]),
    row(GET, "/api/v1/lectures/{missing}/progress", None, People,   &[401, 404, 404, 404, 404, 404, 404, 404]),
    row(GET, "/api/v1/lectures/{lecture}/analytics", None, People,  &[401, 404, 404, 404, 409, 404, 409, 404]),
    row(GET, "/api/v1/lectures/{foreign_lecture}/analytics", None, People, &[401, 404, 404, 404, 404, 404, 404, 409]),
    row(GET, "/api/v1/lectures/{missing}/analytics", None, People,  &[401, 404, 404, 404, 404, 404, 404, 404]),
    row(GET, "/api/v1/me/preferences", None, People,                &[401, 200, 200, 200, 200, 200, 200, 200]),
    // A student's record: for their course's staff and their institute's admins only; not
    // for the student themselves (they have /me), nor for anyone who is not its student.
    row(GET, "/api/v1/courses/{course}/students/{student}", None, People, &[401, 404, 404, 404, 200, 404, 200, 404]),
    row(GET, "/api/v1/courses/{other_course}/students/{student}", None, People, &[401, 404, 404, 404, 404, 404, 404, 404]),
    row(GET, "/api/v1/courses/{course}/students/{outsider}", None, People, &[401, 404, 404, 404, 404, 404, 404, 404]),
    row(GET, "/api/v1/courses/{foreign_course}/students/{foreign_student}", None, People, &[401, 404, 404, 404, 404, 404, 404, 200]),
    row(GET, "/api/v1/no-such-endpoint", None, People,              &[404, 404, 404, 404, 404, 404, 404, 404]),
    row(GET, "/api/v1/openapi.json", None, People,                 &[200, 200, 200, 200, 200, 200, 200, 200]),
    row(GET, "/healthz", None, People,                              &[200, 200, 200, 200, 200, 200, 200, 200]),
    row(GET, "/readyz", None, People,                               &[200, 200, 200, 200, 200, 200, 200, 200]),
    // People, changing the world (last, so the rows above see it as built)
    row(POST, "/api/v1/courses", Some(NEW_COURSE), People,          &[401, 404, 404, 404, 404, 404, 201, 201]),
    row(PATCH, "/api/v1/courses/{course}", Some(COURSE_PATCH), People, &[401, 404, 404, 404, 200, 404, 200, 404]),
    row(PATCH, "/api/v1/courses/{missing}", Some(COURSE_PATCH), People, &[401, 404, 404, 404, 404, 404, 404, 404]),
    row(PUT, "/api/v1/courses/{course}/enrolments/{outsider}", Some(ENROL), People, &[401, 404, 404, 404, 204, 404, 204, 404]),
    row(PUT, "/api/v1/courses/{foreign_course}/enrolments/{outsider}", Some(ENROL), People, &[401, 404, 404, 404, 404, 404, 404, 404]),
    row(DELETE, "/api/v1/courses/{course}/enrolments/{outsider}", None, People, &[401, 404, 404, 404, 204, 404, 404, 404]),
    row(POST, "/api/v1/courses/{course}/lectures", Some(NEW_LECTURE), People, &[401, 404, 404, 404, 201, 404, 201, 404]),
    row(POST, "/api/v1/courses/{foreign_course}/lectures", Some(NEW_LECTURE), People, &[401, 404, 404, 404, 404, 404, 404, 201]),
    row(PATCH, "/api/v1/lectures/{lecture}", Some(LECTURE_PATCH), People, &[401, 404, 404, 404, 200, 404, 200, 404]),
    row(PATCH, "/api/v1/lectures/{foreign_lecture}", Some(LECTURE_PATCH), People, &[401, 404, 404, 404, 404, 404, 404, 200]),
    row(POST, "/api/v1/lectures/{planned}/unpublish", None, People, &[401, 404, 404, 404, 200, 404, 200, 404]),
    row(POST, "/api/v1/lectures/{planned}/publish", None, People,   &[401, 404, 404, 404, 200, 404, 200, 404]),
    row(POST, "/api/v1/lectures/{missing}/publish", None, People,   &[401, 404, 404, 404, 404, 404, 404, 404]),
    row_with(TUS_CREATE, POST, "/api/v1/courses/{course}/uploads/resumable", None, People, &[401, 404, 404, 404, 201, 404, 201, 404]),
    row_with(TUS_CREATE, POST, "/api/v1/courses/{foreign_course}/uploads/resumable", None, People, &[401, 404, 404, 404, 404, 404, 404, 201]),
    row_with(TUS_CREATE, POST, "/api/v1/courses/{missing}/uploads/resumable", None, People, &[401, 404, 404, 404, 404, 404, 404, 404]),
    row_with(TUS_PATCH, PATCH, "/api/v1/uploads/{upload}", Some(CHUNK), People, &[401, 404, 404, 404, 204, 404, 404, 404]),
    row_with(TUS_PATCH, PATCH, "/api/v1/uploads/{missing}", Some(CHUNK), People, &[401, 404, 404, 404, 404, 404, 404, 404]),
    row_with(TUS, DELETE, "/api/v1/uploads/{upload}", None, People, &[401, 404, 404, 404, 204, 404, 404, 404]),
    row_with(TUS, DELETE, "/api/v1/uploads/{missing}", None, People, &[401, 404, 404, 404, 404, 404, 404, 404]),
    row(PUT, "/api/v1/lectures/{lecture}/progress", Some(PROGRESS), People, &[401, 204, 404, 404, 204, 404, 204, 404]),
    row(PUT, "/api/v1/lectures/{foreign_lecture}/progress", Some(PROGRESS), People, &[401, 404, 404, 204, 404, 404, 404, 204]),
    row(PUT, "/api/v1/lectures/{planned}/progress", Some(PROGRESS), People, &[401, 404, 404, 404, 404, 404, 404, 404]),
    row(PUT, "/api/v1/lectures/{missing}/progress", Some(PROGRESS), People, &[401, 404, 404, 404, 404, 404, 404, 404]),
    row(PUT, "/api/v1/me/preferences", Some(PREFERENCES), People,   &[401, 200, 200, 200, 200, 200, 200, 200]),
    row(DELETE, "/api/v1/lectures/{scratch}", None, People,         &[401, 404, 404, 404, 409, 404, 409, 404]),
    row(DELETE, "/api/v1/lectures/{planned}", None, People,         &[401, 404, 404, 404, 204, 404, 404, 404]),
    // Accounts (sign-up before the institute row below closes it again)
    row(POST, "/api/v1/auth/activate", Some(ACTIVATE), People,      &[400, 400, 400, 400, 400, 400, 400, 400]),
    row(POST, "/api/v1/auth/signup", Some(SIGNUP_CLOSED), People,   &[404, 404, 404, 404, 404, 404, 404, 404]),
    row(POST, "/api/v1/auth/signup", Some(SIGNUP_OPEN), People,     &[201, 409, 409, 409, 409, 409, 409, 409]),
    row(POST, "/api/v1/users", Some(NEW_USER), People,              &[401, 404, 404, 404, 404, 404, 201, 409]),
    row(PATCH, "/api/v1/users/{member}", Some(OUTSIDER_PATCH), People, &[401, 404, 404, 404, 404, 404, 200, 404]),
    row(PATCH, "/api/v1/users/{foreign_member}", Some(FOREIGN_STUDENT_PATCH), People, &[401, 404, 404, 404, 404, 404, 404, 200]),
    row(POST, "/api/v1/users/{invited}/invitation", None, People,   &[401, 404, 404, 404, 404, 404, 200, 404]),
    // Guardians' consents: the institute's admins record them for accounts under 13 only.
    row(POST, "/api/v1/users/{member}/guardian-consent", Some(CONSENT), People, &[401, 404, 404, 404, 404, 404, 409, 404]),
    row(PATCH, "/api/v1/users/{invited}", Some(UNDER_13), People,   &[401, 404, 404, 404, 404, 404, 200, 404]),
    row(POST, "/api/v1/users/{invited}/guardian-consent", Some(CONSENT), People, &[401, 404, 404, 404, 404, 404, 201, 404]),
    row(POST, "/api/v1/users/{missing}/guardian-consent", Some(CONSENT), People, &[401, 404, 404, 404, 404, 404, 404, 404]),
    row(DELETE, "/api/v1/users/{invited}/guardian-consent", None, People, &[401, 404, 404, 404, 404, 404, 204, 404]),
    row(DELETE, "/api/v1/users/{invited}/guardian-consent", None, People, &[401, 404, 404, 404, 404, 404, 404, 404]),
    row(POST, "/api/v1/users/{member}/invitation", None, People,    &[401, 404, 404, 404, 404, 404, 409, 404]),
    row(DELETE, "/api/v1/users/{member}", None, People,             &[401, 404, 404, 404, 404, 404, 409, 404]),
    row(DELETE, "/api/v1/users/{invited}", None, People,            &[401, 404, 404, 404, 404, 404, 204, 404]),
    row(PATCH, "/api/v1/institute", Some(INSTITUTE_PATCH), People,  &[401, 404, 404, 404, 404, 404, 200, 200]),
    row(POST, "/api/v1/rooms", Some(NEW_ROOM), People,              &[401, 404, 404, 404, 404, 404, 201, 201]),
    row(PATCH, "/api/v1/rooms/{scratch_room}", Some(ROOM_PATCH), People, &[401, 404, 404, 404, 404, 404, 200, 404]),
    row(POST, "/api/v1/agents", Some(NEW_AGENT), People,            &[401, 404, 404, 404, 404, 404, 201, 404]),
    row(PATCH, "/api/v1/agents/{agent}", Some(AGENT_PATCH), People, &[401, 404, 404, 404, 404, 404, 200, 404]),
    row(POST, "/api/v1/agents/{scratch_agent}/token", None, People, &[401, 404, 404, 404, 404, 404, 200, 404]),
    row(POST, "/api/v1/schedules", Some(NEW_SCHEDULE), People,      &[401, 404, 404, 404, 404, 404, 201, 404]),
    row(PATCH, "/api/v1/schedules/{schedule}", Some(SCHEDULE_PATCH), People, &[401, 404, 404, 404, 404, 404, 200, 404]),
    row(PATCH, "/api/v1/schedules/{missing}", Some(SCHEDULE_PATCH), People, &[401, 404, 404, 404, 404, 404, 404, 404]),
    row(DELETE, "/api/v1/schedules/{schedule}", None, People,       &[401, 404, 404, 404, 404, 404, 204, 404]),
    row(DELETE, "/api/v1/rooms/{scratch_room}", None, People,       &[401, 404, 404, 404, 404, 404, 409, 404]),
    row(DELETE, "/api/v1/agents/{scratch_agent}", None, People,     &[401, 404, 404, 404, 404, 404, 204, 404]),
    row(DELETE, "/api/v1/rooms/{scratch_room}", None, People,       &[401, 404, 404, 404, 404, 404, 204, 404]),
    row(DELETE, "/api/v1/courses/{scratch_course}", None, People,   &[401, 404, 404, 404, 404, 404, 204, 404]),
    row(DELETE, "/api/v1/courses/{course}", None, People,           &[401, 404, 404, 404, 404, 404, 409, 404]),
    // Operators                                                       none wrng own  wrkr cook
    row(GET, "/metrics", None, Metrics,                             &[401, 401, 200, 401, 401]),
    // Capture boxes                                                     none wrng own  othr wrkr cook
    row(POST, "/api/v1/agent/recordings", Some(TRACKS), Agent,         &[401, 401, 200, 200, 401, 401]),
    row(POST, "/api/v1/agent/recordings/{scratch}/stop", Some(STOP), Agent, &[401, 401, 204, 404, 401, 401]),
    row(POST, "/api/v1/agent/recordings/{missing}/stop", Some(STOP), Agent, &[401, 401, 404, 404, 401, 401]),
    row(POST, "/api/v1/agent/heartbeat", Some(AGENT_HEARTBEAT), Agent,       &[401, 401, 204, 204, 401, 401]),
    row(GET, "/api/v1/agent/schedule", None, Agent,                     &[401, 401, 200, 200, 401, 401]),
    row(GET, "/api/v1/agent/recordings/{scratch}/chunks", None, Agent,  &[401, 401, 200, 404, 401, 401]),
    row(GET, "/api/v1/agent/recordings/{missing}/chunks", None, Agent,  &[401, 401, 404, 404, 401, 401]),
    row_with(CHUNK_HEADERS, PUT, "/api/v1/agent/recordings/{scratch}/chunks/{track}/{index}", Some(CHUNK), Agent, &[401, 401, 201, 404, 401, 401]),
    row_with(CHUNK_HEADERS, PUT, "/api/v1/agent/recordings/{missing}/chunks/{track}/{index}", Some(CHUNK), Agent, &[401, 401, 404, 404, 401, 401]),
    // Workers                                                             none wrng own  othr box  cook
    row(POST, "/api/v1/worker/register", Some(REGISTER), Worker,         &[401, 401, 204, 204, 401, 401]),
    row(GET,  "/api/v1/worker/sessions", None, Worker,                   &[401, 401, 200, 200, 401, 401]),
    // The demo worker runs the scratch lecture's live session; to another worker it does not exist.
    row(POST, "/api/v1/worker/lectures/{scratch}/renditions", Some(RENDITION), Worker, &[401, 401, 204, 404, 401, 401]),
    row(POST, "/api/v1/worker/lectures/{scratch}/segments", Some(SEGMENT), Worker, &[401, 401, 204, 404, 401, 401]),
    row(POST, "/api/v1/worker/lectures/{scratch}/thumbnails", Some(THUMBNAILS), Worker, &[401, 401, 204, 404, 401, 401]),
    row(POST, "/api/v1/worker/lectures/{scratch}/finish", Some(FINISH), Worker, &[401, 401, 204, 404, 401, 401]),
    row(POST, "/api/v1/worker/lectures/{missing}/renditions", Some(RENDITION), Worker, &[401, 401, 404, 404, 401, 401]),
    row(POST, "/api/v1/worker/lectures/{missing}/segments", Some(SEGMENT), Worker, &[401, 401, 404, 404, 401, 401]),
    row(POST, "/api/v1/worker/lectures/{missing}/thumbnails", Some(THUMBNAILS), Worker, &[401, 401, 404, 404, 401, 401]),
    row(POST, "/api/v1/worker/lectures/{missing}/finish", Some(FINISH), Worker, &[401, 401, 404, 404, 401, 401]),
    // A worker acts only on the jobs it holds: another worker's is 409, like a lost lease.
    row(POST, "/api/v1/worker/jobs/{held_job}/heartbeat", Some(JOB_HEARTBEAT), Worker, &[401, 401, 204, 409, 401, 401]),
    row(POST, "/api/v1/worker/jobs/{missing}/heartbeat", Some(JOB_HEARTBEAT), Worker, &[401, 401, 404, 404, 401, 401]),
    row(POST, "/api/v1/worker/jobs/{held_job}/complete", Some(COMPLETE), Worker, &[401, 401, 204, 409, 401, 401]),
    row(POST, "/api/v1/worker/jobs/{missing}/complete", Some(COMPLETE), Worker, &[401, 401, 404, 404, 401, 401]),
    row(POST, "/api/v1/worker/jobs/{retry_job}/fail", Some(FAIL), Worker, &[401, 401, 204, 409, 401, 401]),
    row(POST, "/api/v1/worker/jobs/{missing}/fail", Some(FAIL), Worker, &[401, 401, 404, 404, 401, 401]),
    // The failed job is queued again: the worker gets it back, the other finds nothing.
    row(POST, "/api/v1/worker/jobs/claim", None, Worker,                &[401, 401, 200, 204, 401, 401]),
    // Media                                                          none own  othr expd tamp cook
    row(GET, "/media/{lecture}/master.m3u8", None, Media,            &[404, 200, 404, 404, 404, 404]),
    row(GET, "/media/{lecture}/presenter/720p/index.m3u8", None, Media, &[404, 200, 404, 404, 404, 404]),
    row(GET, "/media/{lecture}/presenter/720p/0.ts", None, Media,    &[404, 200, 404, 404, 404, 404]),
    row(GET, "/media/{lecture}/presenter/720p/1.ts", None, Media,    &[404, 404, 404, 404, 404, 404]),
    row(GET, "/media/{lecture}/presenter/720p/..%2F..%2Fv1.ts", None, Media, &[404, 404, 404, 404, 404, 404]),
    // Last, as it erases the foreign student, whose session the rows above use.
    row(POST, "/api/v1/users/{foreign_member}/erasure", None, People, &[401, 404, 404, 404, 404, 404, 404, 200]),
    row(GET, "/media/{lecture}/presenter/poster.jpg", None, Media,   &[404, 200, 404, 404, 404, 404]),
    row(GET, "/media/{lecture}/presenter/thumbnails.vtt", None, Media, &[404, 200, 404, 404, 404, 404]),
    row(GET, "/media/{lecture}/presenter/sprite-0.jpg", None, Media, &[404, 200, 404, 404, 404, 404]),
    row(GET, "/media/{lecture}/presenter/chapters.vtt", None, Media, &[404, 200, 404, 404, 404, 404]),
    // Only what the worker reported: one sheet, and no pictures of another track.
    row(GET, "/media/{lecture}/presenter/sprite-1.jpg", None, Media, &[404, 404, 404, 404, 404, 404]),
    row(GET, "/media/{lecture}/screen/poster.jpg", None, Media,      &[404, 404, 404, 404, 404, 404]),
];

/// The `/api/v1` operations in [`MATRIX`], as (method, path template), e.g.
/// `("get", "/api/v1/lectures/{id}")`: what the OpenAPI document must describe.
pub fn api_operations() -> Vec<(String, String)> {
    let mut operations: Vec<(String, String)> = MATRIX
        .iter()
        .filter(|row| {
            row.path.starts_with("/api/v1/")
                && !matches!(
                    row.path,
                    "/api/v1/no-such-endpoint" | "/api/v1/openapi.json"
                )
        })
        .map(|row| {
            let template = row
                .path
                .split('/')
                // Ids read `{id}` as in the OpenAPI document; named parameters keep their name.
                .map(|part| match part {
                    "{track}" | "{index}" | "{token}" => part,
                    "{outsider}" | "{student}" | "{foreign_student}" => "{user_id}",
                    id if id.starts_with('{') => "{id}",
                    plain => plain,
                })
                .collect::<Vec<_>>()
                .join("/");
            (row.method.as_str().to_ascii_lowercase(), template)
        })
        .collect();
    operations.sort();
    operations.dedup();
    operations
}

fn fill(text: &str, world: &World) -> String {
    text.replace("{course}", &world.course)
        .replace("{other_course}", &world.other_course)
        .replace("{foreign_course}", &world.foreign_course)
        .replace("{lecture}", &world.lecture)
        .replace("{foreign_lecture}", &world.foreign_lecture)
        .replace("{scratch}", &world.scratch_lecture)
        .replace("{planned}", &world.planned_lecture)
        .replace("{scratch_room}", &world.scratch_room)
        .replace("{room}", &world.room)
        .replace("{scratch_agent}", &world.scratch_agent)
        .replace("{agent}", &world.agent)
        .replace("{scratch_course}", &world.scratch_course)
        .replace("{outsider}", &world.outsider)
        .replace("{foreign_student}", &world.foreign_student)
        .replace("{student}", &world.student)
        .replace("{schedule}", &world.schedule)
        .replace("{held_job}", &world.held_job)
        .replace("{retry_job}", &world.retry_job)
        .replace("{member}", &world.outsider)
        .replace("{foreign_member}", &world.foreign_student)
        .replace("{invited}", &world.invited)
        .replace("{foreign_institute}", &world.foreign_institute)
        .replace("{institute}", &world.institute)
        .replace("{upload}", &world.upload)
        .replace("{missing}", "00000000-0000-4000-8000-000000000000")
        .replace("{track}", "presenter")
        .replace("{index}", "0")
}

/// The signed-in sessions of [`PEOPLE`] (empty for anonymous).
async fn sessions(app: &TestApp) -> Vec<String> {
    let mut cookies = Vec::new();
    for email in PEOPLE {
        cookies.push(match email {
            "" => String::new(),
            email => app.login(email).await,
        });
    }
    cookies
}

fn caller<'a>(cookie: &'a str, bearer: Option<&'a str>) -> As<'a> {
    match (cookie, bearer) {
        (_, Some(token)) => As::Bearer(token),
        ("", None) => As::Nobody,
        (cookie, None) => As::Cookie(cookie),
    }
}

async fn every_endpoint_answers_every_caller_as_the_access_rules_say(db: Db) {
    let app = TestApp::spawn_with(db, |config| {
        config.metrics_token = Some(METRICS_TOKEN.into());
        // The BAD_LOGIN row fails once per column on one account, and FreshPeople then
        // signs that account in: room for all of them. Throttling has its own tests
        // (`login_throttle.rs`), which show it refuses more, never less.
        config.login_throttle.max_failures_per_account = 100;
    })
    .await;
    let world = build_world(&app).await;
    let cookies = sessions(&app).await;
    let admin = cookies[6].as_str();
    let now = u64::try_from(Utc::now().timestamp()).unwrap();
    let signer = app.state.signer();
    let own = signer.sign(&world.lecture, now + 600);
    let mut tampered = own.clone();
    let last = if tampered.pop() == Some('A') {
        'B'
    } else {
        'A'
    };
    tampered.push(last);
    let media_tokens = [
        None,
        Some(own),
        Some(signer.sign(&world.foreign_lecture, now + 600)),
        Some(signer.sign(&world.lecture, now - 1)),
        Some(tampered),
        None,
    ];

    let student = app.get("/api/v1/me", As::Cookie(&cookies[1])).await.json();
    let student_export = signer.sign(
        &format!("export:{}", student["id"].as_str().unwrap()),
        now + 600,
    );

    let mut wrong = Vec::new();
    for row in MATRIX {
        let (names, columns): (&[&str], usize) = match row.kind {
            People | FreshPeople => (&PEOPLE_NAMES, 8),
            Agent => (&AGENT_NAMES, 6),
            Worker => (&WORKER_NAMES, 6),
            Media => (&MEDIA_NAMES, 6),
            Metrics => (&METRICS_NAMES, 5),
        };
        assert_eq!(row.expect.len(), columns, "{} {}", row.method, row.path);
        let path = fill(row.path, &world).replace("{token}", &student_export);
        let body: Option<Value> = row
            .body
            .map(|body| serde_json::from_str(&fill(body, &world)).unwrap());
        for (column, expected) in row.expect.iter().enumerate() {
            let fresh;
            let (cookie, bearer, uri) = match row.kind {
                People => (cookies[column].as_str(), None, path.clone()),
                FreshPeople => {
                    fresh = match PEOPLE[column] {
                        "" => String::new(),
                        email => app.login(email).await,
                    };
                    (fresh.as_str(), None, path.clone())
                }
                Agent | Worker => {
                    let (own, other, other_kind) = match row.kind {
                        Agent => (AGENT_TOKEN, FOREIGN_AGENT_TOKEN, WORKER_TOKEN),
                        _ => (WORKER_TOKEN, OTHER_WORKER_TOKEN, AGENT_TOKEN),
                    };
                    let tokens = [None, Some("wrong-token"), Some(own), Some(other)];
                    match column {
                        4 => ("", Some(other_kind), path.clone()),
                        5 => (admin, None, path.clone()),
                        _ => ("", tokens[column], path.clone()),
                    }
                }
                Metrics => {
                    let tokens = [
                        None,
                        Some("wrong-token"),
                        Some(METRICS_TOKEN),
                        Some(WORKER_TOKEN),
                    ];
                    match column {
                        4 => (admin, None, path.clone()),
                        _ => ("", tokens[column], path.clone()),
                    }
                }
                Media => {
                    let cookie = if column == 5 { cookies[1].as_str() } else { "" };
                    let uri = match &media_tokens[column] {
                        Some(token) => format!("{path}?token={token}"),
                        None => path.clone(),
                    };
                    (cookie, None, uri)
                }
            };
            let answer = app
                .send(
                    row.method.clone(),
                    &uri,
                    caller(cookie, bearer),
                    body.clone(),
                    row.headers,
                )
                .await;
            if answer.status.as_u16() != *expected {
                wrong.push(format!(
                    "{} {} as {}: expected {expected}, got {} {}",
                    row.method,
                    row.path,
                    names[column],
                    answer.status,
                    answer.text()
                ));
            }
            if answer.status == StatusCode::FORBIDDEN {
                wrong.push(format!(
                    "{} {}: 403 tells that it exists",
                    row.method, row.path
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} wrong answers:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// Listings leak through their contents, not their status: who sees which course codes.
async fn course_listings_show_each_caller_only_their_courses(db: Db) {
    let app = TestApp::spawn(db).await;
    build_world(&app).await;
    let expected: [(&str, &[&str]); 8] = [
        (STUDENT, &["LEC101"]),
        (OUTSIDER, &[]),
        (FOREIGN_STUDENT, &["OTH100"]),
        (FOREIGN_INSTRUCTOR, &["OTH100"]),
        (INSTRUCTOR, &["LEC101"]),
        (OTHER_INSTRUCTOR, &["LEC202"]),
        (ADMIN, &["LEC101", "LEC202", "LEC999"]),
        (FOREIGN_ADMIN, &["OTH100"]),
    ];
    for (email, codes) in expected {
        let cookie = app.login(email).await;
        let answer = app.get("/api/v1/courses", As::Cookie(&cookie)).await;
        let seen: Vec<String> = answer
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|course| course["code"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(seen, codes, "{email}");
    }
}

on_both_databases!(
    every_endpoint_answers_every_caller_as_the_access_rules_say,
    course_listings_show_each_caller_only_their_courses,
);
