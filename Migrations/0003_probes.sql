-- Live probes: who really answers each URL, per run, with history.
CREATE TABLE probe_runs (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    site_id          INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    started_at       TEXT NOT NULL,
    finished_at      TEXT,
    status           TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'interrupted')),
    pid              INTEGER,
    concurrency      INTEGER NOT NULL,
    url_count        INTEGER NOT NULL DEFAULT 0,
    drift_count      INTEGER NOT NULL DEFAULT 0,
    error_count      INTEGER NOT NULL DEFAULT 0,
    ready_count      INTEGER NOT NULL DEFAULT 0,
    fallback_healthy INTEGER,
    fallback_status  INTEGER,
    fallback_detail  TEXT,
    error            TEXT
);
CREATE INDEX probe_runs_site ON probe_runs(site_id, id);

CREATE TABLE probe_results (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id          INTEGER NOT NULL REFERENCES probe_runs(id) ON DELETE CASCADE,
    url_id          INTEGER NOT NULL REFERENCES urls(id) ON DELETE CASCADE,
    expected_owner  TEXT,
    status          INTEGER,
    observed_owner  TEXT CHECK (observed_owner IN ('php', 'swift', 'static')),
    owner_source    TEXT CHECK (owner_source IN ('marker', 'guessed')),
    latency_ms      REAL NOT NULL,
    content_type    TEXT,
    content_length  INTEGER,
    body_hash       TEXT,
    body_truncated  INTEGER NOT NULL DEFAULT 0,
    location        TEXT,
    error_kind      TEXT,
    error_message   TEXT,
    backend_status  INTEGER,
    backend_error   TEXT,
    ready_to_flip   INTEGER NOT NULL DEFAULT 0,
    drift           INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX probe_results_run ON probe_results(run_id);
CREATE INDEX probe_results_url ON probe_results(url_id, run_id);

-- The latest probe per URL, kept on the URL row so lists filter and sort without joins.
ALTER TABLE urls ADD COLUMN observed_owner TEXT CHECK (observed_owner IN ('php', 'swift', 'static'));
ALTER TABLE urls ADD COLUMN observed_source TEXT;
ALTER TABLE urls ADD COLUMN last_status INTEGER;
ALTER TABLE urls ADD COLUMN last_latency_ms REAL;
ALTER TABLE urls ADD COLUMN last_probe_run INTEGER;
ALTER TABLE urls ADD COLUMN last_error TEXT;
ALTER TABLE urls ADD COLUMN ready_to_flip INTEGER NOT NULL DEFAULT 0;
ALTER TABLE urls ADD COLUMN drift INTEGER NOT NULL DEFAULT 0;
CREATE INDEX urls_site_drift ON urls(site_id, drift);

-- Per-site probe settings: the owner marker header and how many runs of history to keep.
ALTER TABLE sites ADD COLUMN owner_header TEXT NOT NULL DEFAULT 'X-Cutover-Owner';
ALTER TABLE sites ADD COLUMN probe_retention INTEGER NOT NULL DEFAULT 30;
