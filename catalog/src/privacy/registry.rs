//! The personal data registry: every table and column of the catalog's schema, on both
//! databases, with what it holds, why, for how long, and how it is exported and erased.
//!
//! Rules that keep it honest:
//! - Every column of every table the migrations create is listed here, personal or not
//!   (including sqlx's own `_sqlx_migrations`), and nothing else is: the test
//!   `privacy_registry` in `catalog/tests/api/` migrates a fresh SQLite and PostgreSQL
//!   database and fails with the `table.column` to register when they differ
//!   ([`check_schema`]). A column that exists on one database only says so ([`Column::only_on`]).
//! - The classification is typed: a column is personal or not ([`Data`]), and a personal
//!   column must say how it is exported ([`Export`]) and erased ([`Erasure`]); a column that
//!   is not personal has neither. [`inconsistencies`] lists every breach of these rules and a
//!   unit test requires it to be empty.
//! - Retention belongs to the table ([`Table::retention`]): a column never outlives its row;
//!   shortening what one column holds is erasure ([`Erasure::Anonymise`]), not retention.
//! - `docs/privacy.md` carries [`markdown`]'s output between two markers; a unit test fails
//!   when the document and the registry differ (`LECTERN_BLESS=1` rewrites the block).
//!
//! Export and erasure code (issue 7) iterates [`TABLES`] (or [`personal_tables`]): for a
//! user, each table whose [`Subject`] is that user contributes the rows whose subject
//! column holds the user's id, in the export section [`Table::export_section`], each
//! column under its [`Export::Field`] name; erasure applies each column's [`Erasure`].

use std::collections::BTreeSet;
use std::fmt;

use crate::store::DatabaseKind;

/// The file this registry lives in, for messages that ask someone to edit it.
pub const REGISTRY_FILE: &str = "catalog/src/privacy/registry.rs";

/// The document for data protection officers whose table [`markdown`] generates.
pub const DOCUMENT_FILE: &str = "docs/privacy.md";

/// The table sqlx creates to record which migrations ran. It is listed in [`TABLES`] like
/// any other table (it holds no personal data), so the schema test needs no exception.
pub const SQLX_MIGRATIONS_TABLE: &str = "_sqlx_migrations";

/// One table of the catalog's schema.
#[derive(Debug)]
pub struct Table {
    /// The table's name, as in the migrations.
    pub name: &'static str,
    /// What the table is for, in a sentence a data protection officer can read.
    pub purpose: &'static str,
    /// Whose data a row is, if anyone's.
    pub subject: Subject,
    /// How long a row is kept.
    pub retention: Retention,
    /// The section of a user's export that holds this table's rows about them; `None` for a
    /// table that holds no personal data.
    pub export_section: Option<&'static str>,
    /// Every column, in the migrations' order.
    pub columns: &'static [Column],
}

/// Whose data a table's rows are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subject {
    /// No row is about a person (institutes, courses, rooms, media, machines).
    Nobody,
    /// Each row is about the user whose `users.id` is in `column` (a [`Data::PersonKey`]).
    User {
        /// The column holding the user's id.
        column: &'static str,
    },
    /// Rows are found by a hash of something that identifies a person (an email address, a
    /// client address) in `column` (a [`Data::Pseudonym`]), not by a user's id: export and
    /// erasure compute the hash from what they know about the user.
    Hashed {
        /// The column holding the hash.
        column: &'static str,
        /// What is hashed, and which rows can therefore be attributed to an account.
        of: &'static str,
    },
}

impl Subject {
    /// The column that says whose a row is; `None` for [`Subject::Nobody`].
    pub fn column(self) -> Option<&'static str> {
        match self {
            Subject::Nobody => None,
            Subject::User { column } | Subject::Hashed { column, .. } => Some(column),
        }
    }
}

/// One column of a table.
#[derive(Debug)]
pub struct Column {
    /// The column's name, as in the migrations.
    pub name: &'static str,
    /// Whether, and how, the column holds personal data.
    pub data: Data,
    /// What the column is for.
    pub purpose: &'static str,
    /// How it appears in a user's export.
    pub export: Export,
    /// What erasing a user does to it.
    pub erasure: Erasure,
    /// `Some(kind)` for a column that only `kind`'s migrations create; `None`: both.
    pub only_on: Option<DatabaseKind>,
}

/// What kind of data a column holds, as far as people are concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Data {
    /// Not about a person.
    NotPersonal,
    /// The user's id that ties the row to its [`Subject`]. A random UUID: it identifies
    /// nobody alone, but links every row about the same person.
    PersonKey,
    /// A hash of something that identifies the person (an email or client address): it
    /// identifies them to anyone who knows or guesses the input.
    Pseudonym,
    /// Identifies the person directly (name, email address).
    Identifying,
    /// About the person, without identifying them alone (role, enrolments, times).
    AboutPerson,
    /// Derived from the person's secret (a password hash, a session token's hash): personal,
    /// but of use only to check a secret, so never exported.
    Credential,
}

impl Data {
    /// True for every kind but [`Data::NotPersonal`].
    pub fn is_personal(self) -> bool {
        self != Data::NotPersonal
    }

    /// A short description for the document.
    pub fn describe(self) -> &'static str {
        match self {
            Data::NotPersonal => "no",
            Data::PersonKey => "yes: the person's id",
            Data::Pseudonym => "yes: hash of an identifier",
            Data::Identifying => "yes: identifies the person",
            Data::AboutPerson => "yes: about the person",
            Data::Credential => "yes: credential hash",
        }
    }
}

/// How a column appears in a user's export (one JSON document, issue 7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Export {
    /// Not personal data: not part of anyone's export.
    NotPersonal,
    /// Included under this field name in the table's [`Table::export_section`].
    Field(&'static str),
    /// Personal, but left out of the export, for the reason given.
    Withheld(&'static str),
}

impl Export {
    /// A short description for the document; `section` is the table's export section.
    pub fn describe(self, section: Option<&str>) -> String {
        match self {
            Export::NotPersonal => "–".to_owned(),
            Export::Field(name) => format!("`{}.{name}`", section.unwrap_or("?")),
            Export::Withheld(why) => format!("withheld: {why}"),
        }
    }
}

/// What erasing a user does to a column of a row about them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Erasure {
    /// Not personal data: erasure leaves it alone.
    NotPersonal,
    /// The whole row is deleted.
    DeleteRow,
    /// The row stays; the value is overwritten with a fixed one.
    Anonymise(Replacement),
    /// The row stays as it is while a legal obligation requires it; the reason is shown to
    /// the user who asked for erasure.
    LegalHold {
        /// Why it is kept, in words the user is shown.
        reason: &'static str,
    },
}

