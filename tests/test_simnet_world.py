"""Unit: simnet v2's living world (clock, traffic, churn, gossip lag), vantage nodes, the
fee-limit search and the truth side channel, in process over generated graphs."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from satrank.lightning.backend import ChannelGraph, GraphEdge, GraphNode, RoutingPolicy
from satrank.simnet.generator import generate_graph
from satrank.simnet.keys import node_key, pubkey_hex
from satrank.simnet.lightning_service import GraphCache
from satrank.simnet.network import Network
from satrank.simnet.params import WorldParams
from satrank.simnet.simulator import Simulator
from satrank.simnet.truth import true_outcome
from satrank.simnet.world import GOSSIP_BATCH_S

DAY_S = 86_400.0
HOURS_6 = 6 * 3600.0
BUSY = WorldParams(payments_per_hour=300, channel_closes_per_day=0.02,
                   channel_opens_per_day=0.02, policy_changes_per_day=0.1, gossip_lag_s=600)
CHURNING = WorldParams(payments_per_hour=0, channel_closes_per_day=20,
                       channel_opens_per_day=20, gossip_lag_s=600)


def _sim(seed: int, params: WorldParams = BUSY, *, nodes: int = 300,
         vantage: int = 1) -> Simulator:
    net = Network(generate_graph(nodes, seed=3), seed, params, vantage=vantage)
    return Simulator(net, time_scale=0, seed=seed)


def test_a_day_of_world_is_deterministic_from_the_seed() -> None:
    a, b, c = _sim(5), _sim(5), _sim(6)
    for sim in (a, b, c):
        sim.world.advance(HOURS_6)
    assert np.array_equal(a.net.local1_msat, b.net.local1_msat)
    assert np.array_equal(a.net.offline, b.net.offline)
    assert a.net.chan_ids == b.net.chan_ids and a.world.stats == b.world.stats
    assert not np.array_equal(a.net.offline, c.net.offline)


def test_traffic_moves_balances_and_nodes_come_and_go() -> None:
    sim = _sim(7)
    net = sim.net
    balances, offline = net.local1_msat.copy(), net.offline.copy()
    sim.world.advance(HOURS_6)
    stats = sim.world.stats
    assert stats.payments > 1000 and 0 < stats.settled < stats.payments
    moved = net.local1_msat[:len(balances)] != balances
    assert moved.sum() > len(balances) // 10
    assert (net.offline != offline).any() and stats.node_flips > 0


def test_channel_churn_reaches_describe_graph_only_after_the_gossip_lag() -> None:
    sim = _sim(8, WorldParams.static())
    net, world = sim.net, sim.world
    cache = GraphCache(sim)
    before = {e.channel_id for e in cache.describe_graph().edges}
    world.params = CHURNING  # churn starts now
    world.advance(60)
    closed = [net.chan_ids[c] for c in np.flatnonzero(net.closed)]
    opened = {net.chan_ids[c] for c in range(len(net.chan_ids))
              if not net.private[c] and net.chan_ids[c] not in before}
    assert closed and opened
    still = {e.channel_id for e in cache.describe_graph().edges}
    assert still == before  # gossip has not caught up yet
    world.params = WorldParams.static()  # no new churn: only the gossip catches up
    world.advance(CHURNING.gossip_lag_s + GOSSIP_BATCH_S)
    after = {e.channel_id for e in cache.describe_graph().edges}
    assert not after & set(closed)
    assert opened <= after


def test_offline_is_not_read_off_the_disabled_flags() -> None:
    graph = generate_graph(3000, seed=9)
    # every channel of a third of the nodes disabled both ways, as gossip shows dead nodes
    dead = {n.pubkey for n in graph.nodes[::3]}

    def off(p: RoutingPolicy | None) -> RoutingPolicy | None:
        return None if p is None else replace(p, disabled=True)
    graph = replace(graph, edges=tuple(
        replace(e, node1_policy=off(e.node1_policy), node2_policy=off(e.node2_policy))
        if dead & {e.node1_pub, e.node2_pub} else e for e in graph.edges))
    net = Network(graph, 9, WorldParams(node_mean_down_h=48.0))
    n = net.n_graph_nodes
    touches = np.zeros(net.n_nodes, dtype=bool)
    touches[net.src[net.enabled]] = touches[net.dst[net.enabled]] = True
    dark = ~touches[:n]
    assert dark.sum() > 300
    share_dark, share_rest = net.offline[:n][dark].mean(), net.offline[:n][~dark].mean()
    assert share_rest > 0.05  # the churn process, not the flags, takes nodes down
    assert abs(share_dark - share_rest) < 0.15


def test_vantage_nodes_sit_in_different_parts_of_the_graph() -> None:
    sim = _sim(10, nodes=600, vantage=3)
    net = sim.net
    names = [v.name for v in net.vantages]
    assert names == ["oracle", "vantage-1", "vantage-2"] and set(sim.nodes) >= set(names)
    degree = np.bincount(np.concatenate([net.node1, net.node2]), minlength=net.n_nodes)

    def peer_degree(i: int) -> float:
        v = net.vantages[i]
        return float(np.mean([degree[int(net.node1[c]) + int(net.node2[c]) - v.index]
                              for c in v.channels]))
    assert [len(v.channels) for v in net.vantages] == [8, 4, 2]
    assert peer_degree(0) > peer_degree(1) > peer_degree(2)
    assert len({v.pubkey for v in net.virtual}) == 4


def _line_graph() -> tuple[ChannelGraph, dict[str, str]]:
    """H-M-T charges 500 ppm at M; H-A-B-T is free but one hop longer."""
    keys = {name: pubkey_hex(node_key(98, name)) for name in ("H", "M", "A", "B", "T")}

    def pol(ppm: int) -> RoutingPolicy:
        return RoutingPolicy(time_lock_delta=40, min_htlc_msat=1000, max_htlc_msat=0,
                             fee_base_msat=0 if ppm == 0 else 1000, fee_rate_milli_msat=ppm,
                             disabled=False, last_update=1)

    def edge(scid: int, a: str, b: str, ppm: int) -> GraphEdge:
        (n1, p1), (n2, p2) = sorted([(keys[a], pol(ppm)), (keys[b], pol(ppm))])
        return GraphEdge(channel_id=scid << 40, chan_point="", node1_pub=n1, node2_pub=n2,
                         capacity_sat=10_000_000, last_update=1, node1_policy=p1,
                         node2_policy=p2)

    edges = (edge(700_001, "H", "M", 0), edge(700_002, "M", "T", 500),
             edge(700_003, "H", "A", 0), edge(700_004, "A", "B", 0), edge(700_005, "B", "T", 0))
    nodes = tuple(GraphNode(pubkey=k, alias=n, color="#112233", addresses=(), last_update=1)
                  for n, k in sorted(keys.items(), key=lambda kv: kv[1]))
    return ChannelGraph(nodes=nodes, edges=edges), keys


def test_route_search_stays_within_the_fee_limit_as_lnd_does() -> None:
    graph, keys = _line_graph()
    net = Network(graph, 1, WorldParams.static())
    net.offline[:] = False
    net.flaky_p[:] = 0
    net.local1_msat[:] = net.capacity_msat // 2
    sim = Simulator(net, time_scale=0, seed=1)
    h, t = net.index[keys["H"]], net.index[keys["T"]]
    # the oracle pays from its own channels into H: use H as a graph payer
    cheapest = sim.finder.find_route(net.sender(h), t, 1_000_000, 40, set())
    assert cheapest is not None and cheapest.total_fees_msat == 1500  # via M: fewer hops
    within = sim.finder.find_route(net.sender(h), t, 1_000_000, 40, set(), fee_limit_msat=100)
    assert within is not None and within.total_fees_msat == 0
    assert [net.pubkeys[x.node] for x in within.hops] == [keys["A"], keys["B"], keys["T"]]
    truth = true_outcome(sim, h, t, 1_000_000, 100, 60)
    assert (truth.outcome, truth.fee_msat, truth.hops) == ("SUCCEEDED", 0, 3)
    assert true_outcome(sim, h, t, 1_000_000, None, 60).fee_msat == 1500


def test_truth_answers_without_moving_anything() -> None:
    sim = _sim(12)
    net = sim.net
    sim.world.advance(3600)
    balances, state = net.local1_msat.copy(), sim.world.rng.bit_generator.state
    answers = [true_outcome(sim, net.oracle.index, t, 2_000_000, 20_000, 60)
               for t in range(0, 300, 7)]
    assert np.array_equal(balances, net.local1_msat)
    assert sim.world.rng.bit_generator.state == state
    outcomes = {a.outcome for a in answers}
    assert "SUCCEEDED" in outcomes and len(outcomes) > 1
