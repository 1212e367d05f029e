"""SQL fragments for when a score was computed, shared by every reader of `scores`.

`store_scores` (db/scores.py) rewrites only the score and posterior rows whose values
changed and records each pass in `scoring_state`. Every row in `scores` was produced by
the latest pass (it deletes the nodes it did not score), so a row's computation time is
the newer of its own time (when it last changed) and the pass's. Kept apart from
db/scores.py so the api does not import the scoring engine.
"""

from __future__ import annotations

LAST_PASS = "(SELECT computed_at FROM scoring_state)"
# for a `scores` row aliased `s` / a `posteriors` row aliased `p`
SCORED_AT = f"greatest(s.computed_at, {LAST_PASS})"
POSTERIOR_UPDATED_AT = f"greatest(p.updated_at, {LAST_PASS})"
# the newest scoring pass (freshness, cache versions)
NEWEST_SCORING = f"greatest((SELECT max(computed_at) FROM scores), {LAST_PASS})"
