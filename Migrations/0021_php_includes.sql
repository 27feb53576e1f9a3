-- Which files each PHP file includes, read from its source (#24.8): a file other PHP files
-- include and no person requested is an include even when it prints HTML (a page header).
CREATE TABLE php_include_scans (
    site_id      INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    -- The including file, relative to the docroot (as urls.file_path).
    file_path    TEXT NOT NULL,
    -- Its content hash when it was read: read again only when that changes.
    content_hash TEXT NOT NULL,
    -- JSON array of the files it includes that lie in the docroot, relative to it.
    targets      TEXT NOT NULL,
    -- Include expressions it could not resolve (variables, function calls).
    unresolved   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (site_id, file_path)
);
