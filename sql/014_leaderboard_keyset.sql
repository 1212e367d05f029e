-- Keyset pagination of the leaderboard (issue 13 item 13): every sort axis becomes one
-- ascending key tuple, so "the rows after the cursor" is a single row comparison that an
-- index can seek to, however deep the page. Descending axes are negated (the columns are
-- NOT NULL and never NaN), which gives the same order as `x DESC`.
CREATE INDEX scores_rank_keyset_idx ON scores ((-rank), pubkey);
CREATE INDEX scores_p_success_keyset_idx ON scores ((-p_success), (-n_eff), pubkey);
CREATE INDEX scores_n_eff_keyset_idx ON scores ((-n_eff), pubkey);
CREATE INDEX scores_pagerank_keyset_idx ON scores ((-pagerank), pubkey);

-- The leaderboard's earlier orderings; scores_ci95_width_idx is already ascending and
-- stays, scores_rank_idx stays for the export and the alias search.
DROP INDEX scores_p_success_idx;
DROP INDEX scores_n_eff_idx;
DROP INDEX scores_pagerank_idx;
