-- Alias directories (#24.3): the vhost's `Alias /wp-content /var/lib/...` lines, as a JSON array
-- of {urlPath, directory}. The crawl walks each at its URL prefix with the docroot's rules, so
-- files Apache serves from there are static or PHP, not false drift.
ALTER TABLE sites ADD COLUMN aliases TEXT NOT NULL DEFAULT '[]';
