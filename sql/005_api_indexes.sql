-- Indexes behind the API's read paths (issue 6). Each one serves a single-query answer.

-- Freshness of the scores: the leaderboard cache key and /api/health's scoring age.
CREATE INDEX scores_computed_at_idx ON scores (computed_at DESC);

-- Leaderboard sort axes (scores_rank_idx in 001 covers the default `rank`).
CREATE INDEX scores_p_success_idx ON scores (p_success DESC, n_eff DESC, pubkey);
CREATE INDEX scores_n_eff_idx ON scores (n_eff DESC, pubkey);
CREATE INDEX scores_ci95_width_idx ON scores ((ci95_high - ci95_low), pubkey);
CREATE INDEX scores_pagerank_idx ON scores (pagerank DESC, pubkey);

-- Graph age for /api/health.
CREATE INDEX graph_syncs_finished_idx ON graph_syncs (finished_at DESC);

-- Per-token report limits and duplicate checks on the token path of POST /api/report.
CREATE INDEX reports_token_idx ON reports (reporter_token_id, created_at DESC)
    WHERE reporter_token_id IS NOT NULL;

-- Alias search: prefix matches use nodes_alias_lower_idx (001); substring matches scan
-- nodes (about 13k rows on mainnet, a few ms). pg_trgm would index them but is not in
-- every Postgres build (the embedded pgserver lacks it), so it is not required here.
