-- Parity runs (#27.5): how the Swift side answers each page compared with PHP, per run, with
-- the probe's retention (a site keeps its newest `probe_retention` runs).
CREATE TABLE parity_runs (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    site_id             INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    started_at          TEXT NOT NULL,
    finished_at         TEXT,
    status              TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'interrupted')),
    pid                 INTEGER,
    concurrency         INTEGER NOT NULL,
    url_count           INTEGER NOT NULL DEFAULT 0,
    same_count          INTEGER NOT NULL DEFAULT 0,
    different_count     INTEGER NOT NULL DEFAULT 0,
    noisy_count         INTEGER NOT NULL DEFAULT 0,
    error_count         INTEGER NOT NULL DEFAULT 0,
    not_compared_count  INTEGER NOT NULL DEFAULT 0,
    -- Fields that were noise on enough of the run's pages to be noise on every page: a JSON array.
    site_noise          TEXT NOT NULL DEFAULT '[]',
    error               TEXT
);
CREATE INDEX parity_runs_site ON parity_runs(site_id, id);

-- One page's comparison in a run. Values are the library's (each at most 300 characters), kept
-- as text; whoever shows them escapes them.
CREATE TABLE parity_results (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id       INTEGER NOT NULL REFERENCES parity_runs(id) ON DELETE CASCADE,
    url_id       INTEGER NOT NULL REFERENCES urls(id) ON DELETE CASCADE,
    verdict      TEXT NOT NULL CHECK (verdict IN ('same', 'different', 'noisy', 'error', 'not-compared')),
    -- Why the verdict is error, noisy or not-compared.
    reason       TEXT,
    -- JSON: [{"field": …, "php": … | null, "swift": … | null}], the differences beyond noise.
    differences  TEXT NOT NULL DEFAULT '[]',
    -- JSON: field names that were noise for this page (its own or site-wide).
    noise        TEXT NOT NULL DEFAULT '[]',
    -- JSON: {rule: differences it hid}.
    hidden       TEXT NOT NULL DEFAULT '{}',
    fields       INTEGER NOT NULL DEFAULT 0,
    -- SHA-256 of each side's body as read (up to the cap), hex.
    php_hash     TEXT,
    swift_hash   TEXT
);
CREATE INDEX parity_results_run ON parity_results(run_id);
CREATE INDEX parity_results_url ON parity_results(url_id, run_id);

-- The latest verdict per page, on the URL row so lists filter on it without joins; NULL until
-- a run compared the page. Ready to flip = the Swift backend answers (ready_to_flip, the
-- probe's) and parity is 'same'.
ALTER TABLE urls ADD COLUMN parity TEXT CHECK (parity IN ('same', 'different', 'noisy', 'error'));
ALTER TABLE urls ADD COLUMN parity_run INTEGER;
