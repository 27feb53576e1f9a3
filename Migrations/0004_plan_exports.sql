-- The plan (planned owners already exist on urls) gains redirects, and every export is kept
-- so it can be diffed and re-applied for rollback.
ALTER TABLE urls ADD COLUMN redirect_to TEXT;

CREATE TABLE exports (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    site_id     INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    form        TEXT NOT NULL CHECK (form IN ('vhost', 'htaccess', 'rewritemap')),
    created_at  TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    content     TEXT NOT NULL,
    map_content BLOB,
    plan        TEXT NOT NULL
);
CREATE INDEX exports_site ON exports(site_id, form, id);
