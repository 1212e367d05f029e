"""The graph prior's link to what probes showed: logit(m') = a + b * logit(m).

The graph prior m (`scoring.reach`: lnd's bimodal liquidity, retries over every route
within the budget, times the population's rate of being up) is a model of the world, not a
fit to it: its liquidity scale, its independent channels and its missing route failures
are lnd's assumptions. Two numbers fitted on every probe that had a route (reached or
not), against the prior each node had without its own evidence, recalibrate it for the
nodes that carry no evidence of their own, the larger part of any graph. Each probed node
counts once (its probes share a weight of 1, `scoring.model.grid_evidence`): the scheduler
comes back to the nodes whose probes failed. Identity until enough probes of both
outcomes exist.

Fitted on every probe with a route, not on the scheduler's sample probes alone (those
drawn uniformly among the eligible nodes, which set mu, `scoring.liveness`): on the
calibration bench the sample-only link read the unprobed nodes' priors 0.13-0.15 too low
(two runs), the every-probe link within 0.01 (bench/RESULTS.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit, logit

from satrank.scoring.graph import FloatArray

MIN_LINK_ROWS = 200  # probes with a route, and at least this many of each outcome / 10
RIDGE = 1.0  # pulls (a, b) towards the identity (0, 1): a weak prior, not a constraint
_EDGE = 1e-4


@dataclass(frozen=True)
class Link:
    a: float = 0.0
    b: float = 1.0
    fitted: bool = False

    def __call__(self, m: FloatArray) -> FloatArray:
        if not self.fitted:
            return m
        z = _logit(m)
        return np.asarray(expit(self.a + self.b * z), dtype=np.float64)


def _logit(m: FloatArray) -> FloatArray:
    return np.asarray(logit(np.clip(m, _EDGE, 1.0 - _EDGE)), dtype=np.float64)


def fit_link(m: FloatArray, y: FloatArray, w: FloatArray, iterations: int = 25) -> Link:
    """Weighted logistic regression of the outcomes `y` (1 reached, 0 not) on logit(m),
    by Newton's method with a ridge towards the identity."""
    ok = (w > 0) & np.isfinite(m)
    m, y, w = m[ok], y[ok], w[ok]
    if (m.size < MIN_LINK_ROWS or (y > 0.5).sum() < MIN_LINK_ROWS // 10
            or (y < 0.5).sum() < MIN_LINK_ROWS // 10):
        return Link()
    x = np.column_stack([np.ones_like(m), _logit(m)])
    identity = np.array([0.0, 1.0])
    theta = identity.copy()
    for _ in range(iterations):
        p = expit(x @ theta)
        grad = x.T @ (w * (y - p)) - RIDGE * (theta - identity)
        hess = (x * (w * p * (1.0 - p))[:, None]).T @ x + RIDGE * np.eye(2)
        step = np.linalg.solve(hess, grad)
        theta = theta + step
        if np.abs(step).max() < 1e-9:
            break
    return Link(float(theta[0]), float(theta[1]), True)
