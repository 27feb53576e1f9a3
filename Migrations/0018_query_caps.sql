-- Query keys per path are capped (#23): anonymous requests choose the keys, and 3,000 requests
-- of 8 KB planted 2.5 M rows under one path. A path keeps its 50 most requested keys; the hits
-- of the others (a request counts once per key) are summed here.
ALTER TABLE traffic ADD COLUMN other_key_hits INTEGER NOT NULL DEFAULT 0;

-- Databases flooded before the cap: keep each path's 50 most requested keys, as imports now do.
CREATE TEMP TABLE cutover_dropped_keys AS
SELECT site_id, path, key, hits FROM (
    SELECT site_id, path, key, sum(hits) AS hits,
           row_number() OVER (PARTITION BY site_id, path ORDER BY sum(hits) DESC, key) AS rank
    FROM traffic_query_values GROUP BY site_id, path, key
) WHERE rank > 50;

UPDATE traffic SET other_key_hits = other_key_hits + d.hits
FROM (SELECT site_id, path, sum(hits) AS hits FROM cutover_dropped_keys GROUP BY site_id, path) AS d
WHERE d.site_id = traffic.site_id AND d.path = traffic.path;

DELETE FROM traffic_query_values
WHERE (site_id, path, key) IN (SELECT site_id, path, key FROM cutover_dropped_keys);

DROP TABLE cutover_dropped_keys;
