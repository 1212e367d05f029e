"""bench/baselines.py: route finding within a fee budget from a payer with private channels,
and the graph-only baselines the calibration bench compares the model with."""

from __future__ import annotations

import numpy as np
import pytest

from bench.baselines import PayerView, baselines, sample_liquidity
from satrank.scoring.graph import GraphArrays
from satrank.scoring.liquidity import apriori_hop, bimodal_success, uniform_success

CAP = 2_000_000.0
AMOUNT = 100_000.0


def _view(channels: list[tuple[int, int, float, float, float]], n_nodes: int,
          own: list[tuple[int, float]]) -> PayerView:
    """Channels (node1, node2, capacity, node1's base fee msat, node1's fee ppm); only node1
    announces a policy (payments go node1 -> node2). The payer's own channels: (peer, local)."""
    e = len(channels)
    has = np.zeros((2, e), dtype=bool)
    has[0] = True
    base = np.zeros((2, e))
    ppm = np.zeros((2, e))
    base[0] = [c[3] for c in channels]
    ppm[0] = [c[4] for c in channels]
    graph = GraphArrays(
        pubkeys=tuple(f"n{i}" for i in range(n_nodes)), aliases=("",) * n_nodes,
        node_last_update_unix=np.zeros(n_nodes),
        node1=np.array([c[0] for c in channels], dtype=np.int64),
        node2=np.array([c[1] for c in channels], dtype=np.int64),
        capacity_sat=np.array([c[2] for c in channels]),
        block_height=np.zeros(e, dtype=np.int64), has_policy=has,
        disabled=np.zeros((2, e), dtype=bool), fee_base_msat=base, fee_rate_ppm=ppm,
        max_htlc_msat=np.zeros((2, e)), policy_last_update_unix=np.zeros((2, e)),
        channel_id=np.arange(e, dtype=np.int64))
    return PayerView(graph, own_peer=np.array([p for p, _ in own], dtype=np.int64),
                     own_local_sat=np.array([x for _, x in own]),
                     own_active=np.ones(len(own), dtype=bool))


# payer -> 0 (own, 1M local); 0 -> 1 -> 3 costs 1 + 100 sat; 0 -> 2 -> 3 costs 5 sat
DIAMOND = [(0, 1, CAP, 1000.0, 0.0), (1, 3, CAP, 0.0, 1000.0),
           (0, 2, CAP, 5000.0, 0.0), (2, 3, CAP, 0.0, 0.0)]


def test_the_cheapest_route_within_the_budget_decides_routable_and_the_route_products() -> None:
    view = _view(DIAMOND, 4, [(0, 1_000_000.0)])
    rows = baselines(view, np.array([3, 3]), AMOUNT, np.array([10.0, 3.0]),
                     liquidity=np.zeros((0, len(DIAMOND))))
    assert rows.routable.tolist() == [True, False]
    assert rows.fee_sat[0] == pytest.approx(5.0, abs=1e-3)
    # the cheap route's two public hops (0 -> 2 -> 3); the own first hop counts as known
    assert rows.p["bimodal"][0] == pytest.approx(float(bimodal_success(AMOUNT, CAP)) ** 2)
    assert rows.p["apriori"][0] == pytest.approx(float(apriori_hop(AMOUNT, CAP)) ** 2)
    assert rows.p["uniform"][0] == pytest.approx(float(uniform_success(AMOUNT, CAP)) ** 2)
    assert rows.p["any_inbound"][0] == pytest.approx(1 - 0.4 ** 2)  # 1 -> 3 and 2 -> 3
    for name, p in rows.p.items():
        assert p[1] == 0.0, name  # no route within 3 sat: decided by the graph


def test_own_channels_count_by_their_local_balance() -> None:
    view = _view(DIAMOND, 4, [(0, 50_000.0)])
    rows = baselines(view, np.array([3]), AMOUNT, np.array([1_000.0]),
                     liquidity=np.zeros((0, len(DIAMOND))))
    assert not rows.routable[0]
    assert view.payer == 4


def test_monte_carlo_retries_around_a_drained_channel_within_the_budget() -> None:
    view = _view(DIAMOND, 4, [(0, 1_000_000.0)])
    drained = np.full((1, len(DIAMOND)), CAP)
    drained[0, 2] = 10_000.0  # 0 -> 2 cannot carry 100k sat: the 101-sat route must do
    rows = baselines(view, np.array([3, 3]), AMOUNT, np.array([10.0, 200.0]),
                     liquidity=drained)
    assert rows.p["bimodal_mc"].tolist() == [0.0, 1.0]
    full = baselines(view, np.array([3]), AMOUNT, np.array([10.0]),
                     liquidity=np.full((1, len(DIAMOND)), CAP))
    assert full.p["bimodal_mc"].tolist() == [1.0]


def test_targets_missing_from_the_graph_have_no_route() -> None:
    view = _view(DIAMOND, 4, [(0, 1_000_000.0)])
    rows = baselines(view, np.array([-1]), AMOUNT, np.array([1e9]),
                     liquidity=np.zeros((0, len(DIAMOND))))
    assert not rows.routable[0]
    assert all(p[0] == 0.0 for p in rows.p.values())


@pytest.mark.parametrize("capacity", [CAP, 50_000_000.0, 40_000.0])
def test_sampled_liquidity_follows_the_bimodal_prior(capacity: float) -> None:
    draws = sample_liquidity(np.array([capacity, 1.0]), 8000, np.random.default_rng(1))[:, 0]
    assert ((draws >= 0) & (draws <= capacity)).all()
    for amount in (10_000.0, 50_000.0, 100_000.0, 500_000.0, 1_000_000.0):
        assert (draws >= amount).mean() == pytest.approx(
            float(bimodal_success(amount, capacity)), abs=0.02)
