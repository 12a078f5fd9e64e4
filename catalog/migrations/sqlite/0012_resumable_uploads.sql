-- Resumable uploads of big lecture files (tus 1.0.0; see src/api/resumable.rs). One row per
-- upload from its creation until the sweep deletes it, 24 h after its last write (or after
-- it became a lecture). The bytes received so far lie in storage below
-- uploads/<lecture_id>/ (a file, or an S3 multipart upload and its tail object), so every
-- catalog replica can take the next PATCH. No foreign keys: a row whose course or person is
-- gone still names bytes in storage that only the sweep removes with it.
-- Times are RFC 3339 UTC text.

CREATE TABLE resumable_uploads (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL,
    course_id    TEXT NOT NULL,
    lecture_id   TEXT NOT NULL UNIQUE,
    title        TEXT NOT NULL,
    file_name    TEXT,
    length       INTEGER NOT NULL,
    received     INTEGER NOT NULL DEFAULT 0,
    s3_upload_id TEXT,
    part_bytes   INTEGER,
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    finished_at  TEXT
);

CREATE INDEX resumable_uploads_expiry ON resumable_uploads (expires_at);
