-- Problems met during a crawl (unreadable files, symlinks leaving the docroot, loops),
-- kept per crawl so one bad file never stops the walk.
CREATE TABLE crawl_issues (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    crawl_id  INTEGER NOT NULL REFERENCES crawls(id) ON DELETE CASCADE,
    file_path TEXT NOT NULL,
    kind      TEXT NOT NULL,
    message   TEXT NOT NULL
);
CREATE INDEX crawl_issues_crawl ON crawl_issues(crawl_id);

-- Drift queries filter on the planned owner.
CREATE INDEX urls_site_planned ON urls(site_id, planned_owner);
