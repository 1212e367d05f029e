"""Unit: a new payer's tree in the intent snapshot (api/cache/intent.py). A wallet behind one
peer costs no Dijkstra of its own: its peer's tree, computed once, serves every wallet
behind that peer, and the answer is the one its own Dijkstra gives."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from satrank.api.cache.intent import IntentSnapshot, build_snapshot
from satrank.api.intent_input import IntentRequest
from satrank.api.routes.intent import answer
from satrank.db.intent import IntentInputs, NodeScores
from satrank.scoring.graph import GraphArrays
from satrank.scoring.knowledge import empty_channel_knowledge
from satrank.scoring.payment import search_amount, shortest_tree
from tests.scoring_graphs import arrays_from_graph, pubkey, small_graph

NOW = 1_700_000_000.0


def _unscored(graph: GraphArrays, our_pubkey: str | None = None) -> IntentSnapshot:
    """The snapshot of `graph` with no node scored yet."""
    n = graph.n_nodes
    nan = np.full(n, np.nan)
    scores = NodeScores(agent_hash=tuple(str(i) for i in range(n)), verdict=(None,) * n,
                        p_success=nan, ci95_low=nan, ci95_high=nan, n_eff=nan,
                        scored_unix=nan, probed_unix=nan)
    return build_snapshot(IntentInputs(graph, scores, empty_channel_knowledge()), version=0,
                          our_pubkey=our_pubkey, now_unix=NOW)


def _snapshot() -> IntentSnapshot:
    # hub 1 with wallets 5 and 6 behind it; 0 is the largest node (the reference payer)
    links = [(0, 1, 9_000_000), (0, 2, 9_000_000), (1, 2, 1_000_000), (2, 3, 500_000),
             (3, 4, 900_000), (5, 1, 3_000_000), (6, 1, 1_000_000), (0, 3, 9_000_000)]
    return _unscored(arrays_from_graph(small_graph(7, links)))


def test_wallets_behind_one_peer_share_its_tree() -> None:
    snapshot = _snapshot()
    assert snapshot.reference == 0
    amount = search_amount(20_000)
    for wallet in (5, 6):
        tree = snapshot.tree(wallet, amount)
        assert tree.source == wallet
        assert tree.dist == pytest.approx(shortest_tree(snapshot.searches[amount], wallet).dist)
    assert list(snapshot._trees) == [(1, amount)]  # one Dijkstra: the hub's
    answer = snapshot.estimate(5, True, 4, (), 20_000, 500)
    assert answer.payer_basis == "caller" and answer.payment.p_model > 0
    assert answer.payment.likeliest is not None
    assert int(snapshot.edges.src[answer.payment.likeliest.edges[0]]) == 5


def test_a_payment_between_search_amounts_finds_the_route_over_big_channels() -> None:
    """1M sat searched on the 400k graph takes the cheap way out over the payer's 900k
    channel (0 -> 1 -> 2 -> 3), which cannot carry it; the dear way over 5M channels
    (0 -> 4 -> 2 -> 3) is found on the next search graph up, as lnd's search at the exact
    amount finds it."""
    links = [(0, 1, 900_000), (1, 2, 5_000_000), (0, 4, 5_000_000), (4, 2, 5_000_000),
             (2, 3, 5_000_000), (0, 5, 9_000_000)]
    graph = arrays_from_graph(small_graph(6, links))
    graph.fee_base_msat[1, 3] = 900_000  # 4 -> 2 (node2 -> node1 of channel 3): 900 sat
    graph.max_htlc_msat[:] = 5_000_000_000  # the default policy's 990k sat would stop 1M
    snapshot = _unscored(graph, pubkey(0))
    assert snapshot.reference == 0
    small = snapshot.reference_estimate(3, (), 300_000, 5_000)
    assert [int(snapshot.edges.dst[e]) for e in small.routes[0].edges] == [1, 2, 3]
    big = snapshot.reference_estimate(3, (), 1_000_000, 5_005)
    assert big.likeliest is not None and big.p_model > 0
    assert [int(snapshot.edges.dst[e]) for e in big.likeliest.edges] == [4, 2, 3]
    private = snapshot.estimate(None, True, 3, (), 1_000_000, 5_005, peers=(1,))
    assert private.payer_basis == "caller_peers" and private.payment.routes


def test_a_callers_theta_is_read_at_its_own_budget_where_the_reference_routes() -> None:
    """Node 4's grid says theta 0.5 at the tight budget and 0.9 at the normal one; wallet 5
    pays it 10k sat at a tight budget the reference payer routes within: the answer (shift
    and route share 0: theta alone) is the tight row's."""
    base = _snapshot()
    n = len(base.pubkeys)
    grid = np.full((n, 3, 4), np.nan)  # cells: tight 1k, tight 100k, normal 1k, normal 100k
    grid[4] = [[0.5, 0.5, 0.9, 0.9], [5.0, 5.0, 9.0, 9.0], [5.0, 5.0, 1.0, 1.0]]
    old = base.inputs.scores
    scores = replace(old, verdict=tuple("UNKNOWN" if i == 4 else None for i in range(n)),
                     p_success=np.full(n, 0.9), ci95_low=np.full(n, 0.5),
                     ci95_high=np.full(n, 0.99), n_eff=np.full(n, 3.0),
                     grid_amounts_sat=(1_000, 100_000), grid_budgets=("tight", "normal"),
                     grid=grid)
    snapshot = build_snapshot(replace(base.inputs, scores=scores), version=1,
                              our_pubkey=None, now_unix=NOW)
    tight = IntentRequest(("pubkey", pubkey(4)), None, ("pubkey", pubkey(5)), 10_000, 10,
                          False)
    got = answer(snapshot, tight, NOW, weight=0.0, route_share=0.0)
    assert got["model"]["moved"] and got["route"] is not None
    assert got["pSuccess"] == pytest.approx(0.5, abs=1e-3)
    normal = answer(snapshot, replace(tight, max_fee_sat=55), NOW, weight=0.0,
                    route_share=0.0)
    assert normal["pSuccess"] == pytest.approx(0.9, abs=1e-3)


def test_a_target_out_of_reach_costs_one_search_not_two() -> None:
    """500k sat lies between the 400k and 2M search graphs; the second (a part of the first:
    fewer channels carry more) is searched only when a path on the first was dropped for a
    channel too small for the exact amount: a wallet asking about a node it cannot reach at
    all, or only over its fee budget, gets "no route" from its hub's one tree."""
    links = [(0, 1, 9_000_000), (0, 2, 9_000_000), (1, 2, 1_000_000), (2, 3, 450_000),
             (5, 1, 3_000_000), (4, 6, 9_000_000)]  # 4 and 6 only reach each other
    graph = arrays_from_graph(small_graph(7, links))
    graph.max_htlc_msat[:] = 5_000_000_000  # the default policy's 990k sat would stop 2M
    snapshot = _unscored(graph)
    below = search_amount(500_000)
    lost = snapshot.estimate(5, True, 6, (), 500_000, 5_000)
    assert lost.payer_basis == "caller" and not lost.payment.routes
    assert list(snapshot._trees) == [(1, below)]
    dear = snapshot.estimate(5, True, 2, (), 500_000, 1)  # node 1 charges 51 sat for 1 -> 2
    assert not dear.payment.routes and list(snapshot._trees) == [(1, below)]
    # a path dropped for a channel too small for the amount sends it to the next graph up
    dropped = snapshot.estimate(5, True, 3, (), 500_000, 5_000)
    assert not dropped.payment.routes  # 2 -> 3 (450k) is on the 400k graph, too small
    assert (1, 2_000_000) in snapshot._trees
