-- When the crawler last stored a scoring pass (one row). Score and posterior rows are
-- rewritten only when their values change (issue 20: an unchanged pass rewrote ~50k rows),
-- so scores.computed_at and posteriors.updated_at say when a row last changed; readers
-- take the newer of the row's time and this one (db/scores.py: SCORED_AT).
CREATE TABLE scoring_state (
    singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    computed_at timestamptz NOT NULL
);

-- The graph source's digest of the graph a sync merged (LND: sha256 of the DescribeGraph
-- response), so a sync of the very same graph can skip its merges (db/graph.py), and the
-- edges that sync skipped as malformed (reported again by such a sync).
ALTER TABLE graph_syncs
    ADD COLUMN fingerprint   text,
    ADD COLUMN skipped_edges integer NOT NULL DEFAULT 0;
