-- Trust model v2 (issue 15): where the reference payer's payments enter the graph
-- (scoring/payer.py: the peers of our vantage nodes' own channels, mostly private; or the
-- vantage nodes themselves when public, `payer_sources_free`; or the central hubs), so
-- that the api's intent snapshot answers from the same payer the grid measured instead
-- of the largest node.
ALTER TABLE scoring_state ADD COLUMN payer_sources text[],
                          ADD COLUMN payer_sources_free boolean;
