-- Issue 7, privacy as features: viewing progress that respects people, and children.
-- (0013 and 0014 are other branches' migrations.)
--
-- users.age_band: under_13, 13_to_17 or adult, set by the institute. Existing and signed-up
-- accounts are adults: the institute knows who is a child and says so when inviting them.
-- users.research_opt_out: the person leaves every viewing aggregate.
-- guardian_consents: an under-13 account plays nothing until its guardian's consent is
-- recorded here (who, when, by which admin).
-- lecture_progress: one row per person and lecture: where to resume, and, unless the
-- person is under 13, their views and watch time, and, unless they also opted out, which
-- 10-second parts of the timeline they played (a bitmap as hex). No client address.
-- Times are RFC 3339 UTC text.

ALTER TABLE users ADD COLUMN age_band TEXT NOT NULL DEFAULT 'adult'
    CHECK (age_band IN ('under_13', '13_to_17', 'adult'));
ALTER TABLE users ADD COLUMN research_opt_out INTEGER NOT NULL DEFAULT 0;

CREATE TABLE guardian_consents (
    user_id       TEXT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    guardian_name TEXT NOT NULL,
    relation      TEXT NOT NULL,
    -- The admin who recorded it; NULL once that admin's account is erased.
    recorded_by   TEXT REFERENCES users (id) ON DELETE SET NULL,
    recorded_at   TEXT NOT NULL
);

CREATE TABLE lecture_progress (
    user_id              TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    lecture_id           TEXT NOT NULL REFERENCES lectures (id) ON DELETE CASCADE,
    position_seconds     REAL NOT NULL,
    views                INTEGER NOT NULL DEFAULT 0,
    watched_seconds      REAL,
    view_id              TEXT,
    view_watched_seconds REAL,
    buckets              TEXT,
    updated_at           TEXT NOT NULL,
    PRIMARY KEY (user_id, lecture_id)
);
CREATE INDEX lecture_progress_lecture ON lecture_progress (lecture_id);
