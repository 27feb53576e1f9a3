-- Front-controller sites (#13): the PHP script the app's .htaccess sends every URL without a
-- file to (WordPress's /index.php). NULL: URLs without a file go to the Swift fallback.
ALTER TABLE sites ADD COLUMN front_controller TEXT;

-- URL prefixes planned for Swift on a front-controller site: every URL below, known or not,
-- gets the rule (`/blog/` and below), placed before the app's own rules.
CREATE TABLE route_prefixes (
    site_id    INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    prefix     TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (site_id, prefix)
) WITHOUT ROWID;
