-- What each rendition holds, kept beside it so listing a course's lectures does not sum
-- every segment of every lecture: refreshed whenever segments or the rendition are recorded
-- (store/shared/media.rs).
ALTER TABLE renditions ADD COLUMN segment_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE renditions ADD COLUMN duration_seconds DOUBLE PRECISION NOT NULL DEFAULT 0;
UPDATE renditions SET
    segment_count = (SELECT COUNT(*) FROM segments s WHERE s.lecture_id = renditions.lecture_id
        AND s.track = renditions.track AND s.rung = renditions.rung),
    duration_seconds = (SELECT COALESCE(SUM(s.duration), 0.0) FROM segments s
        WHERE s.lecture_id = renditions.lecture_id AND s.track = renditions.track
        AND s.rung = renditions.rung);
