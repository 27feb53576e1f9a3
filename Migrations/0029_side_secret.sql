-- The per-site secret that lets one request choose its side through Apache (#27.1): a request
-- with `X-Cutover-Side: swift;<secret>` reaches the Swift backend, `php;<secret>` the PHP side,
-- whatever the plan says (parity compares both sides of a page; testers reach Swift early).
-- The export holds only SHA-1 digests of the two header values, never the secret, so an export
-- can be shown, stored and diffed; the secret is read only by `cutover site side-secret` and by
-- the service's own parity requests. Its own table: site rows travel widely (API, logs); this
-- one is read in two places. 128 random bits, lowercase hex.
CREATE TABLE site_secrets (
    site_id     INTEGER PRIMARY KEY REFERENCES sites(id) ON DELETE CASCADE,
    side_secret TEXT NOT NULL CHECK (length(side_secret) = 32 AND side_secret NOT GLOB '*[^0-9a-f]*')
);
INSERT INTO site_secrets (site_id, side_secret) SELECT id, lower(hex(randomblob(16))) FROM sites;
-- Every site has one from its first row on, whichever code inserts it.
CREATE TRIGGER site_secrets_for_new_site AFTER INSERT ON sites
BEGIN
    INSERT INTO site_secrets (site_id, side_secret) VALUES (NEW.id, lower(hex(randomblob(16))));
END;
