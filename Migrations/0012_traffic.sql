-- Access-log import (#12). A site names its logs (paths or globs, JSON array) and their LogFormat.
ALTER TABLE sites ADD COLUMN access_logs TEXT NOT NULL DEFAULT '[]';
ALTER TABLE sites ADD COLUMN access_log_format TEXT NOT NULL DEFAULT 'combined';

-- Each log file read so far, recognised by its first bytes (a rotated
-- file keeps them), so the same lines are never counted twice.
CREATE TABLE log_files (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    site_id            INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    path               TEXT NOT NULL,
    device             INTEGER NOT NULL,
    inode              INTEGER NOT NULL,
    size               INTEGER NOT NULL,
    gzip               INTEGER NOT NULL DEFAULT 0,
    -- FNV-1a (hex) of the first fingerprint_length bytes of the file's content (decompressed).
    fingerprint        TEXT NOT NULL,
    fingerprint_length INTEGER NOT NULL,
    -- Content bytes read so far: every line before this offset is counted.
    offset             INTEGER NOT NULL DEFAULT 0,
    lines              INTEGER NOT NULL DEFAULT 0,
    bad_lines          INTEGER NOT NULL DEFAULT 0,
    skipped_lines      INTEGER NOT NULL DEFAULT 0,
    format             TEXT NOT NULL,
    first_imported_at  REAL NOT NULL,
    last_imported_at   REAL NOT NULL
);
CREATE INDEX log_files_site ON log_files (site_id);

-- Requests per URL path (Cutover's canonical percent-encoding, no query). Times are seconds
-- since 1970; status classes count final statuses; bot_hits count crawler user agents;
-- served_* count requests the log attributes to a side (%R or X-Cutover-Owner), of attributed.
CREATE TABLE traffic (
    site_id          INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    path             TEXT NOT NULL,
    hits             INTEGER NOT NULL DEFAULT 0,
    bytes            INTEGER NOT NULL DEFAULT 0,
    first_seen       INTEGER NOT NULL,
    last_seen        INTEGER NOT NULL,
    status_2xx       INTEGER NOT NULL DEFAULT 0,
    status_3xx       INTEGER NOT NULL DEFAULT 0,
    status_4xx       INTEGER NOT NULL DEFAULT 0,
    status_5xx       INTEGER NOT NULL DEFAULT 0,
    status_other     INTEGER NOT NULL DEFAULT 0,
    bot_hits         INTEGER NOT NULL DEFAULT 0,
    attributed       INTEGER NOT NULL DEFAULT 0,
    served_swift     INTEGER NOT NULL DEFAULT 0,
    served_php       INTEGER NOT NULL DEFAULT 0,
    -- Hits whose normalised query string fell out of the per-path cap (traffic_queries).
    other_query_hits INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (site_id, path)
) WITHOUT ROWID;

-- The same per UTC day (days since 1970), for charts and "last N days" shares.
CREATE TABLE traffic_daily (
    site_id      INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    day          INTEGER NOT NULL,
    path         TEXT NOT NULL,
    hits         INTEGER NOT NULL DEFAULT 0,
    human_hits   INTEGER NOT NULL DEFAULT 0,
    attributed   INTEGER NOT NULL DEFAULT 0,
    served_swift INTEGER NOT NULL DEFAULT 0,
    served_php   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (site_id, day, path)
) WITHOUT ROWID;
-- "Requests to this page in the last N days" (port next, orphans).
CREATE INDEX traffic_daily_path ON traffic_daily (site_id, path, day);

-- Normalised query strings per path (noise parameters dropped, keys sorted), the top ones by
-- hits; the rest are summed in traffic.other_query_hits.
CREATE TABLE traffic_queries (
    site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    path    TEXT NOT NULL,
    query   TEXT NOT NULL,
    hits    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (site_id, path, query)
) WITHOUT ROWID;

-- Query keys per path and their values as PHP decodes them (the last of a repeated key), the
-- top values per key by hits; the rest are summed in the row with is_other = 1.
CREATE TABLE traffic_query_values (
    site_id  INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    path     TEXT NOT NULL,
    key      TEXT NOT NULL,
    is_other INTEGER NOT NULL DEFAULT 0,
    value    TEXT NOT NULL,
    hits     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (site_id, path, key, is_other, value)
) WITHOUT ROWID;
