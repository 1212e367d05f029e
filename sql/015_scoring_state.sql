-- When the crawler last stored a scoring pass (one row). Score and posterior rows are
-- rewritten only when their values change (issue 20: an unchanged pass rewrote ~50k rows),
-- so scores.computed_at and posteriors.updated_at say when a row last changed; readers
-- take the newer of the row's time and this one (db/scores.py: SCORED_AT).
CREATE TABLE scoring_state (
    singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    computed_at timestamptz NOT NULL
);
