-- A front controller the crawl detects counts until the user declines it (#24.2): the sites
-- row keeps the detected script (from the last crawl's docroot .htaccess) and the refusal.
ALTER TABLE sites ADD COLUMN detected_front_controller TEXT;
ALTER TABLE sites ADD COLUMN front_controller_declined INTEGER NOT NULL DEFAULT 0;
UPDATE sites SET detected_front_controller =
    (SELECT h.front_controller FROM htaccess_files h WHERE h.site_id = sites.id AND h.directory = '');
-- Owners of URLs without a file follow it: set by the store after this file (syncRouteOwners).
