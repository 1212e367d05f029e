"""Unit: reports hold a bounded share of a node's evidence, never shape the prior, and say
in `reasons` when they changed a verdict."""

from __future__ import annotations

import numpy as np

from satrank.outcomes import ProbeOutcome
from satrank.scoring.engine import ScoringInputs, score_nodes
from satrank.scoring.evidence import (
    REPORT_SHARE_MAX,
    ProbeEvidence,
    ReportEvidence,
    cap_report_share,
)
from tests.scoring_graphs import arrays_from_graph, pubkey, small_graph

NOW = 1_761_364_800.0


def test_reports_hold_at_most_their_share_of_the_evidence() -> None:
    rs, rf = cap_report_share(np.array([60.0, 0.3, 5.0]), np.array([0.0, 0.0, 5.0]),
                              probe_weight=np.array([10.0, 10.0, 0.0]), prior_strength=2.0)
    share = (rs + rf) / (2.0 + np.array([10.0, 10.0, 0.0]) + rs + rf)
    np.testing.assert_allclose(share[[0, 2]], REPORT_SHARE_MAX)
    np.testing.assert_allclose([rs[1], rf[1]], [0.3, 0.0])  # under the cap: untouched
    np.testing.assert_allclose(rs[2], rf[2])  # scaled together: the ratio is kept


def _inputs(reports: ReportEvidence) -> ScoringInputs:
    graph = arrays_from_graph(small_graph(4, [(0, 1, 5_000_000), (1, 2, 5_000_000),
                                              (2, 3, 5_000_000), (3, 0, 5_000_000)]))
    probes = ProbeEvidence([pubkey(0), pubkey(1)], np.array([100_000.0, 100_000.0]),
                           [ProbeOutcome.FAILED_AT_TARGET, ProbeOutcome.REACHED],
                           np.array([3.0, 3.0]))
    return ScoringInputs(graph, 800_100, probes, reports)


def test_a_report_flood_is_capped_and_named_in_reasons() -> None:
    none = score_nodes(_inputs(ReportEvidence((), np.zeros(0), np.zeros(0, bool),
                                              np.zeros(0, bool), np.zeros(0))), now_unix=NOW)
    flood = score_nodes(_inputs(ReportEvidence(
        [pubkey(0), pubkey(2)], np.array([0.0, 0.0]), np.array([True, True]),
        np.array([True, True]), np.array([500.0, 500.0]))), now_unix=NOW)
    # The prior never learns from reports (node 2 has no probe: it stays unfitted on).
    assert (none.prior.fit_rows, none.prior.kappa) == (flood.prior.fit_rows, flood.prior.kappa)
    np.testing.assert_array_equal(none.prior.coef, flood.prior.coef)
    kappa = none.prior.kappa
    n_reports = flood.default.n_eff[0] - none.default.n_eff[0]
    assert n_reports == np.float64(REPORT_SHARE_MAX / (1 - REPORT_SHARE_MAX) * (kappa + 3.0))
    assert none.verdict_names()[0] == "RISKY"
    moved = flood.verdict_names()[0] != "RISKY"
    assert any("user reports weigh" in line for line in flood.reasons[0])
    assert moved == any("user reports moved the verdict from RISKY" in line
                        for line in flood.reasons[0])
    assert not any("user reports" in line for line in flood.reasons[1])
    assert flood.reasons[1] == none.reasons[1]
