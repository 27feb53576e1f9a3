-- Progressive flips, analysed (#29): what each side answered for a running canary's pages, per
-- minute, so a step compares Swift with PHP over exactly the step's window (the per-day rows of
-- traffic_sides are too coarse for steps of minutes). Filled at log import for the pages of
-- running canaries only; kept 30 days back from the newest minute.
CREATE TABLE canary_samples (
    site_id      INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    path         TEXT NOT NULL,
    minute       INTEGER NOT NULL,
    side         TEXT NOT NULL CHECK (side IN ('php', 'swift')),
    hits         INTEGER NOT NULL DEFAULT 0,
    status_5xx   INTEGER NOT NULL DEFAULT 0,
    timed        INTEGER NOT NULL DEFAULT 0,
    latency      BLOB NOT NULL DEFAULT x'',
    PRIMARY KEY (site_id, minute, path, side)
) WITHOUT ROWID;

-- A canary's policy (JSON: interval, minimum sample, thresholds, what to do on too little
-- traffic), whether the scheduler steps it, where its weights are written, and its steps.
ALTER TABLE canaries ADD COLUMN policy TEXT NOT NULL DEFAULT '{}';
ALTER TABLE canaries ADD COLUMN automatic INTEGER NOT NULL DEFAULT 0;
ALTER TABLE canaries ADD COLUMN paused INTEGER NOT NULL DEFAULT 0;
ALTER TABLE canaries ADD COLUMN map_form TEXT;
ALTER TABLE canaries ADD COLUMN map_path TEXT;
ALTER TABLE canaries ADD COLUMN ended_reason TEXT;

-- Each weight a canary ran at, from when to when, and each analysis of it: the decision
-- (promote, hold, wait, rollback, or a person's weight/promote/abort), its reason and figures.
CREATE TABLE canary_steps (
    id          INTEGER PRIMARY KEY,
    canary_id   INTEGER NOT NULL REFERENCES canaries(id) ON DELETE CASCADE,
    weight      INTEGER NOT NULL,
    started_at  TEXT NOT NULL,
    ended_at    TEXT
);
CREATE INDEX canary_steps_canary ON canary_steps(canary_id, id);
CREATE TABLE canary_decisions (
    id          INTEGER PRIMARY KEY,
    canary_id   INTEGER NOT NULL REFERENCES canaries(id) ON DELETE CASCADE,
    weight      INTEGER NOT NULL,
    at          TEXT NOT NULL,
    decision    TEXT NOT NULL,
    reason      TEXT NOT NULL,
    figures     TEXT NOT NULL DEFAULT '{}',
    actor       TEXT NOT NULL
);
CREATE INDEX canary_decisions_canary ON canary_decisions(canary_id, id);
INSERT INTO canary_steps (canary_id, weight, started_at) SELECT id, weight, updated_at FROM canaries WHERE state = 'running';
