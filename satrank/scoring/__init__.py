"""Pure scoring: PageRank, graph features, Beta posteriors, verdicts and rank.

No I/O and no clock: callers pass arrays and `now_unix`. `engine.score_nodes` is the one
entry point the crawler uses; the maths of every step is in `docs/methodology.md`.
"""
