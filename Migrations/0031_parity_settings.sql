-- How a site's parity runs compare (#27.4): ignore rules, masks, the site-wide noise thresholds
-- and whether the scheduled run ends with parity, as one JSON object; missing keys are defaults.
ALTER TABLE sites ADD COLUMN parity_settings TEXT NOT NULL DEFAULT '{}';
