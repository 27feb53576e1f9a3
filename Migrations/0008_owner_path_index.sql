-- URL pages filtered by owner and ordered by path read the index in order instead of sorting.
CREATE INDEX urls_site_owner_path ON urls(site_id, owner, path);
