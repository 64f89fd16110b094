-- The audit view filters by action ("export.", "responses.list") and pages
-- by id; without this index it scans the whole log.
CREATE INDEX audit_log_action ON audit_log (action, id);
