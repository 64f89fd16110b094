-- Department-level daily rollups for the dashboards (issue 4). A view
-- filtered on a department alone read the fine rollups, ~120 theme rows per
-- department and day (providers × surveys × channels), and took 150–500 ms
-- on PostgreSQL at 1,000,000 responses. These tables hold the same counters
-- summed over provider, survey and channel (~14 theme rows per department
-- and day), are written in the same transaction as the fine and site-level
-- rollups (storage/stats_rollup.go), and start from the fine rollups'
-- current contents. The department leads the key: that is the filter.

CREATE TABLE rollup_dept_daily (
    department  TEXT NOT NULL,
    day         TEXT NOT NULL,
    site        TEXT NOT NULL,
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
    PRIMARY KEY (department, day, site)
);

CREATE TABLE rollup_dept_themes (
    department TEXT NOT NULL,
    day        TEXT NOT NULL,
    site       TEXT NOT NULL,
    theme      TEXT NOT NULL,
    polarity   TEXT NOT NULL,
    n          BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (department, day, site, theme, polarity)
);

INSERT INTO rollup_dept_daily (department, day, site, responses, fft_0, fft_1, fft_2, fft_3, fft_4, fft_5,
    nps_promoters, nps_passives, nps_detractors, comments, positive, neutral, negative, mixed)
SELECT department, day, site, SUM(responses), SUM(fft_0), SUM(fft_1), SUM(fft_2), SUM(fft_3), SUM(fft_4), SUM(fft_5),
    SUM(nps_promoters), SUM(nps_passives), SUM(nps_detractors), SUM(comments), SUM(positive), SUM(neutral),
    SUM(negative), SUM(mixed)
FROM rollup_daily GROUP BY department, day, site;

INSERT INTO rollup_dept_themes (department, day, site, theme, polarity, n)
SELECT department, day, site, theme, polarity, SUM(n) FROM rollup_themes GROUP BY department, day, site, theme, polarity;

-- Site-level theme counts by month ('YYYY-MM'). A 12-month themes view
-- compared with the year before summed ~15,000 rollup_site_themes rows per
-- request (20–30 ms of PostgreSQL time alone); whole months inside the
-- period come from here (~14 rows per site and month) and only the days at
-- the edges from rollup_site_themes (storage/stats.go).
CREATE TABLE rollup_site_themes_month (
    month    TEXT NOT NULL,
    site     TEXT NOT NULL,
    theme    TEXT NOT NULL,
    polarity TEXT NOT NULL,
    n        BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (month, site, theme, polarity)
);

INSERT INTO rollup_site_themes_month (month, site, theme, polarity, n)
SELECT substr(day, 1, 7), site, theme, polarity, SUM(n) FROM rollup_site_themes GROUP BY substr(day, 1, 7), site, theme, polarity;

-- The fine rollups by month, for views filtered on provider, survey or
-- channel: a 12-month themes view filtered on a survey summed ~330,000 daily
-- rows a year (600–900 ms at 1,000,000 responses on both engines); a month
-- holds ~1,400 count rows and ~18,000 theme rows for the whole service.
CREATE TABLE rollup_daily_month (
    month       TEXT NOT NULL,
    site        TEXT NOT NULL,
    department  TEXT NOT NULL,
    provider    TEXT NOT NULL,
    survey      TEXT NOT NULL,
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
    PRIMARY KEY (month, site, department, provider, survey, channel)
);

CREATE TABLE rollup_themes_month (
    month       TEXT NOT NULL,
    site        TEXT NOT NULL,
    department  TEXT NOT NULL,
    provider    TEXT NOT NULL,
    survey      TEXT NOT NULL,
    channel     TEXT NOT NULL,
    theme       TEXT NOT NULL,
    polarity    TEXT NOT NULL,
    n           BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (month, site, department, provider, survey, channel, theme, polarity)
);

INSERT INTO rollup_daily_month (month, site, department, provider, survey, channel, responses,
    fft_0, fft_1, fft_2, fft_3, fft_4, fft_5, nps_promoters, nps_passives, nps_detractors,
    comments, positive, neutral, negative, mixed)
SELECT substr(day, 1, 7), site, department, provider, survey, channel, SUM(responses),
    SUM(fft_0), SUM(fft_1), SUM(fft_2), SUM(fft_3), SUM(fft_4), SUM(fft_5),
    SUM(nps_promoters), SUM(nps_passives), SUM(nps_detractors), SUM(comments), SUM(positive), SUM(neutral),
    SUM(negative), SUM(mixed)
FROM rollup_daily GROUP BY substr(day, 1, 7), site, department, provider, survey, channel;

INSERT INTO rollup_themes_month (month, site, department, provider, survey, channel, theme, polarity, n)
SELECT substr(day, 1, 7), site, department, provider, survey, channel, theme, polarity, SUM(n)
FROM rollup_themes GROUP BY substr(day, 1, 7), site, department, provider, survey, channel, theme, polarity;
