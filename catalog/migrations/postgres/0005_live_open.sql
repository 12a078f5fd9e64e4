-- Whether a worker is receiving the lecture live right now: set when a session announces its
-- renditions, cleared when the session ends. A session that ends while the box still records
-- (a network cut) leaves the lecture capturing, so the worker listens again; the box's stop
-- then makes it ready at once, or processing until the open session closes.
ALTER TABLE lectures ADD COLUMN live_open BOOLEAN NOT NULL DEFAULT FALSE;
