-- Query pages as pages (#24.5): each page of a page key (/index.php?page=about) gets its own
-- requests per UTC day, people apart, so "port next" ranks it and it is never an orphan while
-- people request it. Only pages the inventory holds get rows (at most queryPagesPerKey values of
-- each key): the log's long tail of values does not grow this table. A script's directory URL
-- (/?page=about when / is answered by /index.php) counts for the same page.
CREATE TABLE query_page_daily (
    site_id    INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    path       TEXT NOT NULL,
    day        INTEGER NOT NULL,
    hits       INTEGER NOT NULL DEFAULT 0,
    human_hits INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (site_id, path, day)
) WITHOUT ROWID;

-- Of a path's requests that day, those that named a query page (by people apart): "port next"
-- ranks the script and its directory URL by the rest, so no request is counted twice.
ALTER TABLE traffic_daily ADD COLUMN page_hits INTEGER NOT NULL DEFAULT 0;
ALTER TABLE traffic_daily ADD COLUMN page_human_hits INTEGER NOT NULL DEFAULT 0;
