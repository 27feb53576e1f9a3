-- Progressive flips (#29): a canary is a named set of a site's pages sharing one weight (the
-- share of visitors Apache sends to Swift), its steps and its state.
CREATE TABLE canaries (
    id         INTEGER PRIMARY KEY,
    site_id    INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    weight     INTEGER NOT NULL DEFAULT 0 CHECK (weight BETWEEN 0 AND 100),
    steps      TEXT NOT NULL DEFAULT '[1,5,25,50,100]',
    state      TEXT NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'promoted', 'aborted')),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (site_id, name)
);
CREATE TABLE canary_pages (
    canary_id INTEGER NOT NULL REFERENCES canaries(id) ON DELETE CASCADE,
    url_id    INTEGER NOT NULL REFERENCES urls(id) ON DELETE CASCADE,
    PRIMARY KEY (canary_id, url_id)
) WITHOUT ROWID;
CREATE INDEX canary_pages_url ON canary_pages(url_id);
