-- Site-level daily rollups for the dashboards (issue 4). rollup_daily and
-- rollup_themes keep department, provider, survey and channel apart, which
-- makes ~50 rows per site and day; a 12-month overview without those filters
-- would sum hundreds of thousands of rows. These tables hold the same
-- counters summed over those four columns, are written in the same
-- transaction as the fine rollups (storage/stats_rollup.go), and start from
-- the fine rollups' current contents.

CREATE TABLE rollup_site_daily (
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
    PRIMARY KEY (day, site)
);

CREATE TABLE rollup_site_themes (
    day      TEXT NOT NULL,
    site     TEXT NOT NULL,
    theme    TEXT NOT NULL,
    polarity TEXT NOT NULL,
    n        BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (day, site, theme, polarity)
);

INSERT INTO rollup_site_daily (day, site, responses, fft_0, fft_1, fft_2, fft_3, fft_4, fft_5,
    nps_promoters, nps_passives, nps_detractors, comments, positive, neutral, negative, mixed)
SELECT day, site, SUM(responses), SUM(fft_0), SUM(fft_1), SUM(fft_2), SUM(fft_3), SUM(fft_4), SUM(fft_5),
    SUM(nps_promoters), SUM(nps_passives), SUM(nps_detractors), SUM(comments), SUM(positive), SUM(neutral),
    SUM(negative), SUM(mixed)
FROM rollup_daily GROUP BY day, site;

INSERT INTO rollup_site_themes (day, site, theme, polarity, n)
SELECT day, site, theme, polarity, SUM(n) FROM rollup_themes GROUP BY day, site, theme, polarity;

-- The comment explorer walks responses newest first within a local-day
-- range (see storage/stats_comments.go); its theme filter probes
-- comment_themes by primary key. Department filters on the fine rollups
-- scan by day; this index lets a filtered dashboard skip other departments.
CREATE INDEX rollup_daily_dept ON rollup_daily (department, day);
CREATE INDEX rollup_themes_dept ON rollup_themes (department, day);
