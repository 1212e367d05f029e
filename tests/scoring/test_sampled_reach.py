"""The payer's view samples channel liquidity and retries as lnd does: a payment reaches a
node when some route within the budget carries it on every hop, upstream included."""

from __future__ import annotations

import numpy as np

from satrank.scoring.budgets import BUDGETS, NORMAL
from satrank.scoring.graph import GraphArrays
from satrank.scoring.liquidity import bimodal_success
from satrank.scoring.reach import PayerView, direction_draws, payer_view
from tests.scoring_graphs import arrays_from_graph, small_graph

BIG = 5_000_000
AMOUNTS = (10_000, 100_000, 1_000_000)


def _view(g: GraphArrays, samples: int = 400) -> PayerView:
    lower = np.zeros((2, g.n_edges))
    upper = np.broadcast_to(g.capacity_sat, (2, g.n_edges))
    return payer_view(g, np.array([0]), free_sources=True, amounts_sat=AMOUNTS,
                      budgets=BUDGETS, lower=lower, upper=upper, samples=samples)


def test_retries_upstream_count_every_route_not_one_path() -> None:
    """Node 4 sits behind 3, which the payer 0 reaches over 1 or over 2: the payment
    reaches 4 when either two-hop path carries it and then 3 -> 4 does,
    (1 - (1 - p^2)^2) p, not the single cheapest path's p^3."""
    cap = 300_000  # each channel carries 100k with p = 0.66
    g = arrays_from_graph(small_graph(5, [(0, 1, cap), (0, 2, cap), (1, 3, cap), (2, 3, cap),
                                          (3, 4, cap)]))
    view = _view(g)
    b, j = BUDGETS.index(NORMAL), AMOUNTS.index(100_000)
    p = float(bimodal_success(100_000, cap))
    expected = (1.0 - (1.0 - p * p) ** 2) * p
    assert abs(view.p_graph[b, j, 4] - expected) < 0.04
    assert view.p_graph[b, j, 4] > p ** 3 + 0.1
    # the last hop is integrated, not sampled: node 3's p is exact given its upstream
    assert abs(view.p_graph[b, j, 3] - (1.0 - (1.0 - p * p) ** 2)) < 0.04


def test_p_falls_with_the_amount_and_is_the_same_on_every_pass() -> None:
    g = arrays_from_graph(small_graph(6, [(0, 1, BIG), (1, 2, 800_000), (0, 3, 2_000_000),
                                          (3, 2, BIG), (2, 4, BIG), (4, 5, 300_000)]))
    first, again = _view(g, samples=32), _view(g, samples=32)
    assert np.array_equal(first.p_graph, again.p_graph)
    assert np.all(np.diff(first.p_graph[:, :, 1:], axis=1) <= 1e-12)  # 0 is the payer
    assert np.all(first.p_graph <= first.reachable)


def test_a_node_without_a_route_within_the_budget_gets_nothing() -> None:
    g = arrays_from_graph(small_graph(3, [(0, 1, BIG), (1, 2, 50_000)]))
    view = _view(g, samples=16)
    j = AMOUNTS.index(100_000)
    assert not view.reachable[:, j, 2].any()
    assert (view.p_graph[:, j, 2] == 0).all() and (view.p_graph_blind[:, j, 2] == 0).all()
    assert (view.p_graph[:, j, 1] > 0).all()


def test_a_channel_keeps_its_draws_when_other_channels_open_or_close() -> None:
    ids = np.array([11, 22, 33, 44], dtype=np.int64)
    both = np.concatenate([ids, ids])  # the two directions of each channel, as DirectedEdges
    fewer = np.concatenate([ids[[0, 2]], ids[[0, 2]]])
    draws, kept = direction_draws(both, 64), direction_draws(fewer, 64)
    assert np.array_equal(kept, draws[:, [0, 2, 4, 6]])
    assert not np.array_equal(draws[:, 0], draws[:, 4])  # the two directions differ
    assert ((draws >= 0) & (draws < 1)).all()
    many = direction_draws(np.arange(20_000, dtype=np.int64), 8)
    assert abs(many.mean() - 0.5) < 0.01 and abs(np.corrcoef(many[0], many[1])[0, 1]) < 0.03
