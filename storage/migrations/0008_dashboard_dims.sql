-- Per-dimension daily rollups for the dashboards (issue 4). A view filtered
-- on a provider, a survey or a channel with week or day buckets could not
-- use the monthly tables and summed the fine daily rollups, ~330,000 theme
-- rows a year (290 ms SQLite, 540 ms PostgreSQL p95 at 1,000,000
-- responses). These tables hold, for each of those three dimensions alone,
-- the counters of each named value by day and site, summed over the other
-- columns (~14 theme rows per value, day and site), so such a view reads a
-- few thousand rows. dim is 'provider', 'survey' or 'channel'; "none" ('')
-- is not stored, since no filter can ask for it. Survey rows keep the
-- channel apart (other rows have channel ''), so a survey and a channel
-- filtered together read them too. They are written in the same
-- transaction as the other rollups (storage/stats_rollup.go) and start from
-- the fine rollups' current contents. On SQLite they are WITHOUT ROWID: the
-- primary key is the table, so a range of it is read in order, and an
-- upsert touches one B-tree.

CREATE TABLE rollup_dim_daily (
    dim         TEXT NOT NULL,
    value       TEXT NOT NULL,
    day         TEXT NOT NULL,
    site        TEXT NOT NULL,
    channel     TEXT NOT NULL,
    responses   BIGINT NOT NULL DEFAULT 0,
    fft_0       BIGINT NOT NULL DEFAULT 0,
    fft_1       BIGINT NOT NULL DEFAULT 0,
    fft_2       BIGINT NOT NULL DEFAULT 0,
    fft_3       BIGINT NOT NULL DEFAULT 0,
    fft_4       BIGINT NOT NULL DEFAULT 0,
    fft_5       BIGINT NOT NULL DEFAULT 0,
    nps_promoters  BIGINT NOT NULL DEFAULT 0,
    nps_passives   BIGINT NOT NULL DEFAULT 0,
    nps_detractors BIGINT NOT NULL DEFAULT 0,
    comments    BIGINT NOT NULL DEFAULT 0,
    positive    BIGINT NOT NULL DEFAULT 0,
    neutral     BIGINT NOT NULL DEFAULT 0,
    negative    BIGINT NOT NULL DEFAULT 0,
    mixed       BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (dim, value, day, site, channel)
--sqlite: ) WITHOUT ROWID;
--postgres: );

CREATE TABLE rollup_dim_themes (
    dim      TEXT NOT NULL,
    value    TEXT NOT NULL,
    day      TEXT NOT NULL,
    site     TEXT NOT NULL,
    channel  TEXT NOT NULL,
    theme    TEXT NOT NULL,
    polarity TEXT NOT NULL,
    n        BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (dim, value, day, site, channel, theme, polarity)
--sqlite: ) WITHOUT ROWID;
--postgres: );

INSERT INTO rollup_dim_daily (dim, value, day, site, channel, responses, fft_0, fft_1, fft_2, fft_3, fft_4, fft_5,
    nps_promoters, nps_passives, nps_detractors, comments, positive, neutral, negative, mixed)
SELECT 'provider', provider, day, site, '', SUM(responses), SUM(fft_0), SUM(fft_1), SUM(fft_2), SUM(fft_3), SUM(fft_4), SUM(fft_5),
    SUM(nps_promoters), SUM(nps_passives), SUM(nps_detractors), SUM(comments), SUM(positive), SUM(neutral),
    SUM(negative), SUM(mixed)
FROM rollup_daily WHERE provider <> '' GROUP BY provider, day, site;

INSERT INTO rollup_dim_daily (dim, value, day, site, channel, responses, fft_0, fft_1, fft_2, fft_3, fft_4, fft_5,
    nps_promoters, nps_passives, nps_detractors, comments, positive, neutral, negative, mixed)
SELECT 'survey', survey, day, site, channel, SUM(responses), SUM(fft_0), SUM(fft_1), SUM(fft_2), SUM(fft_3), SUM(fft_4), SUM(fft_5),
    SUM(nps_promoters), SUM(nps_passives), SUM(nps_detractors), SUM(comments), SUM(positive), SUM(neutral),
    SUM(negative), SUM(mixed)
FROM rollup_daily WHERE survey <> '' GROUP BY survey, day, site, channel;

INSERT INTO rollup_dim_daily (dim, value, day, site, channel, responses, fft_0, fft_1, fft_2, fft_3, fft_4, fft_5,
    nps_promoters, nps_passives, nps_detractors, comments, positive, neutral, negative, mixed)
SELECT 'channel', channel, day, site, '', SUM(responses), SUM(fft_0), SUM(fft_1), SUM(fft_2), SUM(fft_3), SUM(fft_4), SUM(fft_5),
    SUM(nps_promoters), SUM(nps_passives), SUM(nps_detractors), SUM(comments), SUM(positive), SUM(neutral),
    SUM(negative), SUM(mixed)
FROM rollup_daily WHERE channel <> '' GROUP BY channel, day, site;

INSERT INTO rollup_dim_themes (dim, value, day, site, channel, theme, polarity, n)
SELECT 'provider', provider, day, site, '', theme, polarity, SUM(n)
FROM rollup_themes WHERE provider <> '' GROUP BY provider, day, site, theme, polarity;

INSERT INTO rollup_dim_themes (dim, value, day, site, channel, theme, polarity, n)
SELECT 'survey', survey, day, site, channel, theme, polarity, SUM(n)
FROM rollup_themes WHERE survey <> '' GROUP BY survey, day, site, channel, theme, polarity;

INSERT INTO rollup_dim_themes (dim, value, day, site, channel, theme, polarity, n)
SELECT 'channel', channel, day, site, '', theme, polarity, SUM(n)
FROM rollup_themes WHERE channel <> '' GROUP BY channel, day, site, theme, polarity;

-- Other filter combinations read the fine rollups. With a department they
-- go by its index (migration 0002); with a provider, by this one: a
-- provider's rows are ~1/12 of them. (On SQLite a row enters an index when
-- it is made, once a day per combination; the upserts after that change
-- only the counters.)
CREATE INDEX rollup_daily_provider ON rollup_daily (provider, day);
CREATE INDEX rollup_themes_provider ON rollup_themes (provider, day);
