"""Unit: the population's rate of being up (liveness mu) reads the scheduler's sample
probes, drawn uniformly among the eligible nodes, once there are enough of them: the
value-chosen probes come back to flaky nodes. The graph prior's link stays fitted on every
probe with a route (fitted on the sample alone it read unprobed nodes too low on the
calibration bench, bench/RESULTS.md)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from scipy.special import expit, logit

from satrank.outcomes import ProbeOutcome
from satrank.scoring.budgets import AMOUNT_GRID_SAT, BUDGETS
from satrank.scoring.evidence import CAUSE_DOWN, ProbeEvidence, empty_report_evidence
from satrank.scoring.liveness import MIN_SAMPLE_NODES
from satrank.scoring.model import GridEvidence, graph_link, grid_evidence
from tests.scoring_graphs import pubkey

SAMPLED, BIASED = 1000, 600  # nodes drawn at random, nodes the value order came back to
N = SAMPLED + BIASED
# the world reaches sampled nodes more often than the graph prior says, and the flaky
# nodes the scheduler re-probes far less often, at the same priors
SAMPLE_SHIFT, BIASED_SHIFT = 0.8, -1.5


def _world(seed: int = 3) -> tuple[ProbeEvidence, np.ndarray]:
    """One sample probe per sampled node, four value-chosen probes per biased node, all at
    100k sat; a failure is at the target, the node down. Returns the evidence and each
    node's blind graph prior."""
    rng = np.random.default_rng(seed)
    prior = rng.uniform(0.3, 0.95, N)
    node = np.r_[np.arange(SAMPLED), np.repeat(np.arange(SAMPLED, N), 4)]
    shift = np.where(node < SAMPLED, SAMPLE_SHIFT, BIASED_SHIFT)
    reached = rng.random(node.size) < expit(logit(prior[node]) + shift)
    return ProbeEvidence(
        [pubkey(int(i)) for i in node], np.full(node.size, 100_000.0),
        [ProbeOutcome.REACHED if r else ProbeOutcome.FAILED_AT_TARGET for r in reached],
        np.ones(node.size), cause=np.where(reached, 0, CAUSE_DOWN),
        sample=node < SAMPLED), prior


def _fits(probes: ProbeEvidence, prior: np.ndarray) -> tuple[float, float, GridEvidence]:
    """(mu, the link's reading of a 0.7 prior, the evidence)."""
    index = {pubkey(i): i for i in range(N)}
    last_hop = np.full((len(AMOUNT_GRID_SAT), N), 0.9)
    ev = grid_evidence(probes, empty_report_evidence(), index, AMOUNT_GRID_SAT, last_hop,
                       default_amount_sat=100_000)
    blind = np.broadcast_to(prior, (len(BUDGETS), len(AMOUNT_GRID_SAT), N))
    link = graph_link(np.ascontiguousarray(blind), ev, AMOUNT_GRID_SAT)
    assert link.fitted
    return ev.liveness.mu, float(link(np.array([0.7]))[0]), ev


def test_mu_follows_the_sample_not_the_flaky_nodes_probed_again() -> None:
    probes, prior = _world()
    mu, at_07, _ = _fits(probes, prior)
    mu_all, at_07_all, _ = _fits(replace(probes, sample=None), prior)  # every probe, as before
    sampled = np.array([o == ProbeOutcome.REACHED for o, s in
                        zip(probes.outcomes, probes.samples(), strict=True) if s])
    # mu: the sampled nodes' rate of being up, each node once
    assert abs(mu - sampled.mean()) < 1e-9
    assert mu > mu_all + 0.1
    # the link reads every probe with a route, whatever the sample flags
    assert at_07 == at_07_all


def _first_sampled(probes: ProbeEvidence, k: int) -> ProbeEvidence:
    """The world with only the first `k` sampled nodes' probes marked as sample."""
    return replace(probes, sample=probes.samples() & (np.arange(len(probes.pubkeys)) < k))


def test_with_too_few_sample_probes_every_probe_is_fitted_as_before() -> None:
    probes, prior = _world()
    before = _fits(replace(probes, sample=None), prior)[:2]
    assert _fits(_first_sampled(probes, MIN_SAMPLE_NODES - 1), prior)[:2] == before
    mu, at_07, _ = _fits(_first_sampled(probes, 2 * MIN_SAMPLE_NODES), prior)
    assert at_07 == before[1]
    assert mu > before[0] + 0.1


def test_probes_to_nodes_without_a_route_for_the_payer_do_not_move_the_link() -> None:
    """Probes sent from another vantage reach nodes the reference payer has no route to
    (prior 0): they say nothing about reaching a node given a route, and at logit(0) they
    would flatten the link."""
    probes, prior = _world()
    _, at_07, _ = _fits(probes, prior)
    unroutable = np.r_[np.arange(0, SAMPLED, 3), np.arange(SAMPLED, N, 3)]
    cut = prior.copy()
    cut[unroutable] = 0.0
    # the world reaches those nodes anyway (another payer's routes), every time
    reached = [ProbeOutcome.REACHED if i in set(unroutable.tolist()) else o
               for i, o in zip((int(pk[2:], 16) for pk in probes.pubkeys), probes.outcomes,
                               strict=True)]
    _, at_07_cut, _ = _fits(replace(probes, outcomes=reached), cut)
    assert abs(at_07_cut - at_07) < 0.05
