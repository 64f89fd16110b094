-- Department-keyed per-dimension theme rollups for the dashboards (issue 4).
-- A department filtered together with a provider, a survey or a channel
-- read the fine theme rollups by the department's index: ~83,000 rows a
-- year for a department at two sites, each found again by its primary key
-- on SQLite (week buckets over 12 months: 380-408 ms SQLite, 233-469 ms
-- PostgreSQL p95 at 1,000,000 responses). This table holds, for each named
-- department and each of those three dimensions alone, the theme counts of
-- each named value by day and site, like rollup_dim_themes (migration 0008:
-- survey rows keep the channel apart, other rows have channel ''), so such
-- a view reads ~10,000 rows. Counts stay with the fine rollup_daily (a
-- department's ~5,000 rows a year). Written in the same transaction as the
-- other rollups (storage/stats_rollup.go), and started from the fine
-- rollups' current contents; WITHOUT ROWID on SQLite, as in 0008.

CREATE TABLE rollup_dept_dim_themes (
    department TEXT NOT NULL,
    dim        TEXT NOT NULL,
    value      TEXT NOT NULL,
    day        TEXT NOT NULL,
    site       TEXT NOT NULL,
    channel    TEXT NOT NULL,
    theme      TEXT NOT NULL,
    polarity   TEXT NOT NULL,
    n          BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (department, dim, value, day, site, channel, theme, polarity)
--sqlite: ) WITHOUT ROWID;
--postgres: );

INSERT INTO rollup_dept_dim_themes (department, dim, value, day, site, channel, theme, polarity, n)
SELECT department, 'provider', provider, day, site, '', theme, polarity, SUM(n)
FROM rollup_themes WHERE department <> '' AND provider <> '' GROUP BY department, provider, day, site, theme, polarity;

INSERT INTO rollup_dept_dim_themes (department, dim, value, day, site, channel, theme, polarity, n)
SELECT department, 'survey', survey, day, site, channel, theme, polarity, SUM(n)
FROM rollup_themes WHERE department <> '' AND survey <> '' GROUP BY department, survey, day, site, channel, theme, polarity;

INSERT INTO rollup_dept_dim_themes (department, dim, value, day, site, channel, theme, polarity, n)
SELECT department, 'channel', channel, day, site, '', theme, polarity, SUM(n)
FROM rollup_themes WHERE department <> '' AND channel <> '' GROUP BY department, channel, day, site, theme, polarity;
