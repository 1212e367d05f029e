"""Empirical-Bayes prior: a logistic model of p(success) from graph features, fitted on
the probed nodes, plus a prior strength k chosen by beta-binomial marginal likelihood.

A node never probed gets Beta(k*m, k*(1-m)) with m the model's prediction for it, so its
p_success is informed by what probes taught us about similar nodes, never a flat 0.5.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import betaln, expit

from satrank.scoring.features import NodeFeatures
from satrank.scoring.graph import FloatArray

PRIOR_FEATURES = (
    "log_max_inbound_over_amount", "log_inbound_capacity_over_amount", "log_active_channels",
    "log_distinct_peers", "disabled_share", "log_channel_age_days", "log_gossip_age_days",
    "pagerank_pct", "log_amount",
)
# Used until enough nodes are probed to fit: hand-set signs on standardized features
# (bigger inbound channels, more active channels, older, fresher, central -> more likely).
COLD_START_COEF = np.array([0.5, 0.8, 0.3, 0.3, 0.1, -0.6, 0.2, -0.4, 0.3, 0.0])
COLD_START_KAPPA = 2.0
MIN_FIT_NODES = 20  # probed (node, tier) rows needed before fitting
MIN_FIT_WEIGHT = 20.0
RIDGE_LAMBDA = 1.0  # L2 on the non-intercept coefficients (standardized scale)
KAPPA_GRID = np.geomspace(1.0, 200.0, 80)
KAPPA_MIN, KAPPA_MAX = 2.0, 50.0
# Prior strength is only identified by rows with repeated observations: with one probe per
# (node, tier) the beta-binomial likelihood is flat in kappa (P(y) = m for any kappa), and
# fractional (down-weighted or decayed) single observations bias it upwards. So kappa is
# fitted on rows with at least this much evidence, and stays at the cold-start value
# (a prior worth two probes) until enough such rows exist. Measured on simnet
# (bench/calibration.py): fitting on single-probe rows pinned kappa at 50 and made the
# posterior ignore a node's own probes, which repeat with ~99 % agreement.
KAPPA_MIN_OBS = 2.0
# Model v2 (scoring/model.py, liveness.py): nodes mostly work or mostly fail whatever their
# graph looks like, so the marginal likelihood wants a weak graph prior (simnet: kappa
# 0.35-0.5, below v1's clip at 2); this grid reaches well below one observation, so the
# fit lands inside it.
KAPPA_GRID_V2 = np.geomspace(0.05, 200.0, 120)
KAPPA_MIN_V2, KAPPA_MAX_V2 = 0.05, 50.0
KAPPA_MIN_ROWS = 30
IRLS_MAX_ITERATIONS = 50
IRLS_TOLERANCE = 1e-8


@dataclass(frozen=True)
class PriorModel:
    coef: FloatArray  # intercept first, then one per PRIOR_FEATURES (standardized)
    mean: FloatArray
    scale: FloatArray
    kappa: float
    is_fitted: bool  # False: cold-start coefficients
    fit_rows: int

    def prior_mean(self, raw: FloatArray) -> FloatArray:
        z = (raw - self.mean) / self.scale
        return np.asarray(expit(self.coef[0] + z @ self.coef[1:]), dtype=np.float64)


def prior_design(features: NodeFeatures, pagerank_pct: FloatArray, amount_sat: float
                 ) -> FloatArray:
    """Raw (unstandardized) design matrix, shape (n, len(PRIOR_FEATURES)), for one tier."""
    age = np.nan_to_num(features.channel_age_days_median, nan=0.0)
    return np.column_stack([
        np.log10(1.0 + features.max_inbound_channel_sat / amount_sat),
        np.log10(1.0 + features.inbound_capacity_sat / amount_sat),
        np.log1p(features.active_channels),
        np.log1p(features.distinct_peers),
        features.disabled_share,
        np.log1p(age),
        np.log1p(features.gossip_age_days),
        pagerank_pct / 100.0,
        np.full(features.channels.shape[0], np.log10(amount_sat)),
    ])


def _irls(z: FloatArray, y: FloatArray, w: FloatArray) -> FloatArray:
    """Ridge-penalised weighted logistic regression by Newton/IRLS; y may be fractional."""
    x = np.column_stack([np.ones(z.shape[0]), z])
    penalty = np.eye(x.shape[1]) * RIDGE_LAMBDA
    penalty[0, 0] = 0.0
    coef = np.zeros(x.shape[1])
    for _ in range(IRLS_MAX_ITERATIONS):
        p = expit(x @ coef)
        grad = x.T @ (w * (y - p)) - penalty @ coef
        hess = (x * (w * p * (1.0 - p) + 1e-12)[:, None]).T @ x + penalty
        step = np.linalg.solve(hess, grad)
        coef = coef + step
        if np.max(np.abs(step)) < IRLS_TOLERANCE:
            break
    return coef


def best_kappa(m: FloatArray, s: FloatArray, f: FloatArray, *,
               grid: FloatArray = KAPPA_GRID, low: float = KAPPA_MIN,
               high: float = KAPPA_MAX) -> float:
    """argmax_k sum log[B(k m + S, k(1-m) + F) / B(k m, k(1-m))] on a log grid, clipped."""
    m = np.clip(m, 1e-4, 1 - 1e-4)[None, :]
    k = grid[:, None]
    ll = (betaln(k * m + s[None, :], k * (1 - m) + f[None, :]) - betaln(k * m, k * (1 - m)))
    return float(np.clip(grid[int(np.argmax(ll.sum(axis=1)))], low, high))


def fit_prior_model(raw: FloatArray, successes: FloatArray, failures: FloatArray
                    ) -> PriorModel:
    """Fit on all (node, tier) rows; rows without evidence only shape the standardization."""
    mean = raw.mean(axis=0) if raw.shape[0] else np.zeros(raw.shape[1])
    scale = raw.std(axis=0) if raw.shape[0] else np.ones(raw.shape[1])
    scale = np.where(scale > 1e-12, scale, 1.0)
    n = successes + failures
    probed = n > 0
    if probed.sum() < MIN_FIT_NODES or n.sum() < MIN_FIT_WEIGHT or \
            successes.sum() <= 0 or failures.sum() <= 0:
        return PriorModel(COLD_START_COEF.copy(), mean, scale, COLD_START_KAPPA, False,
                          int(probed.sum()))
    z = (raw[probed] - mean) / scale
    coef = _irls(z, successes[probed] / n[probed], n[probed])
    model = PriorModel(coef, mean, scale, COLD_START_KAPPA, True, int(probed.sum()))
    repeated = n >= KAPPA_MIN_OBS
    if repeated.sum() < KAPPA_MIN_ROWS:
        return model
    kappa = best_kappa(model.prior_mean(raw[repeated]), successes[repeated],
                       failures[repeated])
    return PriorModel(coef, mean, scale, kappa, True, int(probed.sum()))


def fit_strength(m: FloatArray, s: FloatArray, f: FloatArray) -> float | None:
    """Model v2's prior strength: `best_kappa` on the rows with >= KAPPA_MIN_OBS
    observations over KAPPA_GRID_V2; None while fewer than KAPPA_MIN_ROWS such rows exist
    (the likelihood is flat in kappa on single observations)."""
    repeated = (s + f) >= KAPPA_MIN_OBS
    if repeated.sum() < KAPPA_MIN_ROWS:
        return None
    return best_kappa(m[repeated], s[repeated], f[repeated], grid=KAPPA_GRID_V2,
                      low=KAPPA_MIN_V2, high=KAPPA_MAX_V2)
