"""The probed amount tiers: the one definition of the default tier (no imports, so config,
the crawler and the api can read it without loading the scoring maths).

Every score, verdict and rank speaks about the default tier; the other tiers refine
`p_success` for smaller and larger payments.
"""

DEFAULT_TIER_SAT = 100_000
DEFAULT_TIERS_SAT = (10_000, DEFAULT_TIER_SAT, 1_000_000)
