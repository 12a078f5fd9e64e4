-- Raw chunks a capture box uploaded from its spool, the twin of migrations/sqlite/0004
-- (design decision 1; see src/api/chunks.rs). One row per chunk the catalog holds in
-- storage at raw/<lecture_id>/<track>/<chunk_index>.ts, written only after its SHA-256
-- matched.

CREATE TABLE raw_chunks (
    lecture_id  TEXT NOT NULL REFERENCES lectures (id) ON DELETE CASCADE,
    track       TEXT NOT NULL,
    chunk_index BIGINT NOT NULL,
    start       TIMESTAMPTZ NOT NULL,
    duration_ns BIGINT NOT NULL,
    bytes       BIGINT NOT NULL,
    sha256      TEXT NOT NULL,
    stored_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (lecture_id, track, chunk_index)
);
