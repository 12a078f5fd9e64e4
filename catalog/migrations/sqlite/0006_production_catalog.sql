-- The catalog at production depth (issue 3): accounts made by institutes (invitations,
-- optional open sign-up), teaching assistants, publishing and availability windows, trims,
-- schedules, capture box health, jobs with leases, and the audit log.
-- Times are RFC 3339 UTC text; booleans are integers.

ALTER TABLE institutes ADD COLUMN open_signup INTEGER NOT NULL DEFAULT 0;

-- An invited user has password_hash '' until they follow their activation link.
ALTER TABLE users ADD COLUMN created_at TEXT NOT NULL DEFAULT '1970-01-01T00:00:00.000000Z';

-- Single-use activation links: only the token's SHA-256 is kept; used or replaced links go.
CREATE TABLE invitations (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at TEXT NOT NULL
);
CREATE INDEX invitations_user ON invitations (user_id);

-- Enrolments gain teaching assistants. SQLite cannot change a CHECK, so the table is
-- rebuilt (nothing references it).
CREATE TABLE enrolments_new (
    course_id TEXT NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    user_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role      TEXT NOT NULL CHECK (role IN ('student', 'teaching_assistant', 'instructor')),
    PRIMARY KEY (course_id, user_id)
);
INSERT INTO enrolments_new (course_id, user_id, role) SELECT course_id, user_id, role FROM enrolments;
DROP TABLE enrolments;
ALTER TABLE enrolments_new RENAME TO enrolments;
CREATE INDEX enrolments_user ON enrolments (user_id);

-- New lectures of the course are published at once unless the course says otherwise.
ALTER TABLE courses ADD COLUMN auto_publish INTEGER NOT NULL DEFAULT 1;

CREATE TABLE schedules (
    id               TEXT PRIMARY KEY NOT NULL,
    course_id        TEXT NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    room_id          TEXT NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    title            TEXT NOT NULL,
    -- iCalendar semantics: the first start as a local time in `timezone` (IANA), an RRULE
    -- (RFC 5545, without the "RRULE:" prefix) and each occurrence's length.
    first_start      TEXT NOT NULL,
    timezone         TEXT NOT NULL,
    rrule            TEXT NOT NULL,
    duration_minutes INTEGER NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX schedules_room ON schedules (room_id);
CREATE INDEX schedules_course ON schedules (course_id);

ALTER TABLE lectures ADD COLUMN published INTEGER NOT NULL DEFAULT 1;
ALTER TABLE lectures ADD COLUMN available_from TEXT;
ALTER TABLE lectures ADD COLUMN available_until TEXT;
ALTER TABLE lectures ADD COLUMN planned_start TEXT;
ALTER TABLE lectures ADD COLUMN planned_end TEXT;
-- Trim points in seconds from the start of the media, applied when playlists are rendered.
ALTER TABLE lectures ADD COLUMN trim_in REAL;
ALTER TABLE lectures ADD COLUMN trim_out REAL;
ALTER TABLE lectures ADD COLUMN schedule_id TEXT REFERENCES schedules (id) ON DELETE SET NULL;

-- What a capture box last said of itself.
ALTER TABLE agents ADD COLUMN last_seen TEXT;
ALTER TABLE agents ADD COLUMN state TEXT;
-- The box's health report as JSON (disk, devices, audio level, ...).
ALTER TABLE agents ADD COLUMN health TEXT;
ALTER TABLE agents ADD COLUMN version TEXT;

-- Work for transcode workers (design decision 6): claimed with a lease that the worker's
-- heartbeat extends; a lease that runs out puts the job back in the queue.
CREATE TABLE jobs (
    id               TEXT PRIMARY KEY NOT NULL,
    kind             TEXT NOT NULL,
    lecture_id       TEXT NOT NULL REFERENCES lectures (id) ON DELETE CASCADE,
    -- The job's input as JSON (e.g. the storage key of an uploaded file).
    payload          TEXT NOT NULL,
    state            TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    worker_id        TEXT REFERENCES workers (id) ON DELETE SET NULL,
    lease_expires_at TEXT,
    progress         REAL NOT NULL DEFAULT 0,
    error            TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX jobs_queue ON jobs (state, created_at);
CREATE INDEX jobs_lecture ON jobs (lecture_id);

-- Every admin action and every access to another user's personal data. No foreign keys:
-- the log outlives what it mentions.
CREATE TABLE audit_log (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    at           TEXT NOT NULL,
    institute_id TEXT NOT NULL,
    actor_id     TEXT,
    action       TEXT NOT NULL,
    target_kind  TEXT NOT NULL,
    target_id    TEXT,
    -- JSON: what changed (never a password or token).
    detail       TEXT NOT NULL
);
CREATE INDEX audit_log_institute ON audit_log (institute_id, id);
