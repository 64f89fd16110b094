-- Core schema. Times are Unix milliseconds (UTC) so that SQLite and PostgreSQL
-- compare and index them the same way; local days are computed in Go in the
-- site's time zone and stored as 'YYYY-MM-DD'.

CREATE TABLE sites (
    slug       TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    time_zone  TEXT NOT NULL DEFAULT 'UTC',
    created_at BIGINT NOT NULL
);

CREATE TABLE departments (
    site  TEXT NOT NULL REFERENCES sites(slug) ON DELETE CASCADE,
    slug  TEXT NOT NULL,
    name  TEXT NOT NULL,
    PRIMARY KEY (site, slug)
);

CREATE TABLE providers (
    site  TEXT NOT NULL REFERENCES sites(slug) ON DELETE CASCADE,
    slug  TEXT NOT NULL,
    name  TEXT NOT NULL,
    PRIMARY KEY (site, slug)
);

CREATE TABLE surveys (
    slug       TEXT NOT NULL,
    version    INTEGER NOT NULL,
    definition TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (slug, version)
);

CREATE TABLE responses (
    seq            {{ID}},
    id             TEXT NOT NULL UNIQUE,
    survey         TEXT NOT NULL,
    survey_version INTEGER NOT NULL,
    site           TEXT NOT NULL REFERENCES sites(slug),
    department     TEXT NOT NULL DEFAULT '',
    provider       TEXT NOT NULL DEFAULT '',
    channel        TEXT NOT NULL,
    lang           TEXT NOT NULL,
    submitted_at   BIGINT NOT NULL,
    local_day      TEXT NOT NULL,
    fingerprint    TEXT NOT NULL,
    fft            INTEGER,
    nps            INTEGER,
    wants_contact  INTEGER NOT NULL DEFAULT 0,
    device_id      TEXT NOT NULL DEFAULT '',
    FOREIGN KEY (survey, survey_version) REFERENCES surveys(slug, version)
);
CREATE INDEX responses_site_time ON responses (site, submitted_at);
CREATE INDEX responses_time ON responses (submitted_at);

CREATE TABLE answers (
    response_seq     BIGINT NOT NULL REFERENCES responses(seq) ON DELETE CASCADE,
    question         TEXT NOT NULL,
    position         INTEGER NOT NULL,
    qtype            TEXT NOT NULL,
    intent           TEXT NOT NULL DEFAULT '',
    value_num        INTEGER,
    value_text       TEXT,
    value_choices    TEXT,
    sentiment        TEXT,
    score            {{REAL}},
    themes           TEXT,
    analyzer_version TEXT,
    PRIMARY KEY (response_seq, question)
);
CREATE INDEX answers_analyzer ON answers (analyzer_version) ;

CREATE TABLE comment_themes (
    response_seq BIGINT NOT NULL REFERENCES responses(seq) ON DELETE CASCADE,
    question     TEXT NOT NULL,
    theme        TEXT NOT NULL,
    polarity     TEXT NOT NULL,
    PRIMARY KEY (response_seq, question, theme)
);
CREATE INDEX comment_themes_theme ON comment_themes (theme, polarity);

CREATE TABLE contacts (
    response_seq BIGINT PRIMARY KEY REFERENCES responses(seq) ON DELETE CASCADE,
    sealed       {{BLOB}} NOT NULL,
    created_at   BIGINT NOT NULL
);

CREATE TABLE invitations (
    id          {{ID}},
    token_hash  TEXT NOT NULL UNIQUE,
    survey      TEXT NOT NULL,
    site        TEXT NOT NULL REFERENCES sites(slug),
    department  TEXT NOT NULL DEFAULT '',
    provider    TEXT NOT NULL DEFAULT '',
    visit_date  TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT,
    response_id TEXT,
    created_by  TEXT NOT NULL DEFAULT ''
);

CREATE TABLE devices (
    id         TEXT PRIMARY KEY,
    site       TEXT NOT NULL REFERENCES sites(slug),
    name       TEXT NOT NULL,
    key_hash   TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

CREATE TABLE users (
    id            {{ID}},
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL,
    sites         TEXT NOT NULL DEFAULT '',
    created_at    BIGINT NOT NULL,
    password_at   BIGINT NOT NULL,
    disabled      BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE TABLE sessions (
    id_hash      TEXT PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);

CREATE TABLE api_tokens (
    id         {{ID}},
    name       TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    role       TEXT NOT NULL,
    created_by BIGINT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);

CREATE TABLE audit_log (
    id     {{ID}},
    at     BIGINT NOT NULL,
    actor  TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_at ON audit_log (at);

-- Daily rollup, updated in the same transaction as each submission so that
-- dashboards never scan responses. Empty strings stand for "none".
CREATE TABLE rollup_daily (
    day         TEXT NOT NULL,
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
    PRIMARY KEY (day, site, department, provider, survey, channel)
);

CREATE TABLE rollup_themes (
    day         TEXT NOT NULL,
    site        TEXT NOT NULL,
    department  TEXT NOT NULL,
    provider    TEXT NOT NULL,
    survey      TEXT NOT NULL,
    channel     TEXT NOT NULL,
    theme       TEXT NOT NULL,
    polarity    TEXT NOT NULL,
    n           BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (day, site, department, provider, survey, channel, theme, polarity)
);
