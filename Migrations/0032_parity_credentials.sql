-- Request headers parity sends under a URL prefix (#27.2): a test account's session cookie for
-- logged-in pages. Kept like the side-header secret: its own table (site rows travel widely:
-- API, logs), read by parity alone, shown masked. One value per site, prefix and header name.
CREATE TABLE parity_credentials (
    site_id INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    prefix  TEXT NOT NULL,
    name    TEXT NOT NULL,
    value   TEXT NOT NULL,
    PRIMARY KEY (site_id, prefix, name)
);
