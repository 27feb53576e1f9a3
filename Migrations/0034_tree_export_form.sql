-- The tree export form (#28): stored exports may be of form 'tree'. SQLite cannot change a CHECK
-- in place: the table is rebuilt with its rows, ids and index.
CREATE TABLE exports_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    site_id     INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    form        TEXT NOT NULL CHECK (form IN ('vhost', 'htaccess', 'rewritemap', 'dbm', 'tree')),
    created_at  TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    content     TEXT NOT NULL,
    map_content BLOB,
    plan        TEXT NOT NULL
);
INSERT INTO exports_new (id, site_id, form, created_at, sha256, content, map_content, plan)
    SELECT id, site_id, form, created_at, sha256, content, map_content, plan FROM exports;
DROP TABLE exports;
ALTER TABLE exports_new RENAME TO exports;
CREATE INDEX exports_site ON exports(site_id, form, id);
