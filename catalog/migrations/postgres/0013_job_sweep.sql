-- The twin of migrations/sqlite/0013: a job's attempts each write their own media version
-- (`<job>-a<attempt>`). When the job ends, the versions of the attempts that did not complete
-- it (a worker killed, a failed attempt) are deleted from storage; swept_at says when, so a
-- sweep cut short (the catalog stopped, the store was away) is taken up again. Jobs completed
-- at their first attempt left nothing behind: they count as swept.

ALTER TABLE jobs ADD COLUMN swept_at TIMESTAMPTZ;
UPDATE jobs SET swept_at = updated_at WHERE state = 'done' AND attempts <= 1;
CREATE INDEX jobs_unswept ON jobs (updated_at) WHERE swept_at IS NULL AND state IN ('done', 'failed');
