-- A site's closed days (bank holidays) for case due times: comma-separated
-- YYYY-MM-DD dates in the site's calendar, sorted. Before this, a holiday
-- counted as a working day and a case opened before a holiday weekend was
-- due a day early; rows made before have '' here, no closed days.
ALTER TABLE case_rules ADD COLUMN closed_days TEXT NOT NULL DEFAULT '';
