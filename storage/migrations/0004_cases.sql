-- Follow-up cases, their notes, per-site case rules, "You said, we did"
-- actions and the alert outbox with its attempt log (issue 8).

-- One case per response: opened in the submission's transaction.
CREATE TABLE cases (
    id            {{ID}},
    response_seq  BIGINT NOT NULL UNIQUE REFERENCES responses(seq) ON DELETE CASCADE,
    response_id   TEXT NOT NULL,
    site          TEXT NOT NULL REFERENCES sites(slug),
    status        TEXT NOT NULL DEFAULT 'new',
    urgent        INTEGER NOT NULL DEFAULT 0,
    reasons       TEXT NOT NULL,
    assignee      TEXT NOT NULL DEFAULT '',
    opened_at     BIGINT NOT NULL,
    opened_month  TEXT NOT NULL,
    due_at        BIGINT NOT NULL,
    contacted_at  BIGINT,
    closed_at     BIGINT,
    close_reason  TEXT NOT NULL DEFAULT '',
    outcome       TEXT NOT NULL DEFAULT '',
    updated_at    BIGINT NOT NULL
);
CREATE INDEX cases_queue ON cases (site, status, due_at);
CREATE INDEX cases_month ON cases (opened_month, site);

CREATE TABLE case_notes (
    id      {{ID}},
    case_id BIGINT NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    at      BIGINT NOT NULL,
    author  TEXT NOT NULL,
    body    TEXT NOT NULL
);
CREATE INDEX case_notes_case ON case_notes (case_id, at);

-- A site without a row uses the defaults (cases.DefaultRules).
CREATE TABLE case_rules (
    site              TEXT PRIMARY KEY REFERENCES sites(slug) ON DELETE CASCADE,
    fft_poor          INTEGER NOT NULL,
    nps_detractor     INTEGER NOT NULL,
    ignored_dismissed INTEGER NOT NULL,
    alert_new         INTEGER NOT NULL,
    due_working_days  INTEGER NOT NULL,
    working_days      TEXT NOT NULL,
    updated_at        BIGINT NOT NULL,
    updated_by        TEXT NOT NULL DEFAULT ''
);

CREATE TABLE published_actions (
    id           {{ID}},
    site         TEXT NOT NULL REFERENCES sites(slug) ON DELETE CASCADE,
    lang         TEXT NOT NULL DEFAULT '',
    body         TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    author       TEXT NOT NULL,
    published_at BIGINT,
    withdrawn_at BIGINT
);
CREATE INDEX published_actions_site ON published_actions (site, published_at);

-- The alert outbox: one row per message and recipient; dedupe keeps a
-- restart or a second instance from sending the same alert twice.
CREATE TABLE alert_deliveries (
    id          {{ID}},
    dedupe      TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL,
    channel     TEXT NOT NULL,
    target      TEXT NOT NULL,
    subject     TEXT NOT NULL,
    payload     TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'pending',
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_at     BIGINT NOT NULL,
    last_error  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX alert_deliveries_due ON alert_deliveries (status, next_at);

CREATE TABLE alert_attempts (
    id          {{ID}},
    delivery_id BIGINT NOT NULL REFERENCES alert_deliveries(id) ON DELETE CASCADE,
    at          BIGINT NOT NULL,
    ok          INTEGER NOT NULL,
    status_code INTEGER NOT NULL DEFAULT 0,
    error       TEXT NOT NULL DEFAULT '',
    duration_ms BIGINT NOT NULL
);
CREATE INDEX alert_attempts_delivery ON alert_attempts (delivery_id);
