"""Unit: probe evidence is split by the fee budget each probe was sent with (its stored
fee limit, and a reach's route fee): a success at a tight limit is one at the normal
budget too, a success over a route dearer than the tight limit says nothing of the tight
budget, a timeout and a short last hop count at budgets at most as loose, a failure at
the target blamed on the node being down at every budget."""

from __future__ import annotations

import numpy as np

from satrank.outcomes import ProbeOutcome
from satrank.scoring.budgets import AMOUNT_GRID_SAT, BUDGETS, NORMAL, TIGHT
from satrank.scoring.engine import ScoringInputs, score_nodes
from satrank.scoring.evidence import (
    CAUSE_DOWN,
    CAUSE_SHORT,
    ProbeEvidence,
    empty_report_evidence,
)
from satrank.scoring.model import grid_evidence
from tests.scoring_graphs import arrays_from_graph, pubkey, small_graph

NOW = 1_761_364_800.0
A = AMOUNT_GRID_SAT.index(100_000)
T, N = BUDGETS.index(TIGHT), BUDGETS.index(NORMAL)


def test_evidence_counts_at_the_budgets_its_fee_limit_covers() -> None:
    # node 0 reached at a 10 sat limit, node 1 at 505 sat (normal at 100k) over a route
    # that cost 40 sat, node 5 at 505 sat over a 3 sat route; node 2 timed out at 10 sat,
    # node 3 at 505 sat; node 4 short last hop at 10 sat (a normal payer tries inbound
    # channels the tight limit kept the probe from), node 6 down at 10 sat (about the node:
    # every budget)
    outcomes = [ProbeOutcome.REACHED] * 2 + [ProbeOutcome.TIMEOUT] * 2 + \
        [ProbeOutcome.FAILED_AT_TARGET, ProbeOutcome.REACHED, ProbeOutcome.FAILED_AT_TARGET]
    probes = ProbeEvidence([pubkey(i) for i in range(7)], np.full(7, 100_000.0), outcomes,
                           np.ones(7), cause=np.array([0, 0, 0, 0, CAUSE_SHORT, 0, CAUSE_DOWN]),
                           fee_limit_sat=np.array([10.0, 505.0, 10.0, 505.0, 10.0, 505.0, 10.0]),
                           route_fee_sat=np.array([np.nan, 40.0, np.nan, np.nan, np.nan, 3.0,
                                                   np.nan]))
    ev = grid_evidence(probes, empty_report_evidence(), {pubkey(i): i for i in range(7)},
                       AMOUNT_GRID_SAT, np.full((len(AMOUNT_GRID_SAT), 7), 0.5),
                       default_amount_sat=100_000, budgets=BUDGETS, probe_budget=TIGHT)
    assert ev.probe_s[T, A].tolist() == [1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    assert ev.probe_s[N, A].tolist() == [1.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    assert ev.probe_f[T, A].tolist() == [0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 1.0]
    assert ev.probe_f[N, A].tolist() == [0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0]


def test_a_normal_budget_reach_proves_no_tight_route() -> None:
    # payer 0 -> 1 -> 2; node 1 charges 1 sat + 100 ppm: 11 sat at 100k, over the tight
    # 10 sat; a probe with a normal limit reached node 2 (the route cost 11 sat)
    graph = arrays_from_graph(small_graph(3, [(0, 1, 5_000_000), (1, 2, 5_000_000)]))
    probes = ProbeEvidence([pubkey(2)], np.array([100_000.0]), [ProbeOutcome.REACHED],
                           np.array([1.0]), fee_limit_sat=np.array([505.0]))
    res = score_nodes(ScoringInputs(graph, 800_100, probes, payer_pubkeys=(pubkey(0),)),
                      now_unix=NOW)
    assert res.model.reachable[:, A, 2].tolist() == [False, True]  # tight, normal
    assert res.model.successes[:, A, 2].tolist() == [0.0, 1.0]