impl Erasure {
    /// A short description for the document.
    pub fn describe(self) -> String {
        match self {
            Erasure::NotPersonal => "–".to_owned(),
            Erasure::DeleteRow => "row deleted".to_owned(),
            Erasure::Anonymise(replacement) => format!("anonymised to {replacement}"),
            Erasure::LegalHold { reason } => format!("kept under legal hold: {reason}"),
        }
    }
}

/// The fixed value an anonymised column gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Replacement {
    /// SQL `NULL`.
    Null,
    /// This text.
    Text(&'static str),
    /// This boolean.
    Flag(bool),
}

impl fmt::Display for Replacement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Replacement::Null => f.write_str("NULL"),
            Replacement::Text(text) => write!(f, "{text:?}"),
            Replacement::Flag(flag) => write!(f, "{flag}"),
        }
    }
}

/// How long a table's rows are kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retention {
    /// As long as the account exists; the row goes when the account is erased.
    WhileAccountExists,
    /// Until the session ends: at logout, or [`crate::auth::SESSION_TTL`] after sign-in.
    UntilSessionEnds,
    /// While the person is enrolled in the course, and at most as long as the account.
    WhileEnrolled,
    /// Not personal data: kept while the institute uses it, removed by its admins.
    Operational,
    /// Lecture records: kept until removed; a per-institute limit after the term ends is
    /// planned (issue 7), nothing removes them automatically today.
    UntilRemoved,
    /// Login throttling: while an attempt is in flight and, when it failed, until it leaves
    /// the throttling window (`[login_throttle] window_seconds`).
    ThrottleWindow,
    /// For the life of the database (sqlx's record of applied migrations).
    LifeOfDatabase,
    /// Until the link is used or replaced; an expired link is deleted by the next
    /// invitation of the same person.
    UntilInvitationUsed,
    /// The audit log: kept while the institute uses Lectern.
    Audit,
    /// A resumable upload: until a day after its last write, or after it became a lecture.
    UntilUploadSwept,
    /// A person's viewing of a lecture: while both the account and the lecture exist.
    WhileAccountAndLectureExist,
    /// A guardian's consent: until an admin withdraws it, or the account goes.
    UntilConsentWithdrawn,
}

impl Retention {
    /// A description for the document, true of the code as it is today.
    pub fn describe(self) -> String {
        match self {
            Retention::WhileAccountExists => {
                "as long as the account exists; deleting the account deletes the row".to_owned()
            }
            Retention::UntilSessionEnds => format!(
                "until logout, or {} days after sign-in; an expired session is refused at \
                 once and its row is deleted at the next logout of any user",
                crate::auth::SESSION_TTL.num_days()
            ),
            Retention::WhileEnrolled => {
                "while the person is enrolled; deleted with the account".to_owned()
            }
            Retention::Operational => "while the institute uses it; not personal data".to_owned(),
            Retention::UntilRemoved => "until removed by an operator; a per-institute \
                 limit after the term ends is planned, nothing removes them automatically today"
                .to_owned(),
            Retention::ThrottleWindow => "while a login attempt is in flight; a failed \
                 attempt until it leaves the throttling window (`[login_throttle] \
                 window_seconds`, 15 minutes by default, at most a day); older rows are deleted \
                 at every login attempt"
                .to_owned(),
            Retention::LifeOfDatabase => "for the life of the database".to_owned(),
            Retention::UntilInvitationUsed => "until the link is used, a new one replaces \
                 it or the account is disabled; an expired link goes when any link is next used; \
                 the account's deletion deletes it"
                .to_owned(),
            Retention::Audit => "as the institute's accountability record, for the days its \
                 admins set (`audit_retention_days`, PATCH /api/v1/institute; the retention job \
                 deletes older entries every hour and records how many it deleted), or for good \
                 when they set none"
                .to_owned(),
            Retention::UntilUploadSwept => "until 24 hours after the upload's last bytes \
                 arrived, or after it became a lecture; then a sweep (every 10 minutes) deletes \
                 the row and the bytes received"
                .to_owned(),
            Retention::WhileAccountAndLectureExist => "as long as both the account and the \
                 lecture exist; deleting either deletes the row"
                .to_owned(),
            Retention::UntilConsentWithdrawn => "until the institute's admin withdraws the \
                 consent (DELETE /api/v1/users/{id}/guardian-consent) or the account is deleted"
                .to_owned(),
        }
    }
}

/// A column that holds no personal data, on both databases.
const fn plain(name: &'static str, purpose: &'static str) -> Column {
    Column {
        name,
        data: Data::NotPersonal,
        purpose,
        export: Export::NotPersonal,
        erasure: Erasure::NotPersonal,
        only_on: None,
    }
}

/// A column that holds personal data, on both databases.
const fn personal(
    name: &'static str,
    data: Data,
    purpose: &'static str,
    export: Export,
    erasure: Erasure,
) -> Column {
    Column {
        name,
        data,
        purpose,
        export,
        erasure,
        only_on: None,
    }
}

/// Why audit entries outlive an erased account.
const AUDIT_HOLD: &str = "the institute's record of who changed what, and who read whose \
     data, must stay intact to be worth anything";

/// Why the user's own id is not repeated in every export section.
const OWN_ID: Export = Export::Withheld("the user's own id, given once as profile.id");

