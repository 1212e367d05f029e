"""Per channel direction: the probability that an amount fits its liquidity.

These are the estimators a payer can compute alone from the public graph (and, for the
first two, from what its own payments showed), written as vectorised numpy so that the
trust model, the intent snapshot and the calibration bench's baselines share one copy:

- `bimodal_success`: lnd's bimodal estimator. Liquidity X on a channel of capacity c has
  the prior density P(x) ~ exp(-x/s) + exp((x-c)/s) + 1/c (most channels are drained to one
  side; s is the scale); knowing that `lower` crossed and `upper` did not,
  p = P(X >= a | lower <= X < upper).
- `uniform_success`: Pickhardt et al.'s uniform liquidity, (upper + 1 - a) / (upper + 1 -
  lower), which is (c + 1 - a) / (c + 1) with no knowledge.
- `apriori_hop`: lnd's apriori estimator for an untried channel, a flat hop probability
  reduced when the amount nears the capacity.
- `any_inbound_success`: "any usable inbound channel works", 1 - (1 - q)^k.

Amounts and capacities are in sat, times in seconds (time is a parameter: no clock here).
Facts about lnd's estimators (defaults, formulas) are from lnd's routing package
(probability_bimodal.go, probability_apriori.go).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
ArrayLike = FloatArray | float

# lnd's defaults: bimodal scale 300,000 sat, information decays over a week.
LND_BIMODAL_SCALE_SAT = 300_000.0
LND_BIMODAL_DECAY_S = 7 * 86_400.0
# The scale that best explains our own probes' per-hop outcomes (maximum likelihood,
# bench/bimodal_scale.py on simnet v2 over the mainnet snapshot, bench/RESULTS.md): log loss
# 0.266 vs 0.289 at lnd's 300k. simnet draws balances as Beta(0.3, 0.3) shares of capacity,
# so refit on the crawler's own data before trusting it for mainnet.
FITTED_BIMODAL_SCALE_SAT = 66_000.0
# lnd's apriori defaults: an untried hop works with probability 0.6; the capacity factor
# falls from 1 to 0.5 around 99.99 % of the capacity, over 2.5 % of it.
LND_APRIORI_HOP_P = 0.6
LND_CAPACITY_FRACTION = 0.9999
LND_CAPACITY_SMEARING = 0.025
LND_MIN_CAPACITY_FACTOR = 0.5
ANY_INBOUND_CHANNEL_P = 0.6


def _bimodal_primitive(x: FloatArray, c: FloatArray, s: float) -> FloatArray:
    """The normalised cumulative of the bimodal density on [0, c] at x (0 at 0, 1 at c)."""
    norm = 2.0 - 2.0 * np.exp(-c / s) + 1.0 / s
    return np.asarray((1.0 - np.exp(-x / s) + np.exp((x - c) / s) - np.exp(-c / s)
                       + x / (c * s)) / norm, dtype=np.float64)


def bimodal_success(amount_sat: ArrayLike, capacity_sat: ArrayLike,
                    lower_sat: ArrayLike = 0.0, upper_sat: ArrayLike | None = None, *,
                    scale_sat: float = LND_BIMODAL_SCALE_SAT) -> FloatArray:
    """P(liquidity >= amount | lower <= liquidity < upper) under lnd's bimodal prior.

    `lower` is an amount known to have crossed (0: none), `upper` one known to have failed
    (None: the capacity). Inconsistent knowledge (upper <= lower) is dropped, as lnd does.
    An amount above the capacity or at/above `upper` gets 0; at/below `lower` gets 1.
    """
    a, c, lo = np.broadcast_arrays(np.asarray(amount_sat, dtype=np.float64),
                                   np.asarray(capacity_sat, dtype=np.float64),
                                   np.asarray(lower_sat, dtype=np.float64))
    hi = c if upper_sat is None else np.broadcast_to(
        np.asarray(upper_sat, dtype=np.float64), c.shape)
    c = np.maximum(c, 1.0)
    lo = np.clip(lo, 0.0, c - 1.0)
    hi = np.minimum(hi, c)
    bad = hi <= lo
    lo = np.where(bad, 0.0, lo)
    hi = np.where(bad, c, hi)
    with np.errstate(divide="ignore", invalid="ignore"):
        num = _bimodal_primitive(hi, c, scale_sat) - _bimodal_primitive(np.maximum(a, lo), c,
                                                                        scale_sat)
        den = _bimodal_primitive(hi, c, scale_sat) - _bimodal_primitive(lo, c, scale_sat)
        p = np.where(den > 0, num / den, 0.0)
    p = np.where(a <= lo, 1.0, np.clip(p, 0.0, 1.0))
    return np.asarray(np.where((a >= hi) | (a > c), 0.0, p), dtype=np.float64)


def decayed_bounds(capacity_sat: ArrayLike, carried_sat: ArrayLike, carried_age_s: ArrayLike,
                   failed_sat: ArrayLike, failed_age_s: ArrayLike, *,
                   decay_s: float = LND_BIMODAL_DECAY_S) -> tuple[FloatArray, FloatArray]:
    """(lower, upper) bounds after lnd's time decay: what crossed shrinks towards 0 and what
    failed grows towards the capacity, by exp(-age / decay). An age of +inf (never seen)
    gives (0, capacity)."""
    c = np.asarray(capacity_sat, dtype=np.float64)
    lower = np.asarray(carried_sat, dtype=np.float64) * np.exp(
        -np.maximum(np.asarray(carried_age_s, dtype=np.float64), 0.0) / decay_s)
    failed = np.minimum(np.asarray(failed_sat, dtype=np.float64), c)
    upper = c - (c - failed) * np.exp(
        -np.maximum(np.asarray(failed_age_s, dtype=np.float64), 0.0) / decay_s)
    return np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64)


def uniform_success(amount_sat: ArrayLike, capacity_sat: ArrayLike, lower_sat: ArrayLike = 0.0,
                    upper_sat: ArrayLike | None = None) -> FloatArray:
    """Pickhardt's uniform model: (upper + 1 - a) / (upper + 1 - lower), clipped to [0, 1]."""
    a = np.asarray(amount_sat, dtype=np.float64)
    c = np.asarray(capacity_sat, dtype=np.float64)
    lo = np.asarray(lower_sat, dtype=np.float64)
    hi = c if upper_sat is None else np.minimum(np.asarray(upper_sat, dtype=np.float64), c)
    p = (hi + 1.0 - a) / np.maximum(hi + 1.0 - lo, 1.0)
    return np.asarray(np.where(a <= lo, 1.0, np.clip(p, 0.0, 1.0)), dtype=np.float64)


