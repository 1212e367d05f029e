"""Unit: the payer-conditioned payment model (scoring/payment.py) and the intent's answer
from it (scoring/intent.py) on small hand-made graphs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from satrank.scoring.intent import NodeScore, condition, decide, with_fresh_probe
from satrank.scoring.knowledge import ChannelKnowledge, edge_bounds, empty_channel_knowledge
from satrank.scoring.liquidity import LND_APRIORI_HOP_P, bimodal_success
from satrank.scoring.payment import (
    MAX_ATTEMPTS,
    PRIVATE_PAYER,
    HintHop,
    directed_edges,
    estimate_payment,
    first_hops,
    normal_fee_budget_sat,
    private_fee_tree,
    search_amount,
    search_graph,
    shortest_tree,
    tree_through_peers,
)
from tests.scoring_graphs import arrays_from_graph, small_graph

NOW = 1_700_000_000.0


def _estimate(links: list[tuple[int, int, int]], n: int, payer: int, target: int,
              amount: int, max_fee: float, *, knowledge: ChannelKnowledge | None = None,
              hints: tuple[tuple[HintHop, ...], ...] = ()):  # type: ignore[no-untyped-def]
    graph = arrays_from_graph(small_graph(n, links))
    lower, upper = edge_bounds(graph, knowledge or empty_channel_knowledge(), now_unix=NOW)
    edges = directed_edges(graph, lower, upper)
    search = search_graph(edges, graph.n_nodes, search_amount(amount))
    return graph, estimate_payment(edges, search, shortest_tree(search, payer), target, hints,
                                   amount, max_fee)


def test_normal_budget_is_half_a_percent_plus_five_sat() -> None:
    assert normal_fee_budget_sat(10_000) == 55
    assert normal_fee_budget_sat(1) == 6  # rounded up


def test_chain_route_fee_and_hop_probabilities() -> None:
    _, est = _estimate([(0, 1, 2_000_000), (1, 2, 1_000_000), (2, 3, 500_000)], 4, 0, 3,
                       10_000, 100)
    route = est.likeliest
    assert route is not None and route.hops == 3
    # hops 2 and 3 charge 1 sat + 100 ppm on what they forward; the payer's hop is free
    last_fee = 1 + 10_000 * 100e-6
    middle_fee = 1 + (10_000 + last_fee) * 100e-6
    assert route.fee_sat == pytest.approx(last_fee + middle_fee)
    expected = bimodal_success(np.array([10_000 + last_fee + middle_fee, 10_000 + last_fee,
                                         10_000.0]),
                               np.array([2_000_000.0, 1_000_000.0, 500_000.0]))
    assert route.hop_p == pytest.approx(tuple(expected))
    assert est.p_model == pytest.approx(math.prod(expected))


def test_a_hop_over_parallel_channels_works_when_any_of_them_has_the_room() -> None:
    """Non-strict forwarding: node 1 forwards over either of its channels to node 2 (the
    one too small for the amount counts for nothing), so the hop's p is the pair's."""
    _, est = _estimate([(0, 1, 2_000_000), (1, 2, 1_000_000), (1, 2, 500_000),
                        (1, 2, 5_000), (2, 3, 500_000)], 4, 0, 3, 10_000, 100)
    route = est.likeliest
    assert route is not None and route.hops == 3
    carried = 10_000 + 1 + 10_000 * 100e-6
    one, other = bimodal_success(carried, np.array([1_000_000.0, 500_000.0]))
    assert route.hop_p[1] == pytest.approx(1 - (1 - one) * (1 - other))
    assert route.hop_p[1] > max(one, other)


def test_retries_over_two_disjoint_last_hops() -> None:
    _, est = _estimate([(0, 1, 1_000_000), (1, 3, 400_000), (0, 2, 1_000_000),
                        (2, 3, 300_000)], 4, 0, 3, 200_000, 1_000)
    assert len(est.routes) == 2
    p1, p2 = (r.p for r in est.routes)
    assert est.p_model == pytest.approx(1 - (1 - p1) * (1 - p2))
    assert est.p_model > max(p1, p2)


def test_shared_first_hop_counts_once() -> None:
    # the payer's only channel is shared by both routes: it must not be counted twice
    _, est = _estimate([(0, 4, 300_000), (4, 1, 1_000_000), (1, 3, 1_000_000),
                        (4, 2, 1_000_000), (2, 3, 1_000_000)], 5, 0, 3, 200_000, 1_000)
    shared = est.routes[0].hop_p[0]
    rest = [r.p / r.hop_p[0] for r in est.routes]
    assert est.p_model == pytest.approx(shared * (1 - (1 - rest[0]) * (1 - rest[1])))
    assert est.p_model <= shared


def test_fee_budget_and_capacity_exclude_routes() -> None:
    links = [(0, 1, 2_000_000), (1, 2, 1_000_000)]
    _, poor = _estimate(links, 3, 0, 2, 10_000, 0.5)  # the one forwarding hop costs 2 sat
    assert poor.routes == () and poor.p_model == 0.0
    _, big = _estimate(links, 3, 0, 2, 1_500_000, 10_000)  # above the 1M channel
    assert big.p_model == 0.0


def test_knowledge_of_a_failure_lowers_p() -> None:
    links = [(0, 1, 2_000_000), (1, 2, 1_000_000)]
    graph, before = _estimate(links, 3, 0, 2, 100_000, 1_000)
    failed = ChannelKnowledge(
        channel_id=graph.channel_id[1:2], direction=np.array([0]),
        carried_sat=np.zeros(1), carried_unix=np.zeros(1),
        failed_sat=np.array([150_000.0]), failed_unix=np.array([NOW - 60]))
    _, after = _estimate(links, 3, 0, 2, 100_000, 1_000, knowledge=failed)
    assert after.p_model < before.p_model - 0.3


def test_private_payee_reachable_through_its_route_hint() -> None:
    links = [(0, 1, 2_000_000), (1, 2, 1_000_000)]
    hint = (HintHop(source=2, channel_id=123, fee_base_msat=1000, fee_rate_ppm=100),)
    _, est = _estimate(links, 3, 0, -1, 10_000, 100, hints=(hint,))
    route = est.likeliest
    assert route is not None and route.hops == 3 and route.hints == hint
    assert route.hop_p[-1] == LND_APRIORI_HOP_P
    _, without = _estimate(links, 3, 0, -1, 10_000, 100)
    assert without.p_model == 0.0


def test_at_most_max_attempts_are_tried() -> None:
    links = [(0, k, 1_000_000) for k in range(1, 6)] + [(k, 6, 1_000_000) for k in range(1, 6)]
    _, est = _estimate(links, 7, 0, 6, 10_000, 100)
    assert len(est.routes) == MAX_ATTEMPTS


SCORED = NodeScore("SAFE", 0.9, 0.8, 0.95)


def test_reference_payer_at_the_tier_gets_the_node_score() -> None:
    answer = condition(0.7, 0.7, SCORED, model_moved=False)
    assert (answer.p, answer.ci95_low, answer.ci95_high) == pytest.approx((0.9, 0.8, 0.95))
    assert decide(answer, "SAFE", expired=False)[0] == "proceed"


def test_a_worse_placed_payer_gets_less_and_a_wider_interval() -> None:
    answer = condition(0.3, 0.7, SCORED, model_moved=True)
    assert answer.p < 0.9 and answer.ci95_low < 0.8 and answer.basis == "node_score_conditioned"
    assert answer.ci95_low <= answer.p <= answer.ci95_high


def test_decisions() -> None:
    assert decide(condition(0.0, 0.7, SCORED, model_moved=True), "SAFE",
                  expired=False)[0] == "avoid"
    good = condition(0.7, 0.7, SCORED, model_moved=False)
    decision, reasons = decide(good, "SAFE", expired=True)
    assert decision == "avoid" and "expired" in reasons[0]
    assert decide(good, "RISKY", expired=False)[0] == "caution"
    unscored = condition(0.95, 0.5, NodeScore(None, None, None, None), model_moved=True)
    assert unscored.basis == "route_model_only"
    assert decide(unscored, None, expired=False)[0] == "caution"


def test_search_amount_is_the_largest_at_or_below_the_payment() -> None:
    assert search_amount(50_000) == 20_000
    assert search_amount(100_000) == 100_000
    assert search_amount(10) == 1_000  # below the smallest: the smallest
    assert search_amount(10**9) == 10_000_000


def test_a_fresh_probe_is_one_more_observation() -> None:
    reached = with_fresh_probe(SCORED, 20.0, 0.5, True)
    failed = with_fresh_probe(SCORED, 20.0, 0.5, False)
    assert failed.p_success is not None and reached.p_success is not None
    assert failed.p_success < 0.9 < reached.p_success
    assert reached.p_success == pytest.approx((0.9 * 22 + 1) / 23)
    assert with_fresh_probe(SCORED, 20.0, 0.5, None) == SCORED  # says nothing of the target
    unscored = with_fresh_probe(NodeScore(None, None, None, None), 0.0, 0.7, True)
    assert unscored.p_success == pytest.approx((0.7 * 2 + 1) / 3)
    assert unscored.ci95_low is not None and unscored.ci95_low < unscored.p_success


def test_an_unscored_interval_contains_p_even_near_one() -> None:
    answer = condition(0.999_999, 0.6, NodeScore(None, None, None, None), model_moved=True)
    assert answer.ci95_low <= answer.p <= answer.ci95_high <= 1.0


def test_a_route_over_the_budget_by_cost_falls_back_to_the_cheapest_by_fee() -> None:
    """lnd's second search: the cheapest route by cost (node 1 charges 25 sat over big
    channels) is over a 20 sat budget; the route by fee alone (node 2, 1 sat, over a
    small and so unlikely channel) fits and is what the payer tries."""
    graph = arrays_from_graph(small_graph(5, [(0, 1, 5_000_000), (1, 3, 5_000_000),
                                              (0, 2, 5_000_000), (2, 3, 15_000),
                                              (3, 4, 5_000_000)]))
    graph.fee_base_msat[0, 1] = 25_000  # 1 -> 3
    lower, upper = edge_bounds(graph, empty_channel_knowledge(), now_unix=NOW)
    edges = directed_edges(graph, lower, upper)
    search = search_graph(edges, graph.n_nodes, search_amount(10_000))
    tree = shortest_tree(search, 0)
    loose = estimate_payment(edges, search, tree, 4, (), 10_000, 100)
    assert [int(edges.dst[e]) for e in loose.routes[0].edges] == [1, 3, 4]  # cheapest by cost
    tight = estimate_payment(edges, search, tree, 4, (), 10_000, 20)
    route = tight.likeliest
    assert route is not None and [int(edges.dst[e]) for e in route.edges] == [2, 3, 4]
    assert route.fee_sat <= 20 and 0 < tight.p_model < loose.p_model


def test_a_payers_tree_from_its_peers_trees_is_its_own() -> None:
    """A wallet behind one peer, and a payer with two, get from their peers' trees the
    costs their own Dijkstra finds (and routes the estimate prices the same)."""
    links = [(0, 1, 2_000_000), (1, 2, 1_000_000), (2, 3, 500_000), (1, 3, 40_000),
             (3, 4, 900_000), (5, 1, 3_000_000), (6, 1, 1_000_000), (6, 4, 2_000_000)]
    graph = arrays_from_graph(small_graph(7, links))
    lower, upper = edge_bounds(graph, empty_channel_knowledge(), now_unix=NOW)
    edges = directed_edges(graph, lower, upper)
    search = search_graph(edges, graph.n_nodes, search_amount(20_000))
    for payer in (5, 6):  # one peer (1); two peers (1 and 4)
        hops = first_hops(search, payer)
        assert len(hops) == (1 if payer == 5 else 2)
        composed = tree_through_peers(
            payer, {v: (cost, shortest_tree(search, v)) for v, cost in hops.items()},
            graph.n_nodes)
        own = shortest_tree(search, payer)
        assert composed.dist == pytest.approx(own.dist)
        for target in range(5):
            a = estimate_payment(edges, search, composed, target, (), 20_000, 500)
            b = estimate_payment(edges, search, own, target, (), 20_000, 500)
            assert a.p_model == pytest.approx(b.p_model)
            assert [r.edges for r in a.routes] == [r.edges for r in b.routes]


def test_a_caller_with_its_own_route_moves_theta_not_the_reference_payers_route() -> None:
    """The grid says 0 for the reference payer (no route within the budget), theta 0.9: a
    caller the route model finds a route for gets theta, moved and mixed."""
    no_route_for_reference = NodeScore("SAFE", 0.0, 0.0, 0.0)
    theta = NodeScore("SAFE", 0.9, 0.8, 0.95)
    caller = condition(0.6, 0.6, no_route_for_reference, model_moved=True, weight=0.25,
                       given_route=theta, route_share=0.0)
    assert caller.p == pytest.approx(0.9) and caller.ci95_low < 0.8
    reference = condition(0.6, 0.6, no_route_for_reference, model_moved=False,
                          given_route=theta)
    assert reference.p == pytest.approx(0.0, abs=1e-3)
    own = condition(0.6, 0.6, no_route_for_reference, model_moved=True, given_route=theta,
                    route_share=1.0)
    assert own.p == pytest.approx(0.6)
    half = condition(0.6, 0.6, no_route_for_reference, model_moved=True, given_route=theta,
                     route_share=0.5)
    assert 0.6 < half.p < 0.9


def _private_world():  # type: ignore[no-untyped-def]
    """Hub 1 with a public wallet 5 behind it; 1 -> 3 -> 4 big and dear (1 charges 25 sat
    on 1 -> 3), 1 -> 2 -> 3 cheap over a small channel (2 -> 3)."""
    graph = arrays_from_graph(small_graph(6, [(0, 1, 5_000_000), (1, 3, 5_000_000),
                                              (1, 2, 5_000_000), (2, 3, 15_000),
                                              (3, 4, 5_000_000), (5, 1, 5_000_000)]))
    graph.fee_base_msat[0, 1] = 25_000  # 1 -> 3
    lower, upper = edge_bounds(graph, empty_channel_knowledge(), now_unix=NOW)
    edges = directed_edges(graph, lower, upper)
    return edges, search_graph(edges, graph.n_nodes, search_amount(10_000))


def _private_tree(search, peers):  # type: ignore[no-untyped-def]
    return tree_through_peers(PRIVATE_PAYER, {v: (0.0, shortest_tree(search, v))
                                              for v in peers}, search.matrix.shape[0])


def test_a_private_payer_pays_its_peers_forwarding_fee() -> None:
    """A wallet whose channel to hub 1 is private pays what the public wallet 5 behind the
    same hub pays (1's fee on its hop out), more than the hub pays itself (its own hop is
    free), and its routes start at the hub."""
    edges, search = _private_world()
    private = estimate_payment(edges, search, _private_tree(search, (1,)), 4, (), 10_000, 100)
    public = estimate_payment(edges, search, shortest_tree(search, 5), 4, (), 10_000, 100)
    hub = estimate_payment(edges, search, shortest_tree(search, 1), 4, (), 10_000, 100)
    route = private.likeliest
    assert route is not None and int(edges.src[route.edges[0]]) == 1
    assert [int(edges.dst[e]) for e in route.edges] == [3, 4]
    assert route.fee_sat == pytest.approx(public.routes[0].fee_sat)
    # the hub's hop out carries the payment and the fee of the hop after it
    hub_fee = hub.routes[0].fee_sat
    assert route.fee_sat == pytest.approx(
        hub_fee + edges.fee_sat(route.edges[0], 10_000 + hub_fee))
    assert edges.fee_sat(route.edges[0], 10_000) > 25
    # its own channel is its own business: the wallet's first hop is not priced
    assert private.p_model > public.p_model > 0


def test_a_budget_the_hub_fits_and_its_private_wallet_does_not() -> None:
    """At a budget below the hub's 25 sat fee: the hub itself still pays over 1 -> 3 (its
    own hop is free), its private wallet only by fee alone, over 1 -> 2 -> 3; with no
    cheap way left, the wallet has no route where the hub has one."""
    edges, search = _private_world()
    tree = _private_tree(search, (1,))
    fees = private_fee_tree(search, (1,))
    assert fees.source == PRIVATE_PAYER and fees.peers == (1,)
    hub = estimate_payment(edges, search, shortest_tree(search, 1), 4, (), 10_000, 20)
    assert [int(edges.dst[e]) for e in hub.routes[0].edges] == [3, 4]
    wallet = estimate_payment(edges, search, tree, 4, (), 10_000, 20, lambda: fees)
    route = wallet.likeliest
    assert route is not None and [int(edges.dst[e]) for e in route.edges] == [2, 3, 4]
    assert route.fee_sat <= 20 and 0 < wallet.p_model < hub.p_model
    assert estimate_payment(edges, search, tree, 4, (), 10_000, 0).p_model == 0.0
    assert estimate_payment(edges, search, shortest_tree(search, 1), 3, (), 10_000,
                            0).p_model > 0


def test_a_private_payer_reaches_its_own_peer_directly() -> None:
    edges, search = _private_world()
    direct = estimate_payment(edges, search, _private_tree(search, (1,)), 1, (), 10_000, 0)
    assert direct.p_model == 1.0 and direct.likeliest is not None
    assert direct.likeliest.hops == 0


def test_a_private_payer_with_two_peers_takes_the_better() -> None:
    """Peers 0 and 3: the target 4 is one hop from 3 (charged at 3) and the composed tree
    starts there."""
    edges, search = _private_world()
    tree = _private_tree(search, (0, 3))
    assert tree.peers == (0, 3) and tree.dist[3] == 0.0 and tree.dist[0] == 0.0
    got = estimate_payment(edges, search, tree, 4, (), 10_000, 100)
    assert got.likeliest is not None and got.likeliest.edges[0] in set(
        np.flatnonzero((edges.src == 3) & (edges.dst == 4)).tolist())


def test_a_route_the_probes_showed_too_small_is_still_a_route() -> None:
    """p_payer 0 because knowledge says no channel of the route carries the amount, but a
    route exists: the measured theta, moved down, not a hard 0; no route at all is 0."""
    theta = NodeScore("RISKY", 0.3, 0.1, 0.6)
    known_small = condition(0.0, 0.5, theta, model_moved=True, given_route=theta,
                            routed=True)
    assert known_small.basis == "node_score_conditioned" and 0 < known_small.p < 0.3
    assert condition(0.0, 0.5, theta, model_moved=True, routed=False).p == 0.0
    assert condition(0.0, 0.5, theta, model_moved=True).basis == "no_route"
    reference = condition(0.0, 0.0, theta, model_moved=False, routed=True)
    assert reference.p == pytest.approx(0.3)
