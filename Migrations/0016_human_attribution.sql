-- Swift's share of requests by people, apart from bots (#12): of each day's human requests to
-- a path, how many the log line attributes to a side, and how many of those Swift served.
-- Imports before this migration leave both 0: their human requests are attributed by the probes
-- or the inventory, and the share says so.
ALTER TABLE traffic_daily ADD COLUMN human_attributed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE traffic_daily ADD COLUMN human_served_swift INTEGER NOT NULL DEFAULT 0;
