-- A probe without side effects (#24).
-- Scripts a probe never requests (cron, installers, upgrades: requesting them runs them), as a
-- JSON array of URL path globs (`*` also matches `/`); every site gets the usual names.
ALTER TABLE sites ADD COLUMN probe_skip TEXT NOT NULL
  DEFAULT '["*cron*.php","*/install*.php","*/setup*.php","*/upgrade*.php","*/install/*","*/setup/*","*/upgrade/*"]';
-- The file's content hash when the URL was last probed: an include is requested again only
-- when its content changed (GET runs it; HEAD would too).
ALTER TABLE urls ADD COLUMN probed_hash TEXT;
-- What a run left out, and why.
ALTER TABLE probe_runs ADD COLUMN skipped_includes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE probe_runs ADD COLUMN skipped_denied INTEGER NOT NULL DEFAULT 0;
ALTER TABLE probe_runs ADD COLUMN timeouts_retried INTEGER NOT NULL DEFAULT 0;
