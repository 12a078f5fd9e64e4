-- Raw chunks a capture box uploaded from its spool (design decision 1; see
-- src/api/chunks.rs). One row per chunk the catalog holds in storage at
-- raw/<lecture_id>/<track>/<chunk_index>.ts, written only after its SHA-256 matched.
-- Times are RFC 3339 UTC text.

CREATE TABLE raw_chunks (
    lecture_id  TEXT NOT NULL REFERENCES lectures (id) ON DELETE CASCADE,
    track       TEXT NOT NULL,
    chunk_index INTEGER NOT NULL,
    start       TEXT NOT NULL,
    duration_ns INTEGER NOT NULL,
    bytes       INTEGER NOT NULL,
    sha256      TEXT NOT NULL,
    stored_at   TEXT NOT NULL,
    PRIMARY KEY (lecture_id, track, chunk_index)
);
