-- Security: a login throttle shared by every instance, and an audit log the
-- application cannot rewrite.

-- Failed sign-ins per key ("acct:<email>" or "ip:<address>"). Kept in the
-- database rather than in memory so that several PostgreSQL instances count
-- one limit together, a restart does not hand out fresh guesses, and an
-- admin's "clear lock" reaches every instance.
CREATE TABLE login_throttle (
    key          TEXT PRIMARY KEY,
    failures     INTEGER NOT NULL DEFAULT 0,
    window_start BIGINT NOT NULL DEFAULT 0,
    locked_until BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX login_throttle_locked ON login_throttle (locked_until);

-- The audit log is append-only: the database itself refuses to change or
-- remove a line, so neither a bug nor a compromised application account
-- (short of a schema owner dropping the trigger) can cover its tracks.
--sqlite: CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
--sqlite: CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
--postgres: CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$;
--postgres: CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
--postgres: CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
