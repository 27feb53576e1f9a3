-- Sites, crawls and the URL inventory with its ownership history.
CREATE TABLE sites (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    name            TEXT NOT NULL UNIQUE,
    docroot         TEXT NOT NULL,
    public_url      TEXT NOT NULL,
    backend_url     TEXT NOT NULL,
    directory_index TEXT NOT NULL DEFAULT 'index.php index.html',
    php_extensions  TEXT NOT NULL DEFAULT '.php',
    created_at      TEXT NOT NULL
);

CREATE TABLE crawls (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    site_id       INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    started_at    TEXT NOT NULL,
    finished_at   TEXT,
    status        TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'interrupted')),
    pid           INTEGER,
    files_seen    INTEGER NOT NULL DEFAULT 0,
    urls_added    INTEGER NOT NULL DEFAULT 0,
    urls_changed  INTEGER NOT NULL DEFAULT 0,
    urls_removed  INTEGER NOT NULL DEFAULT 0,
    error_count   INTEGER NOT NULL DEFAULT 0,
    error         TEXT
);
CREATE INDEX crawls_site ON crawls(site_id, id);

CREATE TABLE urls (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    site_id          INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    path             TEXT NOT NULL,
    file_path        TEXT,
    owner            TEXT NOT NULL CHECK (owner IN ('php', 'swift', 'static')),
    planned_owner    TEXT CHECK (planned_owner IN ('php', 'swift', 'static')),
    size             INTEGER,
    mtime            REAL,
    content_hash     TEXT,
    first_seen_crawl INTEGER REFERENCES crawls(id) ON DELETE SET NULL,
    last_seen_crawl  INTEGER REFERENCES crawls(id) ON DELETE SET NULL,
    gone             INTEGER NOT NULL DEFAULT 0,
    flags            INTEGER NOT NULL DEFAULT 0,
    UNIQUE (site_id, path)
);
CREATE INDEX urls_site_owner ON urls(site_id, owner);

CREATE TABLE ownership_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    url_id     INTEGER NOT NULL REFERENCES urls(id) ON DELETE CASCADE,
    from_owner TEXT CHECK (from_owner IN ('php', 'swift', 'static')),
    to_owner   TEXT NOT NULL CHECK (to_owner IN ('php', 'swift', 'static')),
    at         TEXT NOT NULL,
    reason     TEXT NOT NULL,
    actor      TEXT NOT NULL DEFAULT 'crawl'
);
CREATE INDEX ownership_events_url ON ownership_events(url_id, id);
