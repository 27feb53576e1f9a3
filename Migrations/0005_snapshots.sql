-- Owner counts after every crawl and probe run: the burndown's time series.
CREATE TABLE owner_snapshots (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    at      TEXT NOT NULL,
    source  TEXT NOT NULL CHECK (source IN ('crawl', 'probe')),
    php     INTEGER NOT NULL,
    swift   INTEGER NOT NULL,
    static  INTEGER NOT NULL,
    drift   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX owner_snapshots_site ON owner_snapshots(site_id, id);
