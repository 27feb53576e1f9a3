-- The log's long tail, bounded (#26): scanners, mistyped links and cache busters made a row in
-- traffic (and traffic_daily) for every distinct path ever requested, about 120 bytes and 15 µs
-- each, for ever. Now a requested path gets exact rows only when it is a page of the inventory,
-- already has a row, or earns one (below); every other request is counted in one bounded
-- Space-Saving summary per UTC day: at most `capacity` paths, each with a count that
-- overestimates its requests that day by at most `error`, and error <= hits / capacity of the day.
--
-- A path earns exact rows when a day's summary is certain it had more than hits / capacity
-- requests that day (count - error), or when it was requested on a day while another day's
-- summary holds it (requested on two UTC days). Its rows count from then on: `exact_since`.
CREATE TABLE traffic_tail (
    site_id    INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    day        INTEGER NOT NULL,
    path       TEXT NOT NULL,
    -- At least the path's requests that day, at most `error` more.
    hits       INTEGER NOT NULL,
    error      INTEGER NOT NULL,
    -- Of the requests counted since the path took its counter (no inherited count): by people,
    -- and answered 4xx. Lower bounds.
    human_hits INTEGER NOT NULL DEFAULT 0,
    hits_4xx   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (site_id, day, path)
) WITHOUT ROWID;
CREATE INDEX traffic_tail_path ON traffic_tail (site_id, path);

-- Each day's summary as a whole: every request it counted (N), the same by people, attributed
-- by the log, served by each side, answered 4xx; its capacity (K) and floor (the largest
-- counter given back when a path earned rows: a path without a counter had at most this many).
CREATE TABLE traffic_tail_days (
    site_id      INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    day          INTEGER NOT NULL,
    hits         INTEGER NOT NULL DEFAULT 0,
    human_hits   INTEGER NOT NULL DEFAULT 0,
    attributed   INTEGER NOT NULL DEFAULT 0,
    served_swift INTEGER NOT NULL DEFAULT 0,
    served_php   INTEGER NOT NULL DEFAULT 0,
    hits_4xx     INTEGER NOT NULL DEFAULT 0,
    capacity     INTEGER NOT NULL,
    floor        INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (site_id, day)
) WITHOUT ROWID;

-- NULL: the row counts every request of its path. Otherwise the Unix time of the first request
-- it counted, after the tail's summaries had counted about `estimated_before` (an upper bound).
ALTER TABLE traffic ADD COLUMN exact_since INTEGER;
ALTER TABLE traffic ADD COLUMN estimated_before INTEGER NOT NULL DEFAULT 0;
