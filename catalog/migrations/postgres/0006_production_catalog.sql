-- The catalog at production depth (issue 3), the twin of migrations/sqlite/0006: accounts
-- made by institutes (invitations, optional open sign-up), teaching assistants, publishing
-- and availability windows, trims, schedules, capture box health, jobs with leases, and the
-- audit log.

ALTER TABLE institutes ADD COLUMN open_signup BOOLEAN NOT NULL DEFAULT FALSE;

-- An invited user has password_hash '' until they follow their activation link.
ALTER TABLE users ADD COLUMN created_at TIMESTAMPTZ NOT NULL DEFAULT '1970-01-01T00:00:00Z';

-- Single-use activation links: only the token's SHA-256 is kept; used or replaced links go.
CREATE TABLE invitations (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX invitations_user ON invitations (user_id);

ALTER TABLE enrolments DROP CONSTRAINT enrolments_role_check;
ALTER TABLE enrolments ADD CONSTRAINT enrolments_role_check
    CHECK (role IN ('student', 'teaching_assistant', 'instructor'));

-- New lectures of the course are published at once unless the course says otherwise.
ALTER TABLE courses ADD COLUMN auto_publish BOOLEAN NOT NULL DEFAULT TRUE;

CREATE TABLE schedules (
    id               TEXT PRIMARY KEY,
    course_id        TEXT NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    room_id          TEXT NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    title            TEXT NOT NULL,
    -- iCalendar semantics: the first start as a local time in `timezone` (IANA), an RRULE
    -- (RFC 5545, without the "RRULE:" prefix) and each occurrence's length.
    first_start      TEXT NOT NULL,
    timezone         TEXT NOT NULL,
    rrule            TEXT NOT NULL,
    duration_minutes BIGINT NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX schedules_room ON schedules (room_id);
CREATE INDEX schedules_course ON schedules (course_id);

ALTER TABLE lectures ADD COLUMN published BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE lectures ADD COLUMN available_from TIMESTAMPTZ;
ALTER TABLE lectures ADD COLUMN available_until TIMESTAMPTZ;
ALTER TABLE lectures ADD COLUMN planned_start TIMESTAMPTZ;
ALTER TABLE lectures ADD COLUMN planned_end TIMESTAMPTZ;
-- Trim points in seconds from the start of the media, applied when playlists are rendered.
ALTER TABLE lectures ADD COLUMN trim_in DOUBLE PRECISION;
ALTER TABLE lectures ADD COLUMN trim_out DOUBLE PRECISION;
ALTER TABLE lectures ADD COLUMN schedule_id TEXT REFERENCES schedules (id) ON DELETE SET NULL;

-- What a capture box last said of itself.
ALTER TABLE agents ADD COLUMN last_seen TIMESTAMPTZ;
ALTER TABLE agents ADD COLUMN state TEXT;
-- The box's health report as JSON (disk, devices, audio level, ...).
ALTER TABLE agents ADD COLUMN health TEXT;
ALTER TABLE agents ADD COLUMN version TEXT;

-- Work for transcode workers (design decision 6): claimed with a lease that the worker's
-- heartbeat extends (FOR UPDATE SKIP LOCKED, so replicas never hand out a job twice); a lease
-- that runs out puts the job back in the queue.
CREATE TABLE jobs (
    id               TEXT PRIMARY KEY,
    kind             TEXT NOT NULL,
    lecture_id       TEXT NOT NULL REFERENCES lectures (id) ON DELETE CASCADE,
    -- The job's input as JSON (e.g. the storage key of an uploaded file).
    payload          TEXT NOT NULL,
    state            TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
    attempts         BIGINT NOT NULL DEFAULT 0,
    worker_id        TEXT REFERENCES workers (id) ON DELETE SET NULL,
    lease_expires_at TIMESTAMPTZ,
    progress         DOUBLE PRECISION NOT NULL DEFAULT 0,
    error            TEXT,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX jobs_queue ON jobs (state, created_at);
CREATE INDEX jobs_lecture ON jobs (lecture_id);

-- Every admin action and every access to another user's personal data. No foreign keys:
-- the log outlives what it mentions.
CREATE TABLE audit_log (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at           TIMESTAMPTZ NOT NULL,
    institute_id TEXT NOT NULL,
    actor_id     TEXT,
    action       TEXT NOT NULL,
    target_kind  TEXT NOT NULL,
    target_id    TEXT,
    -- JSON: what changed (never a password or token).
    detail       TEXT NOT NULL
);
CREATE INDEX audit_log_institute ON audit_log (institute_id, id);
