"""Liveness: is the node up and settling HTLCs? A Beta posterior per node whose evidence
weights come from the outcome likelihood, not from a table.

Given that the HTLC reached a peer of the target (the failure or success is located at the
last hop), with the node up with probability lam and the last hop carrying the amount with
probability l (from the graph, `reach.PayerView.last_hop`):

    P(reached)          = lam * l
    P(failed at target) = (1 - lam) + lam * (1 - l)

A reach is a whole observation of "up". Where lnd's failure code says why a failure at the
target happened (`scoring.evidence`: TEMPORARY_CHANNEL_FAILURE from the peer = the last hop
was short, UNKNOWN_NEXT_PEER = the node is down), r is that answer, 0 or 1. Otherwise the
failure is "down" with posterior responsibility r = (1 - lam) / (1 - lam * l) and "the last
hop was short" with 1 - r, so it counts r against liveness (EM's expected count; a node
with one drained channel is not called dead for a failure its liquidity explains).
Failures inside the route, no-route and errors are about other nodes or our own: they
carry no weight here. A timeout is left to the payment model (`scoring.model`): a dead
target is answered quickly by its peer (UNKNOWN_NEXT_PEER), so a timeout speaks about the
route.

The prior Beta(k mu, k (1 - mu)) is one population model: mu is the rate of "up" with each
observed node counted once (evidence decay) and k maximises the beta-binomial marginal
likelihood over nodes with >= 2 observations (`scoring.prior.best_kappa`), so both
parameters are identified by repeated probes.

mu is read from the scheduler's sample probes once at least MIN_SAMPLE_NODES nodes have
one (`population_rows`): the scheduler chooses most probes by value and comes back to the
uncertain nodes, those that failed, so even counted once per node the probed nodes lean
towards the flaky ones; the sample probes go to nodes drawn uniformly among the eligible
ones. kappa stays fitted on every observation: it measures how nodes stray from mu, and
repeated probes (most of them value-chosen) are what identify it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from satrank.scoring.evidence import CAUSE_DOWN, CAUSE_SHORT
from satrank.scoring.graph import BoolArray, FloatArray, IntArray
from satrank.scoring.prior import fit_strength

EM_ITERATIONS = 4
# nodes with sample probes (at the target's peer: reached or failed at the target) before
# mu is read from them alone: below it, the sample's own noise (a rate from a few dozen
# nodes) would outweigh the bias it removes
MIN_SAMPLE_NODES = 50
COLD_MU, COLD_KAPPA = 0.9, 2.0  # until enough repeated observations exist
MU_MIN, MU_MAX = 0.5, 0.995


@dataclass(frozen=True)
class Liveness:
    mu: float
    kappa: float
    up: FloatArray  # (n,) weighted reaches
    down: FloatArray  # (n,) expected failures from being down
    fitted: bool

    @property
    def mean(self) -> FloatArray:
        return np.asarray((self.kappa * self.mu + self.up)
                          / (self.kappa + self.up + self.down), dtype=np.float64)


def down_responsibility(lam: FloatArray, last_hop: FloatArray) -> FloatArray:
    """P(node down | failed at target) = (1 - lam) / (1 - lam * l)."""
    return np.asarray(np.clip((1.0 - lam) / np.maximum(1.0 - lam * last_hop, 1e-12), 0.0, 1.0),
                      dtype=np.float64)


def attributed_responsibility(lam: FloatArray, last_hop: FloatArray, cause: IntArray
                              ) -> FloatArray:
    """P(node down | failed at target): the failure code's answer where it gives one
    (CAUSE_SHORT: 0, CAUSE_DOWN: 1), the likelihood split elsewhere."""
    r = down_responsibility(lam, last_hop)
    return np.asarray(np.where(cause == CAUSE_SHORT, 0.0, np.where(cause == CAUSE_DOWN, 1.0, r)),
                      dtype=np.float64)


def population_rows(reached_node: IntArray, reached_weight: FloatArray,
                    reached_sample: BoolArray, failed_node: IntArray,
                    failed_weight: FloatArray, failed_sample: BoolArray, n: int
                    ) -> tuple[FloatArray, FloatArray]:
    """`fit_liveness`'s `population` (reaches per node, weight per failure row): the
    sample rows alone when at least MIN_SAMPLE_NODES nodes have one (the others weigh 0,
    so only sampled nodes count in mu), else every row."""
    sampled = np.union1d(reached_node[reached_sample], failed_node[failed_sample])
    if sampled.size >= MIN_SAMPLE_NODES:
        reached_weight = reached_weight * reached_sample
        failed_weight = failed_weight * failed_sample
    return (np.bincount(reached_node, reached_weight, minlength=n).astype(np.float64),
            np.asarray(failed_weight, dtype=np.float64))


def fit_liveness(reached: FloatArray, failed_node: np.ndarray, failed_weight: FloatArray,
                 failed_last_hop: FloatArray, n: int, failed_cause: IntArray | None = None,
                 population: tuple[FloatArray, FloatArray] | None = None) -> Liveness:
    """`reached` (n,) weighted reaches per node; failures at the target as rows (node index,
    weight, last-hop probability at the probed amount, cause from the failure code).

    mu is the population's rate of being up, a node counted once: the mean over observed
    nodes of each node's share of "up". Pooled over observations instead, it leans towards
    the nodes the scheduler probes again and again, which are the uncertain, flaky ones.
    `population` (reaches per node, weight per failure row) are the same observations with
    the evidence decay: mu is a property of the network, not of the last hours, so it is
    not read through the liveness decay that `reached` and `failed_weight` carry; only
    the nodes with population weight count in mu (the sample's, `population_rows`)."""
    mu, kappa, fitted = COLD_MU, COLD_KAPPA, False
    lam = np.full(n, mu)
    down = np.zeros(n)
    cause = np.zeros(len(failed_node), dtype=np.int64) if failed_cause is None \
        else failed_cause
    for _ in range(EM_ITERATIONS):
        r = attributed_responsibility(lam[failed_node], failed_last_hop, cause)
        down = np.bincount(failed_node, weights=failed_weight * r, minlength=n).astype(np.float64)
        total = reached + down
        pop_up, pop_down = (reached, down) if population is None else (
            population[0], np.bincount(failed_node, weights=population[1] * r,
                                       minlength=n).astype(np.float64))
        seen = (pop_up + pop_down) > 0
        if seen.any():
            share = pop_up[seen] / (pop_up[seen] + pop_down[seen])
            mu = float(np.clip(share.mean(), MU_MIN, MU_MAX))
        fit = fit_strength(np.full(n, mu), reached, down)
        if fit is not None:
            kappa, fitted = fit, True
        lam = (kappa * mu + reached) / (kappa + total)
    return Liveness(mu, kappa, reached, down, fitted)