/// Every table of the catalog's schema, in the migrations' order.
pub static TABLES: &[Table] = &[
    Table {
        name: "institutes",
        purpose: "The organisations that run Lectern for their people (a university, a school).",
        subject: Subject::Nobody,
        retention: Retention::Operational,
        export_section: None,
        columns: &[
            plain("id", "Random id (UUID v4)."),
            plain("name", "The institute's name."),
            plain(
                "open_signup",
                "Whether people may create their own student accounts.",
            ),
            plain(
                "audit_retention_days",
                "How many days the institute keeps its audit log (the retention job deletes \
                 older entries every hour); NULL keeps it for good.",
            ),
        ],
    },
    Table {
        name: "users",
        purpose: "People's accounts, created by their institute's admins: who may sign in and \
                  what they may see.",
        subject: Subject::User { column: "id" },
        retention: Retention::WhileAccountExists,
        export_section: Some("profile"),
        columns: &[
            personal(
                "id",
                Data::PersonKey,
                "Random id (UUID v4) that every row about the person refers to.",
                Export::Field("id"),
                Erasure::DeleteRow,
            ),
            personal(
                "institute_id",
                Data::AboutPerson,
                "The institute whose admins manage the account and which may see the \
                 person's data.",
                Export::Field("institute_id"),
                Erasure::DeleteRow,
            ),
            personal(
                "email",
                Data::Identifying,
                "Sign-in name; unique regardless of case.",
                Export::Field("email"),
                Erasure::DeleteRow,
            ),
            personal(
                "name",
                Data::Identifying,
                "The name shown to the person and their instructors.",
                Export::Field("name"),
                Erasure::DeleteRow,
            ),
            personal(
                "password_hash",
                Data::Credential,
                "argon2id hash of the password, to check it at sign-in; the password itself \
                 is never stored. Empty until an invited person activates their account.",
                Export::Withheld("a hash of the password, of use only to check it"),
                Erasure::DeleteRow,
            ),
            personal(
                "role",
                Data::AboutPerson,
                "admin, instructor or student: decides what the person may see and do.",
                Export::Field("role"),
                Erasure::DeleteRow,
            ),
            personal(
                "disabled",
                Data::AboutPerson,
                "Set when an admin disables the account (PATCH /api/v1/users/{id}): refuses the \
                 person's sign-in; their sessions and activation links are deleted at once.",
                Export::Field("disabled"),
                Erasure::DeleteRow,
            ),
            personal(
                "created_at",
                Data::AboutPerson,
                "When the account was made (invited or signed up).",
                Export::Field("created_at"),
                Erasure::DeleteRow,
            ),
            personal(
                "age_band",
                Data::AboutPerson,
                "under_13, 13_to_17 or adult (the default), set by the institute: an account \
                 under 13 plays nothing until a guardian's consent is recorded, and nothing of \
                 its viewing is kept but where to resume.",
                Export::Field("age_band"),
                Erasure::DeleteRow,
            ),
            personal(
                "research_opt_out",
                Data::AboutPerson,
                "Set by the person (PUT /api/v1/me/preferences): leaves them out of every \
                 viewing aggregate, and stops keeping which parts of lectures they played.",
                Export::Field("research_opt_out"),
                Erasure::DeleteRow,
            ),
        ],
    },
    Table {
        name: "sessions",
        purpose: "Signed-in browsers: one row per session cookie.",
        subject: Subject::User { column: "user_id" },
        retention: Retention::UntilSessionEnds,
        export_section: Some("sessions"),
        columns: &[
            personal(
                "token_hash",
                Data::Credential,
                "SHA-256 of the random token in the session cookie; the token itself is \
                 never stored.",
                Export::Withheld("a hash of the cookie's secret, of use only to check it"),
                Erasure::DeleteRow,
            ),
            personal(
                "user_id",
                Data::PersonKey,
                "Whose session it is.",
                OWN_ID,
                Erasure::DeleteRow,
            ),
            personal(
                "created_at",
                Data::AboutPerson,
                "When the person signed in.",
                Export::Field("signed_in_at"),
                Erasure::DeleteRow,
            ),
            personal(
                "expires_at",
                Data::AboutPerson,
                "When the session ends at the latest.",
                Export::Field("expires_at"),
                Erasure::DeleteRow,
            ),
        ],
    },
    Table {
        name: "courses",
        purpose: "An institute's courses, one per code and term.",
        subject: Subject::Nobody,
        retention: Retention::Operational,
        export_section: None,
        columns: &[
            plain("id", "Random id (UUID v4)."),
            plain("institute_id", "The institute that offers the course."),
            plain("code", "The institute's course code."),
            plain("title", "The course's title."),
            plain("term", "The term the course runs in."),
            plain(
                "auto_publish",
                "Whether new recordings of the course are published at once.",
            ),
        ],
    },
    Table {
        name: "enrolments",
        purpose: "Who takes or teaches which course: decides which lectures a person may \
                  watch and which instructors may see a student's data.",
        subject: Subject::User { column: "user_id" },
        retention: Retention::WhileEnrolled,
        export_section: Some("enrolments"),
        columns: &[
            personal(
                "course_id",
                Data::AboutPerson,
                "The course the person is enrolled in.",
                Export::Field("course_id"),
                Erasure::DeleteRow,
            ),
            personal(
                "user_id",
                Data::PersonKey,
                "The enrolled person.",
                OWN_ID,
                Erasure::DeleteRow,
            ),
            personal(
                "role",
                Data::AboutPerson,
                "student, teaching_assistant or instructor in this course.",
                Export::Field("role"),
                Erasure::DeleteRow,
            ),
        ],
    },
    Table {
        name: "rooms",
        purpose: "Lecture rooms that have a capture box.",
        subject: Subject::Nobody,
        retention: Retention::Operational,
        export_section: None,
        columns: &[
            plain("id", "Random id (UUID v4)."),
            plain("institute_id", "The institute the room belongs to."),
            plain("name", "The room's name."),
            plain(
                "default_course_id",
                "The course ad-hoc recordings in this room belong to.",
            ),
        ],
    },
    Table {
        name: "agents",
        purpose: "Capture boxes: the machines in lecture rooms that record.",
        subject: Subject::Nobody,
        retention: Retention::Operational,
        export_section: None,
        columns: &[
            plain("id", "Random id (UUID v4)."),
            plain("name", "The box's name."),
            plain("room_id", "The room the box records."),
            plain("token_hash", "SHA-256 of the box's API token."),
            plain("last_seen", "When the box last reported (its heartbeat)."),
            plain("state", "What the box last said it was doing."),
            plain(
                "health",
                "The box's last health report (disk, devices, audio level) as JSON.",
            ),
            plain("version", "The ingest daemon's version the box last reported."),
        ],
    },
    Table {
        name: "workers",
        purpose: "Transcode workers: the machines that encode and package lectures.",
        subject: Subject::Nobody,
        retention: Retention::Operational,
        export_section: None,
        columns: &[
            plain("id", "Random id (UUID v4)."),
            plain("name", "The worker's name."),
            plain("token_hash", "SHA-256 of the worker's API token."),
            plain(
                "srt_host",
                "The host capture boxes send live video to this worker at.",
            ),
            plain("srt_port_first", "The first port of its SRT listener range."),
            plain("srt_port_last", "The last port of its SRT listener range."),
            plain(
                "last_seen",
                "When the worker last registered (its heartbeat).",
            ),
        ],
    },
    Table {
        name: "lectures",
        purpose: "Recorded lectures of a course. The rows name no person; the recorded media \
                  in storage show and let hear whoever is in the picture (see 'Outside the database' in docs/privacy.md).",
        subject: Subject::Nobody,
        retention: Retention::UntilRemoved,
        export_section: None,
        columns: &[
            plain("id", "Random id (UUID v4)."),
            plain("course_id", "The course the lecture belongs to."),
            plain("room_id", "The room it was recorded in."),
            plain("title", "The lecture's title."),
            plain("state", "scheduled, capturing, processing, ready or failed."),
            plain("main_track", "The track whose highest rung measures the lecture."),
            plain("created_at", "When the lecture was created."),
            plain("started_at", "When recording started."),
            plain("ended_at", "When recording ended."),
            plain("error", "Why processing failed, if it did."),
            plain("media_version", "The storage version served to viewers."),
            plain(
                "live_worker_id",
                "The transcode worker that receives the lecture live.",
            ),
            plain("srt_port", "The worker's SRT port for this lecture's live stream."),
            plain(
                "srt_passphrase",
                "The SRT passphrase of the live stream (a secret), cleared when capture ends.",
            ),
            plain("live_tracks", "The tracks the capture box pushes live."),
            plain(
                "live_open",
                "Whether a worker is receiving the lecture live right now.",
            ),
            plain("published", "Whether students of the course may see it."),
            plain("available_from", "Students see it from then on."),
            plain("available_until", "Students no longer see it from then on."),
            plain("planned_start", "When it is planned to begin."),
            plain("planned_end", "When it is planned to end."),
            plain("trim_in", "Seconds into the recording where playback begins."),
            plain("trim_out", "Seconds into the recording where playback ends."),
            plain("schedule_id", "The recurring schedule it was recorded under."),
        ],
    },
    Table {
        name: "renditions",
        purpose: "The encoded versions (track and quality) of a lecture.",
        subject: Subject::Nobody,
        retention: Retention::UntilRemoved,
        export_section: None,
        columns: &[
            plain("lecture_id", "The lecture."),
            plain("track", "presenter, screen, …"),
            plain("rung", "The quality rung (e.g. 720p)."),
            plain("width", "Picture width in pixels."),
            plain("height", "Picture height in pixels."),
            plain("bandwidth", "Peak bits per second."),
            plain("codecs", "RFC 6381 codec string."),
            plain("frame_rate", "Frames per second."),
            plain("segment_count", "How many segments it holds (kept with each report)."),
            plain("duration_seconds", "Seconds of media it holds (kept with each report)."),
            Column {
                only_on: Some(DatabaseKind::Postgres),
                ..plain(
                    "position",
                    "The order renditions were first reported (SQLite uses its rowid).",
                )
            },
        ],
    },
    Table {
        name: "segments",
        purpose: "The stored media segments of each rendition.",
        subject: Subject::Nobody,
        retention: Retention::UntilRemoved,
        export_section: None,
        columns: &[
            plain("lecture_id", "The lecture."),
            plain("track", "The track."),
            plain("rung", "The quality rung."),
            plain("sequence", "The segment's number."),
            plain("duration", "Seconds of media."),
            plain("program_date_time", "Wall-clock time of the segment's first frame."),
            plain("discontinuity", "Whether the stream broke before this segment."),
            plain("bytes", "The segment's size."),
        ],
    },
    Table {
        name: "thumbnails",
        purpose: "Which pictures of each track of a lecture are stored: a poster, timeline \
                  thumbnails, slide-change chapters.",
        subject: Subject::Nobody,
        retention: Retention::UntilRemoved,
        export_section: None,
        columns: &[
            plain("lecture_id", "The lecture."),
            plain("track", "The track."),
            plain("poster", "Whether its poster is stored."),
            plain("sprites", "How many sprite sheets of timeline thumbnails are stored."),
            plain("chapters", "How many chapters its slide changes made."),
        ],
    },
    Table {
        name: "raw_chunks",
        purpose: "The raw chunks capture boxes uploaded from their spools (stored at \
                  raw/<lecture>/<track>/<index>.ts), so a lecture can be proven complete.",
        subject: Subject::Nobody,
        retention: Retention::UntilRemoved,
        export_section: None,
        columns: &[
            plain("lecture_id", "The lecture (the box's recording)."),
            plain("track", "The track."),
            plain("chunk_index", "The chunk's number within the track."),
            plain("start", "Wall-clock time of the chunk's first frame."),
            plain("duration_ns", "Media duration in nanoseconds."),
            plain("bytes", "The chunk's size."),
            plain("sha256", "SHA-256 of the chunk, checked when it arrived."),
            plain("stored_at", "When the catalog stored it."),
        ],
    },
    Table {
        name: "invitations",
        purpose: "Activation links of invited people, which their admin passes on: one row per \
                  link until it is used, replaced or swept after it expired.",
        subject: Subject::User { column: "user_id" },
        retention: Retention::UntilInvitationUsed,
        export_section: Some("invitations"),
        columns: &[
            personal(
                "token_hash",
                Data::Credential,
                "SHA-256 of the link's random token; the token itself is never stored.",
                Export::Withheld("a hash of the link's secret, of use only to check it"),
                Erasure::DeleteRow,
            ),
            personal(
                "user_id",
                Data::PersonKey,
                "The invited person.",
                OWN_ID,
                Erasure::DeleteRow,
            ),
            personal(
                "expires_at",
                Data::AboutPerson,
                "When the link stops working.",
                Export::Field("expires_at"),
                Erasure::DeleteRow,
            ),
        ],
    },
    Table {
        name: "schedules",
        purpose: "Recurring recording times of a course in a room (iCalendar RRULE).",
        subject: Subject::Nobody,
        retention: Retention::Operational,
        export_section: None,
        columns: &[
            plain("id", "Random id (UUID v4)."),
            plain("course_id", "The course recorded."),
            plain("room_id", "The room it is recorded in."),
            plain("title", "The title its lectures get."),
            plain("first_start", "The first start, a local time in `timezone`."),
            plain("timezone", "The IANA time zone of the room."),
            plain("rrule", "The recurrence rule (RFC 5545)."),
            plain("duration_minutes", "How long each occurrence lasts."),
            plain("updated_at", "When it last changed."),
        ],
    },
    Table {
        name: "jobs",
        purpose: "Work for transcode workers (encoding uploads, repairing gaps), with leases.",
        subject: Subject::Nobody,
        retention: Retention::UntilRemoved,
        export_section: None,
        columns: &[
            plain("id", "Random id (UUID v4)."),
            plain("kind", "What the job does."),
            plain("lecture_id", "The lecture it works on."),
            plain("payload", "Its input as JSON (storage keys, settings)."),
            plain("state", "queued, running, done or failed."),
            plain("attempts", "How many times a worker claimed it."),
            plain("worker_id", "The worker that holds it, or held it last."),
            plain("lease_expires_at", "When the holder's lease runs out."),
            plain("progress", "How far it is, 0 to 1."),
            plain("error", "Why it failed, if it did."),
            plain("created_at", "When it was queued."),
            plain("updated_at", "When it last changed."),
            plain(
                "dedupe_key",
                "Names its input, so the same work queued twice is one job.",
            ),
            plain(
                "swept_at",
                "When the media its unfinished attempts stored was deleted.",
            ),
        ],
    },
    Table {
        name: "audit_log",
        purpose: "Every admin and staff action and every read of another person's data: who \
                  did what to which thing, for the institute's accountability.",
        subject: Subject::User { column: "actor_id" },
        retention: Retention::Audit,
        export_section: Some("audit_log"),
        columns: &[
            plain("id", "Sequence number."),
            personal(
                "at",
                Data::AboutPerson,
                "When it was done.",
                Export::Field("at"),
                Erasure::LegalHold { reason: AUDIT_HOLD },
            ),
            plain("institute_id", "The institute whose log it is."),
            personal(
                "actor_id",
                Data::PersonKey,
                "Who did it.",
                OWN_ID,
                Erasure::LegalHold { reason: AUDIT_HOLD },
            ),
            personal(
                "action",
                Data::AboutPerson,
                "What was done, e.g. course.update or enrolment.read.",
                Export::Field("action"),
                Erasure::LegalHold { reason: AUDIT_HOLD },
            ),
            personal(
                "target_kind",
                Data::AboutPerson,
                "The kind of thing it was done to.",
                Export::Field("target_kind"),
                Erasure::LegalHold { reason: AUDIT_HOLD },
            ),
            personal(
                "target_id",
                Data::AboutPerson,
                "The thing it was done to (may be another person's id).",
                Export::Field("target_id"),
                Erasure::LegalHold { reason: AUDIT_HOLD },
            ),
            personal(
                "detail",
                Data::AboutPerson,
                "What changed, as JSON (never a password or token).",
                Export::Field("detail"),
                Erasure::LegalHold { reason: AUDIT_HOLD },
            ),
        ],
    },
    Table {
        name: "login_attempts",
        purpose: "Login throttling: recent login attempts per account and per client address, \
                  so that guessing passwords is slowed down.",
        subject: Subject::Hashed {
            column: "throttle_key",
            of: "SHA-256 of \"account:\" and the lowercased email address, or of \"address:\" \
                 and the client's IP address (IPv6 by its /64); only the first kind can be \
                 attributed to an account (see crate::login_throttle)",
        },
        retention: Retention::ThrottleWindow,
        export_section: Some("login_attempts"),
        columns: &[
            personal(
                "attempt_id",
                Data::AboutPerson,
                "Random id of one attempt, which has one row per key.",
                Export::Withheld("a random id with no meaning outside the throttle"),
                Erasure::DeleteRow,
            ),
            personal(
                "throttle_key",
                Data::Pseudonym,
                "Whose attempt it counts against: the hash of the account's email or of the \
                 client's address; neither is stored in clear.",
                Export::Withheld("a hash of the email address the export already gives"),
                Erasure::DeleteRow,
            ),
            personal(
                "at",
                Data::AboutPerson,
                "When the attempt was made.",
                Export::Field("at"),
                Erasure::DeleteRow,
            ),
        ],
    },
    Table {
        name: "resumable_uploads",
        purpose: "Resumable uploads of lecture files in progress (tus): who uploads what to \
                  which course and how much arrived, so the upload goes on where it stopped.",
        subject: Subject::User { column: "user_id" },
        retention: Retention::UntilUploadSwept,
        export_section: Some("resumable_uploads"),
        columns: &[
            plain("id", "Random id (256 bits), the last part of the upload's URL."),
            personal(
                "user_id",
                Data::PersonKey,
                "Who uploads: the only person who reaches the upload.",
                OWN_ID,
                Erasure::DeleteRow,
            ),
            personal(
                "course_id",
                Data::AboutPerson,
                "The course the file becomes a lecture of.",
                Export::Field("course_id"),
                Erasure::DeleteRow,
            ),
            plain("lecture_id", "The id the lecture gets; its bytes lie below uploads/<it>/."),
            personal(
                "title",
                Data::AboutPerson,
                "The lecture's title the uploader gave (or the file's name).",
                Export::Field("title"),
                Erasure::DeleteRow,
            ),
            personal(
                "file_name",
                Data::AboutPerson,
                "The file's name on the uploader's machine.",
                Export::Field("file_name"),
                Erasure::DeleteRow,
            ),
            plain("length", "The file's size in bytes."),
            plain("received", "How many bytes arrived and are kept."),
            plain("s3_upload_id", "The S3 multipart upload holding the bytes, with S3 storage."),
            plain("part_bytes", "The size of that multipart upload's parts."),
            personal(
                "created_at",
                Data::AboutPerson,
                "When the upload began.",
                Export::Field("created_at"),
                Erasure::DeleteRow,
            ),
            plain("expires_at", "When the sweep deletes it unless more bytes arrive."),
            plain("finished_at", "When it became a lecture."),
        ],
    },
    Table {
        name: "guardian_consents",
        purpose: "The consent of a parent or guardian to the use of Lectern by a person under \
                  13, as their institute's admin recorded it: without one they cannot watch.",
        subject: Subject::User { column: "user_id" },
        retention: Retention::UntilConsentWithdrawn,
        export_section: Some("guardian_consent"),
        columns: &[
            personal(
                "user_id",
                Data::PersonKey,
                "The person under 13.",
                OWN_ID,
                Erasure::DeleteRow,
            ),
            personal(
                "guardian_name",
                Data::Identifying,
                "Who consented (the guardian's name, as the admin wrote it).",
                Export::Field("guardian_name"),
                Erasure::DeleteRow,
            ),
            personal(
                "relation",
                Data::AboutPerson,
                "How the guardian is related to the person (mother, legal guardian, …).",
                Export::Field("relation"),
                Erasure::DeleteRow,
            ),
            personal(
                "recorded_by",
                Data::AboutPerson,
                "The admin who recorded it; cleared when that admin's account is erased.",
                Export::Withheld(
                    "another person's id (the admin's); the institute's audit log says who \
                     recorded and withdrew consents",
                ),
                Erasure::DeleteRow,
            ),
            personal(
                "recorded_at",
                Data::AboutPerson,
                "When it was recorded.",
                Export::Field("recorded_at"),
                Erasure::DeleteRow,
            ),
        ],
    },
    Table {
        name: "lecture_progress",
        purpose: "What is kept of people's viewing, one row per person and lecture: where to \
                  resume; unless the account is under 13, views and watch time (for the person \
                  and their course's staff); unless the person also opted out of research, \
                  which parts they played (for aggregates over five or more students only). \
                  No client address is kept.",
        subject: Subject::User { column: "user_id" },
        retention: Retention::WhileAccountAndLectureExist,
        export_section: Some("lecture_progress"),
        columns: &[
            personal(
                "user_id",
                Data::PersonKey,
                "Who watched.",
                OWN_ID,
                Erasure::DeleteRow,
            ),
            personal(
                "lecture_id",
                Data::AboutPerson,
                "The lecture watched.",
                Export::Field("lecture_id"),
                Erasure::DeleteRow,
            ),
            personal(
                "position_seconds",
                Data::AboutPerson,
                "Where the person stopped, to resume there.",
                Export::Field("position_seconds"),
                Erasure::DeleteRow,
            ),
            personal(
                "views",
                Data::AboutPerson,
                "How many times they started playing it (0 for accounts under 13).",
                Export::Field("views"),
                Erasure::DeleteRow,
            ),
            personal(
                "watched_seconds",
                Data::AboutPerson,
                "Seconds they played it over every view (NULL for accounts under 13).",
                Export::Field("watched_seconds"),
                Erasure::DeleteRow,
            ),
            personal(
                "view_id",
                Data::AboutPerson,
                "The id the player picked for the playback last reported, so a repeated report \
                 counts once.",
                Export::Withheld("a random id of one playback, with no meaning outside it"),
                Erasure::DeleteRow,
            ),
            personal(
                "view_watched_seconds",
                Data::AboutPerson,
                "Seconds the playback last reported had played, for the same reason.",
                Export::Withheld("already counted in watched_seconds"),
                Erasure::DeleteRow,
            ),
            personal(
                "buckets",
                Data::AboutPerson,
                "Which 10-second parts of the lecture they played: hex of a bitmap, bit i of \
                 byte i/8 (least significant first) standing for seconds 10i to 10i+10. Only \
                 for aggregates; NULL for people under 13 or opted out of research.",
                Export::Field("watched_parts"),
                Erasure::DeleteRow,
            ),
            personal(
                "updated_at",
                Data::AboutPerson,
                "When the player last reported.",
                Export::Field("updated_at"),
                Erasure::DeleteRow,
            ),
        ],
    },
    Table {
        name: "privacy_policies",
        purpose: "Each institute's privacy policy, one row per published version: what people \
                  accept before they watch.",
        subject: Subject::Nobody,
        retention: Retention::Operational,
        export_section: None,
        columns: &[
            plain("institute_id", "Whose policy it is."),
            plain("version", "1 for the first text, one more for each published after it."),
            plain("body", "The text, as the institute's admins wrote it."),
            plain("published_at", "When it was published."),
        ],
    },
    Table {
        name: "policy_acceptances",
        purpose: "Which version of their institute's privacy policy each person accepted, and \
                  when: the record that they were told.",
        subject: Subject::User { column: "user_id" },
        retention: Retention::WhileAccountExists,
        export_section: Some("policy_acceptances"),
        columns: &[
            personal(
                "user_id",
                Data::PersonKey,
                "Who accepted.",
                OWN_ID,
                Erasure::DeleteRow,
            ),
            personal(
                "version",
                Data::AboutPerson,
                "The version they accepted.",
                Export::Field("version"),
                Erasure::DeleteRow,
            ),
            personal(
                "accepted_at",
                Data::AboutPerson,
                "When they accepted it.",
                Export::Field("accepted_at"),
                Erasure::DeleteRow,
            ),
        ],
    },
    Table {
        name: SQLX_MIGRATIONS_TABLE,
        purpose: "sqlx's record of which schema migrations ran; created and written by sqlx, \
                  not by the catalog's code.",
        subject: Subject::Nobody,
        retention: Retention::LifeOfDatabase,
        export_section: None,
        columns: &[
            plain("version", "The migration's number."),
            plain("description", "The migration's file name."),
            plain("installed_on", "When it ran."),
            plain("success", "Whether it succeeded."),
            plain("checksum", "Checksum of the migration's SQL."),
            plain("execution_time", "How long it took."),
        ],
    },
];

