-- A manager's API token is limited to sites, as a manager's account is
-- (comma-separated slugs, like users.sites). Before this, a token carried a
-- role only, so a manager token saw every site. Rows made before have ''
-- here; the API refuses a manager token without sites rather than reading
-- '' as "every site".
ALTER TABLE api_tokens ADD COLUMN sites TEXT NOT NULL DEFAULT '';
