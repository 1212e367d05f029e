"""Unit: node evidence reads lnd's failure code where it says why a probe failed at the
target (short last hop vs node down), and liveness evidence carries its own decay."""

from __future__ import annotations

import numpy as np

from satrank.outcomes import ProbeOutcome
from satrank.scoring.budgets import AMOUNT_GRID_SAT
from satrank.scoring.evidence import (
    CAUSE_DOWN,
    CAUSE_SHORT,
    CAUSE_UNKNOWN,
    ProbeEvidence,
    empty_report_evidence,
)
from satrank.scoring.model import grid_evidence
from tests.scoring_graphs import pubkey

SMALL, BIG = AMOUNT_GRID_SAT.index(10_000), AMOUNT_GRID_SAT.index(1_000_000)


def _evidence(causes: list[int], last_hop: list[float], live: list[float] | None = None
              ) -> tuple[np.ndarray, np.ndarray]:
    """One failure at the target at 1M sat per node, node i with cause causes[i] and a
    last hop that carries 1M with probability last_hop[i]; (F at 10k, F at 1M). Forty more
    nodes, each reached once, make the population mostly up."""
    n, healthy = len(causes), 40
    index = {pubkey(i): i for i in range(n + healthy)}
    live_w = np.ones(n) if live is None else np.array(live)
    probes = ProbeEvidence([pubkey(i) for i in range(n + healthy)], np.full(n + healthy, 1e6),
                           [ProbeOutcome.FAILED_AT_TARGET] * n + [ProbeOutcome.REACHED] * healthy,
                           np.ones(n + healthy),
                           cause=np.array([*causes] + [CAUSE_UNKNOWN] * healthy, dtype=np.int64),
                           live_count=np.append(live_w, np.ones(healthy)))
    hop = np.tile(np.array([[*last_hop] + [0.9] * healthy]), (len(AMOUNT_GRID_SAT), 1))
    ev = grid_evidence(probes, empty_report_evidence(), index, AMOUNT_GRID_SAT, hop,
                       default_amount_sat=100_000)
    return ev.probe_f[0, SMALL, :n], ev.probe_f[0, BIG, :n]  # budget 0: tight, the default


def test_the_failure_code_decides_down_or_short_where_it_is_known() -> None:
    # Node 0: UNKNOWN_NEXT_PEER although its last hop rarely carries 1M (the likelihood
    # alone would call it short): it was down, a failure at every amount.
    # Node 1: TEMPORARY_CHANNEL_FAILURE although its last hop nearly always carries 1M (the
    # likelihood alone would call it down): the last hop was short, nothing at 10k.
    small, big = _evidence([CAUSE_DOWN, CAUSE_SHORT], [0.02, 0.999])
    assert big.tolist() == [1.0, 1.0]
    assert small.tolist() == [1.0, 0.0]
    # without a code the likelihood split stays (the same nodes, the opposite answers)
    small, _ = _evidence([CAUSE_UNKNOWN, CAUSE_UNKNOWN], [0.02, 0.999])
    assert small[0] < 0.2 < 0.8 < small[1]


def test_down_counts_with_the_liveness_decay_and_short_with_the_evidence_decay() -> None:
    # the same one-day-old failure: as "down" it weighs its liveness-decayed 0.06, as
    # "short" its evidence-decayed 1.0 at amounts >= the probed one
    small, big = _evidence([CAUSE_DOWN, CAUSE_SHORT], [0.5, 0.5], live=[0.0625, 0.0625])
    np.testing.assert_allclose(big, [0.0625, 1.0])
    np.testing.assert_allclose(small, [0.0625, 0.0])
