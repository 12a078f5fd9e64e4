-- Jobs enqueued idempotently (issue 3), the twin of migrations/sqlite/0009: a job is named by
-- its kind, its lecture and a dedupe key that names its input, so enqueueing the same work
-- twice finds the job already there. Rows from before get their own id as key.

ALTER TABLE jobs ADD COLUMN dedupe_key TEXT NOT NULL DEFAULT '';
UPDATE jobs SET dedupe_key = id;
CREATE UNIQUE INDEX jobs_dedupe ON jobs (kind, lecture_id, dedupe_key);
