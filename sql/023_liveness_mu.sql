-- Trust model v2 (issue 15): the grid's theta carries the population's rate of being up
-- (scoring/liveness.py mu); the intent's route model for a caller is "given the node is
-- up" and needs the same factor to be mixed with it (scoring/intent.py).
ALTER TABLE scoring_state ADD COLUMN liveness_mu float8;
