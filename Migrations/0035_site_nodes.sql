-- A site's Apache nodes (#28.4): base URLs that reach one node each, as a JSON array; a probe
-- asks every node directly with the site's Host and records each node's answers, so a node that
-- missed a change is named (node drift).
ALTER TABLE sites ADD COLUMN nodes TEXT NOT NULL DEFAULT '[]';

CREATE TABLE probe_node_results (
    run_id INTEGER NOT NULL REFERENCES probe_runs(id) ON DELETE CASCADE,
    url_id INTEGER NOT NULL REFERENCES urls(id) ON DELETE CASCADE,
    node TEXT NOT NULL,
    status INTEGER,
    observed_owner TEXT,
    export_id INTEGER,
    error_kind TEXT,
    drift INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, url_id, node)
) WITHOUT ROWID;

ALTER TABLE probe_runs ADD COLUMN node_drift_count INTEGER NOT NULL DEFAULT 0;
-- Deleting a URL (its rows go with it) looks them up by URL.
CREATE INDEX probe_node_results_url ON probe_node_results(url_id);
