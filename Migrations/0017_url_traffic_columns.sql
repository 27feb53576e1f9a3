-- A URL's requests beside the URL (#14): `hits` (its traffic row's, or for a query-identified
-- page its value's in query_page_hits) and `last_seen` (Unix seconds), NULL for a URL no log
-- line named. The URL page read them through two LEFT JOINs per row, and sorting or filtering on
-- them joined and sorted every URL of the site: 0.8 s a page at 1,000,000 URLs. Beside the URL
-- and indexed, the first page sorted by hits is an index walk.
--
-- traffic and query_page_hits stay the record; the triggers below keep these copies equal to
-- them whatever writes either side (log imports, page-key syncs, crawls adding URLs), so no
-- code path can forget. Equal means: hits = coalesce(traffic.hits, query_page_hits.hits),
-- last_seen = traffic.last_seen.
ALTER TABLE urls ADD COLUMN hits INTEGER;
ALTER TABLE urls ADD COLUMN last_seen INTEGER;

UPDATE urls SET hits = t.hits, last_seen = t.last_seen
FROM traffic t WHERE t.site_id = urls.site_id AND t.path = urls.path;

UPDATE urls SET hits = q.hits
FROM query_page_hits q WHERE q.site_id = urls.site_id AND q.path = urls.path AND urls.hits IS NULL;

-- Sorted by hits (or last_seen) either way, ties by id the same way: both directions walk the
-- index, one forwards, one backwards.
CREATE INDEX urls_site_hits ON urls(site_id, hits);
CREATE INDEX urls_site_last_seen ON urls(site_id, last_seen);

CREATE TRIGGER traffic_hits_to_urls_insert AFTER INSERT ON traffic BEGIN
    UPDATE urls SET hits = NEW.hits, last_seen = NEW.last_seen WHERE site_id = NEW.site_id AND path = NEW.path;
END;

CREATE TRIGGER traffic_hits_to_urls_update AFTER UPDATE OF hits, last_seen ON traffic BEGIN
    UPDATE urls SET hits = NEW.hits, last_seen = NEW.last_seen WHERE site_id = NEW.site_id AND path = NEW.path;
END;

CREATE TRIGGER traffic_hits_to_urls_delete AFTER DELETE ON traffic BEGIN
    UPDATE urls SET last_seen = NULL,
        hits = (SELECT q.hits FROM query_page_hits q WHERE q.site_id = OLD.site_id AND q.path = OLD.path)
    WHERE site_id = OLD.site_id AND path = OLD.path;
END;

CREATE TRIGGER query_page_hits_to_urls_insert AFTER INSERT ON query_page_hits BEGIN
    UPDATE urls SET hits = coalesce((SELECT t.hits FROM traffic t WHERE t.site_id = NEW.site_id AND t.path = NEW.path), NEW.hits)
    WHERE site_id = NEW.site_id AND path = NEW.path;
END;

CREATE TRIGGER query_page_hits_to_urls_update AFTER UPDATE OF hits ON query_page_hits BEGIN
    UPDATE urls SET hits = coalesce((SELECT t.hits FROM traffic t WHERE t.site_id = NEW.site_id AND t.path = NEW.path), NEW.hits)
    WHERE site_id = NEW.site_id AND path = NEW.path;
END;

CREATE TRIGGER query_page_hits_to_urls_delete AFTER DELETE ON query_page_hits BEGIN
    UPDATE urls SET hits = (SELECT t.hits FROM traffic t WHERE t.site_id = OLD.site_id AND t.path = OLD.path)
    WHERE site_id = OLD.site_id AND path = OLD.path;
END;

-- A URL added after its requests were logged (a crawl finding the file, a log import adding a
-- requested path) takes them at once. The WHEN clause is two primary-key probes, so a crawl
-- of URLs nobody logged writes each row once.
CREATE TRIGGER urls_take_traffic AFTER INSERT ON urls
WHEN EXISTS (SELECT 1 FROM traffic t WHERE t.site_id = NEW.site_id AND t.path = NEW.path)
  OR EXISTS (SELECT 1 FROM query_page_hits q WHERE q.site_id = NEW.site_id AND q.path = NEW.path)
BEGIN
    UPDATE urls SET
        hits = coalesce(
            (SELECT t.hits FROM traffic t WHERE t.site_id = NEW.site_id AND t.path = NEW.path),
            (SELECT q.hits FROM query_page_hits q WHERE q.site_id = NEW.site_id AND q.path = NEW.path)),
        last_seen = (SELECT t.last_seen FROM traffic t WHERE t.site_id = NEW.site_id AND t.path = NEW.path)
    WHERE id = NEW.id;
END;
