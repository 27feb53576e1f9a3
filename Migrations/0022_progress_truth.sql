-- Progress that is true (#24.2): a page is on Swift when Swift owns it by the plan and a probe
-- observed Swift; planned otherwise. The counts group by plan and observation as well, still
-- read from one covering index.
DROP INDEX urls_site_counts;
CREATE INDEX urls_site_counts ON urls(site_id, gone, owner, flags, planned_owner, observed_owner);

-- The burndown keeps pages planned for Swift apart from pages observed on Swift.
ALTER TABLE owner_snapshots ADD COLUMN planned INTEGER NOT NULL DEFAULT 0;

-- URLs known from the logs whose names the crawl would have flagged hidden or sensitive.
UPDATE urls SET flags = flags | cutover_name_flags(path)
WHERE file_path IS NULL AND flags & 32 != 0 AND cutover_name_flags(path) != 0;
-- The never-a-page flag (1 << 11) is set by the store after this file (markNeverPages).
