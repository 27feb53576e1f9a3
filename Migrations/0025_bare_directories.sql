-- The first export's preview (#24.7): directories without an index file, as the last crawl found
-- them (hidden ones left out). The export's rule 3 sends them to Swift when the site says so.
CREATE TABLE bare_directories (
    site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    path    TEXT NOT NULL,
    PRIMARY KEY (site_id, path)
) WITHOUT ROWID;

-- Whether those directories go to Swift: 1, 0, or NULL for the default (yes, unless a front
-- controller answers URLs without a file).
ALTER TABLE sites ADD COLUMN directories_to_swift INTEGER;
