-- Both sides of a page, per UTC day (#26.3): what a canary compares. For each path with exact rows
-- (a page of the inventory, or one that earned rows) and each side the log line says served it
-- (%R: proxy-server is Swift, a PHP handler is PHP; or the owner header), the status classes and
-- the durations (%D, %T) in fixed log-scale buckets (`LatencyHistogram`: four per power of two,
-- stored sparse). Bounded per page: two sides a day, kept 90 days back from the newest.
CREATE TABLE traffic_sides (
    site_id      INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    path         TEXT NOT NULL,
    day          INTEGER NOT NULL,
    side         TEXT NOT NULL CHECK (side IN ('php', 'swift')),
    hits         INTEGER NOT NULL DEFAULT 0,
    status_2xx   INTEGER NOT NULL DEFAULT 0,
    status_3xx   INTEGER NOT NULL DEFAULT 0,
    status_4xx   INTEGER NOT NULL DEFAULT 0,
    status_5xx   INTEGER NOT NULL DEFAULT 0,
    status_other INTEGER NOT NULL DEFAULT 0,
    -- Requests whose line carried a duration, and their histogram.
    timed        INTEGER NOT NULL DEFAULT 0,
    latency      BLOB NOT NULL DEFAULT x'',
    PRIMARY KEY (site_id, path, day, side)
) WITHOUT ROWID;
