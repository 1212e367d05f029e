"""The shared per-channel estimators against values worked out by hand from their
definitions (lnd's bimodal and apriori estimators, Pickhardt's uniform model)."""

from __future__ import annotations

import numpy as np
from scipy import integrate

from satrank.scoring.liquidity import (
    LND_BIMODAL_SCALE_SAT,
    any_inbound_success,
    apriori_hop,
    bimodal_success,
    capacity_factor,
    decayed_bounds,
    uniform_success,
)


def _bimodal_by_quadrature(a: float, c: float, lo: float, hi: float) -> float:
    s = LND_BIMODAL_SCALE_SAT

    def density(x: float) -> float:
        return float(np.exp(-x / s) + np.exp((x - c) / s) + 1.0 / (c * s))

    num = integrate.quad(density, max(a, lo), hi)[0]
    den = integrate.quad(density, lo, hi)[0]
    return num / den


def test_bimodal_matches_its_density_integrated_numerically() -> None:
    for a, c, lo, hi in [(100_000, 1_000_000, 0, 1_000_000), (500_000, 2_000_000, 0, 2e6),
                         (300_000, 5_000_000, 200_000, 800_000), (50_000, 60_000, 0, 60_000)]:
        got = float(bimodal_success(a, c, lo, hi))
        assert abs(got - _bimodal_by_quadrature(a, c, lo, hi)) < 1e-6


def test_bimodal_edges_follow_the_knowledge() -> None:
    got = bimodal_success(np.array([10.0, 500.0, 900.0, 2000.0]), 1000.0, 500.0, 900.0)
    assert got.tolist() == [1.0, 1.0, 0.0, 0.0]
    # a bimodal prior puts most liquidity at the ends: half the capacity fits about half
    # the time, far more than 1 - a/c would say of small channels being full
    assert 0.45 < float(bimodal_success(500_000, 1_000_000)) < 0.55
    assert float(bimodal_success(1_000, 1_000_000)) > 0.99


def test_inconsistent_knowledge_is_dropped() -> None:
    assert float(bimodal_success(400, 1000, 800, 600)) == float(bimodal_success(400, 1000))


def test_decay_moves_bounds_back_to_no_knowledge() -> None:
    lo, hi = decayed_bounds(1000.0, 600.0, 0.0, 800.0, 0.0)
    assert (float(lo), float(hi)) == (600.0, 800.0)
    lo, hi = decayed_bounds(1000.0, 600.0, np.inf, 800.0, np.inf)
    assert (float(lo), float(hi)) == (0.0, 1000.0)


def test_uniform_apriori_and_any_inbound() -> None:
    assert float(uniform_success(250, 999)) == 0.75
    assert float(uniform_success(100, 999, 200)) == 1.0
    assert float(capacity_factor(0, 1_000_000)) > 0.99
    assert float(capacity_factor(2_000_000, 1_000_000)) == 0.0
    assert abs(float(apriori_hop(10, 1_000_000)) - 0.6) < 1e-6
    assert np.allclose(any_inbound_success(np.array([0, 1, 2])), [0.0, 0.6, 0.84])


def test_knowledge_lands_on_its_edge_direction_and_decays() -> None:
    from satrank.scoring.knowledge import ChannelKnowledge, edge_bounds
    from tests.scoring_graphs import arrays_from_graph, small_graph

    g = arrays_from_graph(small_graph(3, [(0, 1, 1_000_000), (1, 2, 2_000_000)]))
    scid = int(g.channel_id[1])
    k = ChannelKnowledge(channel_id=np.array([scid, 999], np.int64),
                         direction=np.array([1, 0], np.int64),
                         carried_sat=np.array([300_000.0, 5.0]),
                         carried_unix=np.array([1000.0, 1000.0]),
                         failed_sat=np.array([900_000.0, np.inf]),
                         failed_unix=np.array([1000.0, 0.0]))
    lo, hi = edge_bounds(g, k, now_unix=1000.0)
    assert lo.tolist() == [[0.0, 0.0], [0.0, 300_000.0]]
    assert hi.tolist() == [[1_000_000.0, 2_000_000.0], [1_000_000.0, 900_000.0]]
    lo_later, hi_later = edge_bounds(g, k, now_unix=1000.0 + 7 * 86_400.0)
    assert 0 < lo_later[1, 1] < 300_000.0 and 900_000.0 < hi_later[1, 1] < 2_000_000.0
