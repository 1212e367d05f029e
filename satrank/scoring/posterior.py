"""Beta posterior for "a payment of this size reaches the node", with exact intervals."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import betaincinv

from satrank.scoring.graph import FloatArray

CI_LEVEL = 0.95
# With prior strength >= 2 these bounds keep both Beta parameters >= 0.02, where the
# equal-tailed 95 % interval always contains the mean (it can exclude it below ~0.01).
PRIOR_MEAN_MIN, PRIOR_MEAN_MAX = 0.01, 0.99
MIN_PRIOR_STRENGTH = 2.0


@dataclass(frozen=True)
class Posterior:
    """Arrays of equal shape. n_eff counts observations (S + F), not the prior."""

    prior_alpha: FloatArray
    prior_beta: FloatArray
    alpha: FloatArray
    beta: FloatArray
    n_eff: FloatArray
    p_success: FloatArray
    ci95_low: FloatArray
    ci95_high: FloatArray


def beta_posterior(prior_mean: FloatArray, prior_strength: float, successes: FloatArray,
                   failures: FloatArray) -> Posterior:
    """Beta(k*m + S, k*(1-m) + F); mean a/(a+b); equal-tailed 95 % interval from the exact
    inverse regularized incomplete beta function (no normal approximation, any a+b).
    The prior mean is clipped to [0.01, 0.99] and k must be >= 2."""
    if prior_strength < MIN_PRIOR_STRENGTH:
        raise ValueError("prior_strength must be >= 2")
    m = np.clip(prior_mean, PRIOR_MEAN_MIN, PRIOR_MEAN_MAX)
    a0 = prior_strength * m
    b0 = prior_strength * (1.0 - m)
    a = a0 + successes
    b = b0 + failures
    tail = (1.0 - CI_LEVEL) / 2.0
    low = np.asarray(betaincinv(a, b, tail), dtype=np.float64)
    high = np.asarray(betaincinv(a, b, 1.0 - tail), dtype=np.float64)
    return Posterior(
        prior_alpha=a0, prior_beta=b0, alpha=a, beta=b, n_eff=successes + failures,
        p_success=a / (a + b), ci95_low=low, ci95_high=high,
    )
