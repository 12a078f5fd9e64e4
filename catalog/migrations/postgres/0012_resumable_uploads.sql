-- Resumable uploads of big lecture files, the twin of migrations/sqlite/0012 (tus 1.0.0; see
-- src/api/resumable.rs). One row per upload from its creation until the sweep deletes it,
-- 24 h after its last write (or after it became a lecture). The bytes received so far lie in
-- storage below uploads/<lecture_id>/ (a file, or an S3 multipart upload and its tail
-- object), so every catalog replica can take the next PATCH. No foreign keys: a row whose
-- course or person is gone still names bytes in storage that only the sweep removes with it.

CREATE TABLE resumable_uploads (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL,
    course_id    TEXT NOT NULL,
    lecture_id   TEXT NOT NULL UNIQUE,
    title        TEXT NOT NULL,
    file_name    TEXT,
    length       BIGINT NOT NULL,
    received     BIGINT NOT NULL DEFAULT 0,
    s3_upload_id TEXT,
    part_bytes   BIGINT,
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    finished_at  TIMESTAMPTZ
);

CREATE INDEX resumable_uploads_expiry ON resumable_uploads (expires_at);
