-- Per-site schedule: crawl followed by probe every N seconds (NULL: not scheduled).
ALTER TABLE sites ADD COLUMN crawl_every_seconds INTEGER CHECK (crawl_every_seconds IS NULL OR crawl_every_seconds >= 60);
ALTER TABLE sites ADD COLUMN last_scheduled_at TEXT;
