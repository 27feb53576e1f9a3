-- A flip's reason is stored once per operation, not once per URL: a glob over 100,000 pages
-- with a long reason used to copy that reason 100,000 times.
CREATE TABLE flip_operations (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    at      TEXT NOT NULL,
    actor   TEXT NOT NULL,
    reason  TEXT NOT NULL CHECK (length(reason) <= 1000)
);
ALTER TABLE ownership_events ADD COLUMN operation_id INTEGER REFERENCES flip_operations(id) ON DELETE SET NULL;

-- List settings become JSON arrays (an entry with a space, 'home page.php', came back as two).
-- Old rows were space-separated; quotes and backslashes are escaped before the split, and a
-- value that still is not valid JSON (control characters) is kept whole as one entry, which the
-- validation then refuses clearly instead of losing it.
UPDATE sites SET directory_index = CASE
    WHEN json_valid('["' || replace(replace(replace(directory_index, '\', '\\'), '"', '\"'), ' ', '","') || '"]')
    THEN (SELECT json_group_array(value) FROM json_each('["' || replace(replace(replace(directory_index, '\', '\\'), '"', '\"'), ' ', '","') || '"]') WHERE value <> '')
    ELSE json_array(directory_index) END;
UPDATE sites SET php_extensions = CASE
    WHEN json_valid('["' || replace(replace(replace(php_extensions, '\', '\\'), '"', '\"'), ' ', '","') || '"]')
    THEN (SELECT json_group_array(value) FROM json_each('["' || replace(replace(replace(php_extensions, '\', '\\'), '"', '\"'), ' ', '","') || '"]') WHERE value <> '')
    ELSE json_array(php_extensions) END;
