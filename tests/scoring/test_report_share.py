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
    # Node 0: 3 successes, 3 failures (UNKNOWN on probes alone); node 1: 3 successes.
    probes = ProbeEvidence([pubkey(0), pubkey(0), pubkey(1)], np.full(3, 100_000.0),
                           [ProbeOutcome.REACHED, ProbeOutcome.FAILED_AT_TARGET,
                            ProbeOutcome.REACHED], np.array([3.0, 3.0, 3.0]))
    return ScoringInputs(graph, 800_100, probes, reports)


def _flood(pubkeys: list[str], success: bool) -> ReportEvidence:
    n = len(pubkeys)
    return ReportEvidence(pubkeys, np.zeros(n), np.full(n, success), np.full(n, True),
                          np.full(n, 500.0))


def test_a_report_flood_is_capped_and_named_in_reasons() -> None:
    none = score_nodes(_inputs(_flood([], False)), now_unix=NOW)
    flood = score_nodes(_inputs(_flood([pubkey(0), pubkey(2)], False)), now_unix=NOW)
    # The prior never learns from reports: same strength, same graph prior means.
    assert (none.model.kappa, none.model.kappa_fitted) == \
        (flood.model.kappa, flood.model.kappa_fitted)
    np.testing.assert_array_equal(none.model.prior_mean, flood.model.prior_mean)
    kappa = none.model.kappa
    n_reports = flood.default.n_eff[0] - none.default.n_eff[0]
    # node 0's probes at the default cell: its 3 reaches and of its 3 failures the share
    # blamed on being down (the probes carry no fee limit: the tight probe budget's, so a
    # short last hop does not count at the default, normal, budget)
    probes = none.default.n_eff[0]
    assert 3.0 < probes < 6.0
    np.testing.assert_allclose(n_reports, REPORT_SHARE_MAX / (1 - REPORT_SHARE_MAX)
                               * (kappa + probes))
    assert (none.verdict_names()[0], flood.verdict_names()[0]) == ("UNKNOWN", "RISKY")
    assert flood.reasons[0][-2:] == [
        f"user reports weigh {n_reports:.1f} observations",
        "user reports moved the verdict from UNKNOWN to RISKY"]
    assert flood.reasons[1] == none.reasons[1]  # no report: no line
    assert flood.reasons[2][-1] == f"user reports weigh {REPORT_SHARE_MAX / 0.8 * kappa:.1f} " \
        "observations"  # never probed: a quarter of the prior's weight at most
    assert flood.verdict_names()[2] == "INSUFFICIENT"
