-- Planned lectures become recordings (issue 3), the twin of migrations/sqlite/0010: a box
-- starting a recording looks for the lectures planned in its room that are still
-- `scheduled`. Only those rows are indexed, so the index stays small whatever the number of
-- recorded lectures.

CREATE INDEX lectures_planned_in_room ON lectures (room_id, planned_start)
    WHERE state = 'scheduled';
