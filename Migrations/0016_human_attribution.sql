-- Swift's share of requests by people, apart from bots (#12): of each day's human requests to
-- a path, how many the log line attributes to a side, and how many of those Swift served.
-- Imports before this migration leave both 0: their human requests are attributed by the probes
-- or the inventory, and the share says so.
ALTER TABLE traffic_daily ADD COLUMN human_attributed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE traffic_daily ADD COLUMN human_served_swift INTEGER NOT NULL DEFAULT 0;

-- Requests to a query-identified page (`/doku.php?id=start`), from the logged values of its
-- page key (the traffic table counts paths without their query).
CREATE TABLE query_page_hits (
    site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    path    TEXT NOT NULL,
    hits    INTEGER NOT NULL,
    PRIMARY KEY (site_id, path)
) WITHOUT ROWID;
