-- Live sessions secured and concurrent (issue 4), the twin of migrations/sqlite/0003: a
-- worker advertises a host and a range of SRT ports instead of one URL; each capturing
-- lecture gets its own port of one worker and a random passphrase, cleared when the lecture
-- leaves `capturing`.

ALTER TABLE workers DROP COLUMN srt_url;
ALTER TABLE workers ADD COLUMN srt_host TEXT;
ALTER TABLE workers ADD COLUMN srt_port_first BIGINT;
ALTER TABLE workers ADD COLUMN srt_port_last BIGINT;

ALTER TABLE lectures ADD COLUMN live_worker_id TEXT REFERENCES workers (id);
ALTER TABLE lectures ADD COLUMN srt_port BIGINT;
ALTER TABLE lectures ADD COLUMN srt_passphrase TEXT;
-- The tracks the box pushes, space-separated, in the order it named them.
ALTER TABLE lectures ADD COLUMN live_tracks TEXT;
-- One capturing lecture per port of a worker.
CREATE UNIQUE INDEX lectures_live_port ON lectures (live_worker_id, srt_port)
    WHERE state = 'capturing' AND live_worker_id IS NOT NULL;
