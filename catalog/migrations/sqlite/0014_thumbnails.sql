-- A track's pictures (issue 4): the worker stores them beside the track's playlists in the
-- lecture's media version (`poster.jpg`, `sprite-<n>.jpg`, `thumbnails.vtt`, `chapters.vtt`)
-- and reports what is there; the catalog serves only what a row says exists. A job's new
-- media version replaces these rows with its own, like renditions and segments.
CREATE TABLE thumbnails (
    lecture_id TEXT NOT NULL REFERENCES lectures (id) ON DELETE CASCADE,
    track      TEXT NOT NULL,
    -- poster.jpg is stored.
    poster     BOOLEAN NOT NULL DEFAULT FALSE,
    -- Sprite sheets stored (sprite-0.jpg …); thumbnails.vtt is there when there is one.
    sprites    INTEGER NOT NULL DEFAULT 0,
    -- Chapters in chapters.vtt; it is there when there is one.
    chapters   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (lecture_id, track)
);