impl Table {
    /// The column called `name`, on any database.
    pub fn column(&self, name: &str) -> Option<&'static Column> {
        self.columns.iter().find(|column| column.name == name)
    }

    /// The columns that `kind`'s migrations create.
    pub fn columns_on(&self, kind: DatabaseKind) -> impl Iterator<Item = &'static Column> {
        self.columns
            .iter()
            .filter(move |column| column.exists_on(kind))
    }

    /// True when any column holds personal data.
    pub fn holds_personal_data(&self) -> bool {
        self.columns.iter().any(|column| column.data.is_personal())
    }
}

impl Column {
    /// True when `kind`'s migrations create this column.
    pub fn exists_on(&self, kind: DatabaseKind) -> bool {
        self.only_on.is_none_or(|only| only == kind)
    }
}

/// The table called `name`.
pub fn table(name: &str) -> Option<&'static Table> {
    TABLES.iter().find(|table| table.name == name)
}

/// The tables whose rows are about a person: what export and erasure go through.
pub fn personal_tables() -> impl Iterator<Item = &'static Table> {
    TABLES
        .iter()
        .filter(|table| table.subject != Subject::Nobody)
}

/// Where a migrated schema and the registry disagree, on one database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaDrift {
    /// The database that was compared.
    pub kind: DatabaseKind,
    /// `(table, column)` pairs the schema has and the registry does not know.
    pub unregistered: Vec<(String, String)>,
    /// `(table, column)` pairs the registry names and the schema does not have.
    pub missing: Vec<(String, String)>,
}

