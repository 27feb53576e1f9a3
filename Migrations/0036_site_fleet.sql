-- Where a site's fleet reads its plan (#28.2): the PostgreSQL URL (never a password), the path of
-- the password file, and whether plan changes are published at once, as one JSON object; NULL
-- for a site without a fleet.
ALTER TABLE sites ADD COLUMN fleet TEXT;
