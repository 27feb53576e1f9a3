-- Covering index for the counts behind stats and page totals (a 100,000-URL site: 57 ms -> 25 ms
-- for the owner counts, 20 ms -> 4 ms for a page total).
CREATE INDEX urls_site_counts ON urls(site_id, gone, owner, flags);