impl fmt::Display for SchemaDrift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "the personal data registry ({REGISTRY_FILE}) and the {} schema differ",
            self.kind
        )?;
        for (table, column) in &self.unregistered {
            let how = if TABLES.iter().any(|known| known.name == table) {
                format!("add a Column {column:?} to the Table {table:?} in TABLES")
            } else {
                format!("add a Table {table:?} with its columns to TABLES")
            };
            writeln!(
                f,
                "- {table}.{column} is not registered: {how} in {REGISTRY_FILE}, saying whether \
                 it is personal data (Data), what it is for, and how it is exported and erased \
                 (Export, Erasure); then run LECTERN_BLESS=1 cargo test -p lectern-catalog --lib \
                 privacy to update {DOCUMENT_FILE}"
            )?;
        }
        for (table, column) in &self.missing {
            writeln!(
                f,
                "- {table}.{column} is registered in {REGISTRY_FILE} but the {} schema has no \
                 such column: remove it from TABLES (or set only_on if one database still has it)",
                self.kind
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for SchemaDrift {}

/// Compares the `(table, column)` pairs of a migrated `kind` database with the registry.
pub fn check_schema<T, C>(
    kind: DatabaseKind,
    schema: impl IntoIterator<Item = (T, C)>,
) -> Result<(), SchemaDrift>
where
    T: Into<String>,
    C: Into<String>,
{
    let schema: BTreeSet<(String, String)> = schema
        .into_iter()
        .map(|(table, column)| (table.into(), column.into()))
        .collect();
    let registered: BTreeSet<(String, String)> = TABLES
        .iter()
        .flat_map(|table| {
            table
                .columns_on(kind)
                .map(|column| (table.name.to_owned(), column.name.to_owned()))
        })
        .collect();
    let drift = SchemaDrift {
        kind,
        unregistered: schema.difference(&registered).cloned().collect(),
        missing: registered.difference(&schema).cloned().collect(),
    };
    if drift.unregistered.is_empty() && drift.missing.is_empty() {
        Ok(())
    } else {
        Err(drift)
    }
}

/// Every breach of the registry's own rules (see the module's documentation); empty when it
/// is consistent.
pub fn inconsistencies() -> Vec<String> {
    let mut found = Vec::new();
    let mut tables = BTreeSet::new();
    let mut sections = BTreeSet::new();
    for table in TABLES {
        let t = table.name;
        if !tables.insert(t) {
            found.push(format!("table {t} is listed twice"));
        }
        if table.purpose.trim().is_empty() {
            found.push(format!("table {t} has no purpose"));
        }
        let mut columns = BTreeSet::new();
        let mut fields = BTreeSet::new();
        for column in table.columns {
            let c = column.name;
            if !columns.insert(c) {
                found.push(format!("column {t}.{c} is listed twice"));
            }
            if column.purpose.trim().is_empty() {
                found.push(format!("column {t}.{c} has no purpose"));
            }
            if column.data.is_personal() {
                if column.export == Export::NotPersonal {
                    found.push(format!("{t}.{c} is personal: say how it is exported"));
                }
                if column.erasure == Erasure::NotPersonal {
                    found.push(format!("{t}.{c} is personal: say how it is erased"));
                }
            } else if column.export != Export::NotPersonal || column.erasure != Erasure::NotPersonal
            {
                found.push(format!(
                    "{t}.{c} is not personal: it has no export and no erasure"
                ));
            }
            if let Export::Field(name) = column.export {
                if !fields.insert(name) {
                    found.push(format!("{t}: export field {name} is used twice"));
                }
            }
            if column.data == Data::Credential && matches!(column.export, Export::Field(_)) {
                found.push(format!("{t}.{c} is a credential: it is never exported"));
            }
        }
        match table.subject {
            Subject::Nobody => {
                if table.holds_personal_data() {
                    found.push(format!(
                        "table {t} holds personal data but names no Subject"
                    ));
                }
                if table.export_section.is_some() {
                    found.push(format!(
                        "table {t} is about nobody but has an export section"
                    ));
                }
            }
            Subject::User { column } | Subject::Hashed { column, .. } => {
                let kind = match table.subject {
                    Subject::User { .. } => Data::PersonKey,
                    _ => Data::Pseudonym,
                };
                match table.column(column) {
                    Some(key) if key.data == kind && key.only_on.is_none() => {}
                    _ => found.push(format!(
                        "table {t}: its Subject column {column} must be a {kind:?} on both \
                         databases"
                    )),
                }
                match table.export_section {
                    Some(section) if !sections.insert(section) => {
                        found.push(format!("export section {section} is used twice"))
                    }
                    Some(_) => {}
                    None => found.push(format!(
                        "table {t} is about a user: name its export section"
                    )),
                }
            }
        }
        for column in table.columns {
            if column.data == Data::PersonKey
                && table.subject
                    != (Subject::User {
                        column: column.name,
                    })
            {
                found.push(format!(
                    "{t}.{}: a PersonKey must be its table's Subject column",
                    column.name
                ));
            }
        }
    }
    found
}

/// Where the generated table starts in [`DOCUMENT_FILE`].
pub const MARKDOWN_BEGIN: &str =
    "<!-- BEGIN personal data registry: generated from catalog/src/privacy/registry.rs -->";
/// Where the generated table ends in [`DOCUMENT_FILE`].
pub const MARKDOWN_END: &str = "<!-- END personal data registry -->";

/// The registry as Markdown, for `docs/privacy.md`: one section per table, one row per
/// column. Does not include the two markers.
pub fn markdown() -> String {
    use std::fmt::Write;
    let mut out = String::new();
    for table in TABLES {
        let personal = if table.holds_personal_data() {
            "personal data"
        } else {
            "no personal data"
        };
        let _ = writeln!(out, "#### `{}` ({personal})\n", table.name);
        let _ = writeln!(out, "{}\n", table.purpose);
        let _ = writeln!(out, "- Kept: {}.", table.retention.describe());
        match (table.subject, table.export_section) {
            (Subject::User { column }, Some(section)) => {
                let _ = writeln!(
                    out,
                    "- About: the user whose id is in `{column}`; exported in section \
                     `{section}`.\n"
                );
            }
            (Subject::Hashed { column, of }, Some(section)) => {
                let _ = writeln!(
                    out,
                    "- About: the person whose hash is in `{column}`: {of}; exported in \
                     section `{section}`.\n"
                );
            }
            _ => {
                let _ = writeln!(out, "- About: no one; not part of any export.\n");
            }
        }
        if table.holds_personal_data() {
            out.push_str("| column | personal data | purpose | export | erasure |\n");
            out.push_str("| --- | --- | --- | --- | --- |\n");
        } else {
            out.push_str("| column | personal data | purpose |\n");
            out.push_str("| --- | --- | --- |\n");
        }
        for column in table.columns {
            let name = match column.only_on {
                Some(kind) => format!("`{}` ({kind} only)", column.name),
                None => format!("`{}`", column.name),
            };
            let _ = write!(
                out,
                "| {name} | {} | {} |",
                column.data.describe(),
                column.purpose
            );
            if table.holds_personal_data() {
                let _ = write!(
                    out,
                    " {} | {} |",
                    column.export.describe(table.export_section),
                    column.erasure.describe()
                );
            }
            out.push('\n');
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_registry_keeps_its_own_rules() {
        let found = inconsistencies();
        assert!(found.is_empty(), "{REGISTRY_FILE}:\n{}", found.join("\n"));
    }

    fn registered(kind: DatabaseKind) -> Vec<(String, String)> {
        TABLES
            .iter()
            .flat_map(|table| {
                table
                    .columns_on(kind)
                    .map(|column| (table.name.to_owned(), column.name.to_owned()))
            })
            .collect()
    }

    #[test]
    fn a_schema_that_matches_the_registry_passes() {
        for kind in [DatabaseKind::Sqlite, DatabaseKind::Postgres] {
            assert_eq!(check_schema(kind, registered(kind)), Ok(()));
        }
        // A column only PostgreSQL has is not expected on SQLite.
        let drift =
            check_schema(DatabaseKind::Sqlite, registered(DatabaseKind::Postgres)).unwrap_err();
        assert_eq!(
            drift.unregistered,
            [("renditions".into(), "position".into())]
        );
    }

    #[test]
    fn an_unknown_or_vanished_column_is_named_with_where_to_register_it() {
        let mut schema = registered(DatabaseKind::Sqlite);
        schema.push(("users".into(), "phone".into()));
        schema.push(("watch_events".into(), "user_id".into()));
        schema.retain(|(table, column)| !(table == "sessions" && column == "expires_at"));
        let drift = check_schema(DatabaseKind::Sqlite, schema).unwrap_err();
        assert_eq!(
            drift.unregistered,
            [
                ("users".into(), "phone".into()),
                ("watch_events".into(), "user_id".into())
            ]
        );
        assert_eq!(drift.missing, [("sessions".into(), "expires_at".into())]);
        let message = drift.to_string();
        for needle in [
            "SQLite",
            "- users.phone is not registered: add a Column \"phone\" to the Table \"users\"",
            "- watch_events.user_id is not registered: add a Table \"watch_events\"",
            "- sessions.expires_at is registered",
            REGISTRY_FILE,
            DOCUMENT_FILE,
        ] {
            assert!(message.contains(needle), "{needle:?} not in:\n{message}");
        }
    }

    #[test]
    fn export_and_erasure_reach_every_table_about_a_user() {
        let tables: Vec<_> = personal_tables().map(|table| table.name).collect();
        assert_eq!(
            tables,
            [
                "users",
                "sessions",
                "enrolments",
                "invitations",
                "audit_log",
                "login_attempts",
                "resumable_uploads",
                "guardian_consents",
                "lecture_progress",
                "policy_acceptances"
            ]
        );
        assert!(table("users")
            .unwrap()
            .column("email")
            .unwrap()
            .data
            .is_personal());
        assert!(!table("courses").unwrap().holds_personal_data());
    }

    /// `docs/privacy.md` holds exactly [`markdown`]'s output between the markers.
    /// `LECTERN_BLESS=1` rewrites the block from the registry instead of failing.
    #[test]
    fn the_privacy_document_lists_the_registry_as_it_is() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join(DOCUMENT_FILE);
        let document =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let (before, rest) = document
            .split_once(MARKDOWN_BEGIN)
            .unwrap_or_else(|| panic!("{DOCUMENT_FILE} lacks the line {MARKDOWN_BEGIN}"));
        let (current, after) = rest
            .split_once(MARKDOWN_END)
            .unwrap_or_else(|| panic!("{DOCUMENT_FILE} lacks the line {MARKDOWN_END}"));
        let expected = format!("\n\n{}", markdown());
        if current == expected {
            return;
        }
        if std::env::var_os("LECTERN_BLESS").is_some() {
            std::fs::write(
                &path,
                format!("{before}{MARKDOWN_BEGIN}{expected}{MARKDOWN_END}{after}"),
            )
            .unwrap();
            return;
        }
        panic!(
            "{DOCUMENT_FILE} does not list the registry ({REGISTRY_FILE}) as it is; run \
             LECTERN_BLESS=1 cargo test -p lectern-catalog --lib privacy to regenerate it, \
             then read the diff"
        );
    }
}
