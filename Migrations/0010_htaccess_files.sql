-- The docroot's .htaccess files as the last crawl found them: their own rewrite rules replace
-- the exported <Directory> rules below their folder, so the export places its rules around them.
CREATE TABLE htaccess_files (
    site_id           INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    directory         TEXT NOT NULL,
    rewrite_engine    INTEGER,
    rewrite_options   TEXT NOT NULL DEFAULT '[]',
    rule_count        INTEGER NOT NULL DEFAULT 0,
    fallback_resource TEXT,
    front_controller  TEXT,
    PRIMARY KEY (site_id, directory)
);
