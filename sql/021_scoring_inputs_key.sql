-- Issue 20: a scoring pass over the very inputs of the last one computes the same scores,
-- so the crawler skips it (crawler/rescore.py). scoring_state keeps a digest of what the
-- stored pass was computed from (graph sync, evidence, knowledge, parameters, model code);
-- NULL (every pass before this migration) never matches.
ALTER TABLE scoring_state ADD COLUMN inputs_key text;
