-- Speed of bulk writes (scripts/bench-crawl.sh), no change in what is stored.
--
-- 1. CHECK (x IN ('php', 'swift', 'static')) made SQLite 3.40 build a small temporary b-tree
--    for every row written: inserting 100,000 URLs took 1.9 s, 0.3 s without the checks. The
--    same rules written with OR cost next to nothing. SQLite cannot change a CHECK in place,
--    so urls, ownership_events and probe_results are rebuilt (same ids, same rows).
-- 2. last_seen_crawl was rewritten on every present row by every crawl (half the save time of
--    a no-change re-crawl). It becomes changed_crawl: the crawl that last added, changed or
--    removed the row; a present file was seen by the site's latest successful crawl.
-- 3. urls_site_owner was a prefix of urls_site_owner_path; the planned and drift indexes only
--    ever look up the few rows that have a plan or drift, so they become partial indexes.

CREATE TABLE urls_new (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    site_id          INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    path             TEXT NOT NULL,
    file_path        TEXT,
    owner            TEXT NOT NULL CHECK (owner = 'php' OR owner = 'swift' OR owner = 'static'),
    planned_owner    TEXT CHECK (planned_owner = 'php' OR planned_owner = 'swift' OR planned_owner = 'static'),
    size             INTEGER,
    mtime            REAL,
    content_hash     TEXT,
    first_seen_crawl INTEGER REFERENCES crawls(id) ON DELETE SET NULL,
    changed_crawl    INTEGER REFERENCES crawls(id) ON DELETE SET NULL,
    gone             INTEGER NOT NULL DEFAULT 0,
    flags            INTEGER NOT NULL DEFAULT 0,
    observed_owner   TEXT CHECK (observed_owner = 'php' OR observed_owner = 'swift' OR observed_owner = 'static'),
    observed_source  TEXT,
    last_status      INTEGER,
    last_latency_ms  REAL,
    last_probe_run   INTEGER,
    last_error       TEXT,
    ready_to_flip    INTEGER NOT NULL DEFAULT 0,
    drift            INTEGER NOT NULL DEFAULT 0,
    redirect_to      TEXT,
    UNIQUE (site_id, path)
);
INSERT INTO urls_new (id, site_id, path, file_path, owner, planned_owner, size, mtime, content_hash, first_seen_crawl,
                      changed_crawl, gone, flags, observed_owner, observed_source, last_status, last_latency_ms,
                      last_probe_run, last_error, ready_to_flip, drift, redirect_to)
SELECT id, site_id, path, file_path, owner, planned_owner, size, mtime, content_hash, first_seen_crawl,
       last_seen_crawl, gone, flags, observed_owner, observed_source, last_status, last_latency_ms,
       last_probe_run, last_error, ready_to_flip, drift, redirect_to
FROM urls;
DROP TABLE urls;
ALTER TABLE urls_new RENAME TO urls;
CREATE INDEX urls_site_planned ON urls(site_id, planned_owner) WHERE planned_owner IS NOT NULL;
CREATE INDEX urls_site_drift ON urls(site_id, drift) WHERE drift = 1;
CREATE INDEX urls_site_counts ON urls(site_id, gone, owner, flags);
CREATE INDEX urls_site_owner_path ON urls(site_id, owner, path);

CREATE TABLE ownership_events_new (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    url_id       INTEGER NOT NULL REFERENCES urls(id) ON DELETE CASCADE,
    from_owner   TEXT CHECK (from_owner = 'php' OR from_owner = 'swift' OR from_owner = 'static'),
    to_owner     TEXT NOT NULL CHECK (to_owner = 'php' OR to_owner = 'swift' OR to_owner = 'static'),
    at           TEXT NOT NULL,
    reason       TEXT NOT NULL,
    actor        TEXT NOT NULL DEFAULT 'crawl',
    operation_id INTEGER REFERENCES flip_operations(id) ON DELETE SET NULL
);
INSERT INTO ownership_events_new (id, url_id, from_owner, to_owner, at, reason, actor, operation_id)
SELECT id, url_id, from_owner, to_owner, at, reason, actor, operation_id FROM ownership_events;
DROP TABLE ownership_events;
ALTER TABLE ownership_events_new RENAME TO ownership_events;
CREATE INDEX ownership_events_url ON ownership_events(url_id, id);

CREATE TABLE probe_results_new (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id          INTEGER NOT NULL REFERENCES probe_runs(id) ON DELETE CASCADE,
    url_id          INTEGER NOT NULL REFERENCES urls(id) ON DELETE CASCADE,
    expected_owner  TEXT,
    status          INTEGER,
    observed_owner  TEXT CHECK (observed_owner = 'php' OR observed_owner = 'swift' OR observed_owner = 'static'),
    owner_source    TEXT CHECK (owner_source = 'marker' OR owner_source = 'guessed'),
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
INSERT INTO probe_results_new SELECT id, run_id, url_id, expected_owner, status, observed_owner, owner_source, latency_ms,
    content_type, content_length, body_hash, body_truncated, location, error_kind, error_message, backend_status,
    backend_error, ready_to_flip, drift FROM probe_results;
DROP TABLE probe_results;
ALTER TABLE probe_results_new RENAME TO probe_results;
CREATE INDEX probe_results_run ON probe_results(run_id);
CREATE INDEX probe_results_url ON probe_results(url_id, run_id);
