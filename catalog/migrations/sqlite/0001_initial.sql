-- The walking skeleton's schema. IDs are random UUID v4 text (IDs are not secrets);
-- tokens are never stored, only their SHA-256 (hex). Times are RFC 3339 UTC text.

CREATE TABLE institutes (
    id   TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL UNIQUE
);

CREATE TABLE users (
    id            TEXT PRIMARY KEY NOT NULL,
    institute_id  TEXT NOT NULL REFERENCES institutes (id),
    email         TEXT NOT NULL UNIQUE COLLATE NOCASE,
    name          TEXT NOT NULL,
    -- argon2id PHC string (m=19456 KiB, t=2, p=1).
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'instructor', 'student')),
    disabled      INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE sessions (
    -- SHA-256 of the random 256-bit token in the cookie.
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE courses (
    id           TEXT PRIMARY KEY NOT NULL,
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
    id                TEXT PRIMARY KEY NOT NULL,
    institute_id      TEXT NOT NULL REFERENCES institutes (id),
    name              TEXT NOT NULL,
    -- Ad-hoc recordings in this room go to this course until schedules exist.
    default_course_id TEXT REFERENCES courses (id) ON DELETE SET NULL,
    UNIQUE (institute_id, name)
);

CREATE TABLE agents (
    id         TEXT PRIMARY KEY NOT NULL,
    name       TEXT NOT NULL UNIQUE,
    room_id    TEXT NOT NULL REFERENCES rooms (id),
    token_hash TEXT NOT NULL UNIQUE
);

CREATE TABLE workers (
    id         TEXT PRIMARY KEY NOT NULL,
    name       TEXT NOT NULL UNIQUE,
    token_hash TEXT NOT NULL UNIQUE,
    srt_url    TEXT,
    last_seen  TEXT
);

CREATE TABLE lectures (
    id            TEXT PRIMARY KEY NOT NULL,
    course_id     TEXT NOT NULL REFERENCES courses (id),
    room_id       TEXT REFERENCES rooms (id),
    title         TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('scheduled', 'capturing', 'processing', 'ready', 'failed')),
    -- The track whose highest rung measures the lecture (first track the box named).
    main_track    TEXT,
    created_at    TEXT NOT NULL,
    started_at    TEXT,
    ended_at      TEXT,
    error         TEXT,
    -- The storage version directory served to viewers (see packager::keys).
    media_version TEXT NOT NULL DEFAULT 'v1'
);
CREATE INDEX lectures_course ON lectures (course_id, started_at);

CREATE TABLE renditions (
    lecture_id TEXT NOT NULL REFERENCES lectures (id) ON DELETE CASCADE,
    track      TEXT NOT NULL,
    rung       TEXT NOT NULL,
    width      INTEGER NOT NULL,
    height     INTEGER NOT NULL,
    bandwidth  INTEGER NOT NULL,
    codecs     TEXT NOT NULL,
    frame_rate REAL NOT NULL,
    PRIMARY KEY (lecture_id, track, rung)
);

CREATE TABLE segments (
    lecture_id        TEXT NOT NULL REFERENCES lectures (id) ON DELETE CASCADE,
    track             TEXT NOT NULL,
    rung              TEXT NOT NULL,
    sequence          INTEGER NOT NULL,
    duration          REAL NOT NULL,
    program_date_time TEXT NOT NULL,
    discontinuity     INTEGER NOT NULL DEFAULT 0,
    bytes             INTEGER NOT NULL,
    PRIMARY KEY (lecture_id, track, rung, sequence)
);
