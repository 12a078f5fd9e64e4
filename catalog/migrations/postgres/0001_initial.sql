-- The walking skeleton's schema on PostgreSQL, the twin of migrations/sqlite/0001.
-- IDs are random UUID v4 as text (the same values as on SQLite; IDs are not secrets);
-- tokens are never stored, only their SHA-256 (hex). Times are timestamptz (UTC in, UTC
-- out, microseconds). Integers the code reads as i64 are BIGINT.

CREATE TABLE institutes (
    id   TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    institute_id  TEXT NOT NULL REFERENCES institutes (id),
    email         TEXT NOT NULL,
    name          TEXT NOT NULL,
    -- argon2id PHC string (m=19456 KiB, t=2, p=1).
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'instructor', 'student')),
    disabled      BOOLEAN NOT NULL DEFAULT FALSE
);
-- Emails are unique and looked up regardless of case (SQLite: COLLATE NOCASE).
CREATE UNIQUE INDEX users_email ON users (lower(email));

CREATE TABLE sessions (
    -- SHA-256 of the random 256-bit token in the cookie.
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE courses (
    id           TEXT PRIMARY KEY,
    institute_id TEXT NOT NULL REFERENCES institutes (id),
    code         TEXT NOT NULL,
    title        TEXT NOT NULL,
    term         TEXT NOT NULL,
    UNIQUE (institute_id, code, term)
);

CREATE TABLE enrolments (
    course_id TEXT NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    user_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role      TEXT NOT NULL CHECK (role IN ('student', 'instructor')),
    PRIMARY KEY (course_id, user_id)
);
CREATE INDEX enrolments_user ON enrolments (user_id);

CREATE TABLE rooms (
    id                TEXT PRIMARY KEY,
    institute_id      TEXT NOT NULL REFERENCES institutes (id),
    name              TEXT NOT NULL,
    -- Ad-hoc recordings in this room go to this course until schedules exist.
    default_course_id TEXT REFERENCES courses (id) ON DELETE SET NULL,
    UNIQUE (institute_id, name)
);

CREATE TABLE agents (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    room_id    TEXT NOT NULL REFERENCES rooms (id),
    token_hash TEXT NOT NULL UNIQUE
);

CREATE TABLE workers (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    token_hash TEXT NOT NULL UNIQUE,
    srt_url    TEXT,
    last_seen  TIMESTAMPTZ
);

CREATE TABLE lectures (
    id            TEXT PRIMARY KEY,
    course_id     TEXT NOT NULL REFERENCES courses (id),
    room_id       TEXT REFERENCES rooms (id),
    title         TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('scheduled', 'capturing', 'processing', 'ready', 'failed')),
    -- The track whose highest rung measures the lecture (first track the box named).
    main_track    TEXT,
    created_at    TIMESTAMPTZ NOT NULL,
    started_at    TIMESTAMPTZ,
    ended_at      TIMESTAMPTZ,
    error         TEXT,
    -- The storage version directory served to viewers (see packager::keys).
    media_version TEXT NOT NULL DEFAULT 'v1'
);
CREATE INDEX lectures_course ON lectures (course_id, started_at);

CREATE TABLE renditions (
    lecture_id TEXT NOT NULL REFERENCES lectures (id) ON DELETE CASCADE,
    track      TEXT NOT NULL,
    rung       TEXT NOT NULL,
    width      BIGINT NOT NULL,
    height     BIGINT NOT NULL,
    bandwidth  BIGINT NOT NULL,
    codecs     TEXT NOT NULL,
    frame_rate DOUBLE PRECISION NOT NULL,
    -- The order renditions were first reported (SQLite orders by its rowid); an update
    -- through ON CONFLICT keeps it.
    position   BIGINT GENERATED ALWAYS AS IDENTITY,
    PRIMARY KEY (lecture_id, track, rung)
);

CREATE TABLE segments (
    lecture_id        TEXT NOT NULL REFERENCES lectures (id) ON DELETE CASCADE,
    track             TEXT NOT NULL,
    rung              TEXT NOT NULL,
    sequence          BIGINT NOT NULL,
    duration          DOUBLE PRECISION NOT NULL,
    program_date_time TIMESTAMPTZ NOT NULL,
    discontinuity     BOOLEAN NOT NULL DEFAULT FALSE,
    bytes             BIGINT NOT NULL,
    PRIMARY KEY (lecture_id, track, rung, sequence)
);