def capacity_factor(amount_sat: ArrayLike, capacity_sat: ArrayLike) -> FloatArray:
    """lnd's apriori capacity factor: 1 for small amounts, falling to 0.5 near the capacity,
    0 above it."""
    a = np.asarray(amount_sat, dtype=np.float64)
    c = np.maximum(np.asarray(capacity_sat, dtype=np.float64), 1.0)
    with np.errstate(over="ignore"):
        den = 1.0 + np.exp(-(a - LND_CAPACITY_FRACTION * c) / (LND_CAPACITY_SMEARING * c))
    f = 1.0 - (1.0 - LND_MIN_CAPACITY_FACTOR) / den
    return np.asarray(np.where(a > c, 0.0, f), dtype=np.float64)


def apriori_hop(amount_sat: ArrayLike, capacity_sat: ArrayLike,
                hop_p: float = LND_APRIORI_HOP_P) -> FloatArray:
    """lnd's apriori probability for an untried channel."""
    return np.asarray(hop_p * capacity_factor(amount_sat, capacity_sat), dtype=np.float64)


def any_inbound_success(usable_inbound: ArrayLike, per_channel_p: float = ANY_INBOUND_CHANNEL_P
                        ) -> FloatArray:
    """1 - (1 - q)^k: the payment works if any of k usable inbound channels does."""
    k = np.maximum(np.asarray(usable_inbound, dtype=np.float64), 0.0)
    return np.asarray(1.0 - (1.0 - per_channel_p) ** k, dtype=np.float64)
