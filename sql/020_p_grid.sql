-- Trust model v2 (issue 15): p_success for any amount and fee budget. Every node's
-- p_success is stored on a small grid (fee budgets x amounts, budget-major) with the Beta
-- parameters of each cell, so the API interpolates any amount in log-amount and computes
-- its 95 % interval; scoring_state says what the grid's axes are and which reference payer
-- the pass was about; graph_syncs records our node's pubkey (the reference payer).
ALTER TABLE scores
    ADD COLUMN p_grid     float8[],
    ADD COLUMN alpha_grid float8[],
    ADD COLUMN beta_grid  float8[];

ALTER TABLE scoring_state
    ADD COLUMN grid_amounts_sat bigint[],
    ADD COLUMN grid_budgets     text[],
    ADD COLUMN payer            text;

ALTER TABLE graph_syncs ADD COLUMN payer_pubkey text;
