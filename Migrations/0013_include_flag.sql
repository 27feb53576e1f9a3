-- URL flag `include` (bit 7, 128): a .php file no person requested whose latest probe
-- answered an error (>= 400) or an empty 2xx body is code other pages include, not a page.
-- Probe runs and log imports keep the flag up to date (AppDatabase.markIncludes); this sets
-- it once for inventories probed before the flag existed.
UPDATE urls AS u SET flags = flags | 128
WHERE u.owner = 'php' AND u.gone = 0
  AND (coalesce(u.last_status, 0) >= 400 OR EXISTS (
    SELECT 1 FROM probe_results pr WHERE pr.url_id = u.id AND pr.run_id = u.last_probe_run
      AND pr.status BETWEEN 200 AND 299 AND pr.content_length = 0))
  AND NOT EXISTS (SELECT 1 FROM traffic t WHERE t.site_id = u.site_id AND t.path = u.path AND t.hits > t.bot_hits);
