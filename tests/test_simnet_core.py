"""Unit: simnet's pure core (graph state, routing, HTLC failures, generator, BOLT11)."""

from __future__ import annotations

import asyncio
import hashlib
import heapq
import os

import bolt11 as third_party_bolt11
import numpy as np
import pytest

from satrank.lightning import bolt11
from satrank.lightning.backend import ChannelGraph, GraphEdge, GraphNode, RoutingPolicy
from satrank.simnet import pathfinding
from satrank.simnet.forwarding import send_htlc
from satrank.simnet.generator import generate_graph
from satrank.simnet.keys import node_key, pubkey_hex
from satrank.simnet.network import Network
from satrank.simnet.payments import PaymentSpec
from satrank.simnet.simulator import Simulator

CAP_SAT = 10_000_000


def _policy(rate_ppm: int, *, disabled: bool = False) -> RoutingPolicy:
    return RoutingPolicy(time_lock_delta=40, min_htlc_msat=1000, max_htlc_msat=0,
                         fee_base_msat=1000, fee_rate_milli_msat=rate_ppm, disabled=disabled,
                         last_update=1)


def _diamond() -> tuple[ChannelGraph, dict[str, str]]:
    """H - M1 - T and H - M2 - T; M1 charges 500 ppm into T, M2 10 ppm; T forwards nothing."""
    keys = {name: pubkey_hex(node_key(99, name)) for name in ("H", "M1", "M2", "T")}

    def edge(scid: int, a: str, b: str, pa: RoutingPolicy, pb: RoutingPolicy) -> GraphEdge:
        (n1, p1), (n2, p2) = sorted([(keys[a], pa), (keys[b], pb)], key=lambda x: x[0])
        return GraphEdge(channel_id=scid << 40, chan_point="", node1_pub=n1, node2_pub=n2,
                         capacity_sat=CAP_SAT, last_update=1, node1_policy=p1, node2_policy=p2)

    edges = (edge(700_001, "H", "M1", _policy(1), _policy(1)),
             edge(700_002, "H", "M2", _policy(1), _policy(1)),
             edge(700_003, "M1", "T", _policy(500), _policy(1, disabled=True)),
             edge(700_004, "M2", "T", _policy(10), _policy(1, disabled=True)))
    nodes = tuple(GraphNode(pubkey=k, alias=n, color="", addresses=(), last_update=1)
                  for n, k in sorted(keys.items(), key=lambda kv: kv[1]))
    return ChannelGraph(nodes=nodes, edges=edges), keys


def _calm(net: Network) -> None:
    """Everyone online and reliable, every channel balanced: the test sets what it needs."""
    net.offline[:] = False
    net.flaky_p[:] = 0.0
    public = ~net.private
    net.local1_msat[public] = net.capacity_msat[public] // 2


def _channel(net: Network, a: int, b: int) -> int:
    return next(c for c in range(len(net.chan_ids))
                if {int(net.node1[c]), int(net.node2[c])} == {a, b})


@pytest.fixture
def diamond() -> tuple[Network, dict[str, int]]:
    graph, keys = _diamond()
    net = Network(graph, seed=1)
    _calm(net)
    return net, {name: net.index[k] for name, k in keys.items()}


def test_route_is_the_cheapest_feasible_one(diamond: tuple[Network, dict[str, int]]) -> None:
    net, ix = diamond
    sim = Simulator(net, time_scale=0, seed=1)
    route = sim.finder.find_route(net.oracle, ix["T"], 1_000_000, 18, set())
    assert route is not None
    assert [h.node for h in route.hops] == [ix["M2"], ix["T"]]
    assert route.total_fees_msat == 1000 + 1_000_000 * 10 // 1_000_000
    assert route.hops[0].amt_to_forward_msat == 1_000_000
    assert route.total_time_lock == route.hops[-1].expiry + 40
    # an amount above every channel's capacity has no route at all
    assert sim.finder.find_route(net.oracle, ix["T"], (CAP_SAT + 1) * 1000, 18, set()) is None


def test_depleted_hop_fails_with_temporary_channel_failure_from_upstream(
        diamond: tuple[Network, dict[str, int]]) -> None:
    net, ix = diamond
    sim = Simulator(net, time_scale=0, seed=1)
    c = _channel(net, ix["M2"], ix["T"])
    net.local1_msat[c] = 0 if int(net.node1[c]) == ix["M2"] else net.capacity_msat[c]
    route = sim.finder.find_route(net.oracle, ix["T"], 1_000_000, 18, set())
    assert route is not None
    outcome = send_htlc(net, route, os.urandom(32), None, None, 0, np.random.default_rng(0))
    assert outcome.failure is not None
    assert outcome.failure.code == "TEMPORARY_CHANNEL_FAILURE"
    assert outcome.failure.source_index == 1  # hops[0] = M2 reported it
    assert outcome.failure.pair == (ix["M2"], ix["T"])

    async def probe() -> None:
        router = sim.nodes["oracle"].router
        payment = router.start(PaymentSpec(
            dest=ix["T"], amount_msat=1_000_000, payment_hash=os.urandom(32), payment_addr=None,
            final_cltv=18, fee_limit_msat=1_000_000, timeout_s=60))
        await payment.done.wait()
        assert payment.failure_reason == "FAILURE_REASON_INCORRECT_PAYMENT_DETAILS"
        first, last = payment.attempts
        assert first.failure is not None and first.failure.source_index == 1
        assert last.failure is not None and last.failure.source_index == len(last.route.hops)
        assert last.route.hops[0].node == ix["M1"]  # retried around the pruned pair

    asyncio.run(probe())


def test_offline_next_peer_is_unknown_next_peer(diamond: tuple[Network, dict[str, int]]) -> None:
    net, ix = diamond
    sim = Simulator(net, time_scale=0, seed=1)
    route = sim.finder.find_route(net.oracle, ix["T"], 1_000_000, 18, set())
    assert route is not None
    net.offline[ix["T"]] = True
    outcome = send_htlc(net, route, os.urandom(32), None, None, 0, np.random.default_rng(0))
    assert outcome.failure is not None
    assert (outcome.failure.code, outcome.failure.source_index) == ("UNKNOWN_NEXT_PEER", 1)


def test_customer_payment_settles_and_moves_balances() -> None:
    net = Network(generate_graph(200, seed=4), seed=4)
    sim = Simulator(net, time_scale=0, seed=4)
    oracle, customer = sim.nodes["oracle"], sim.nodes["customer"]
    invoice = sim.add_invoice(oracle, value_msat=5_000_000, memo="m", expiry_s=600,
                              preimage=None, description_hash=None, cltv_expiry=0)
    before = int(net.local1_msat.sum())
    spendable = {c: net.spendable_msat(net.edge_of(c, customer.node.index))
                 for c in customer.node.channels}

    async def pay() -> None:
        payment = customer.router.start(PaymentSpec(
            dest=oracle.node.index, amount_msat=5_000_000, payment_hash=invoice.r_hash,
            payment_addr=invoice.payment_addr, final_cltv=80, fee_limit_msat=1_000_000,
            timeout_s=60, hinted=True))
        await payment.done.wait()
        assert payment.status == "SUCCEEDED", payment.failure_reason
        assert payment.preimage == invoice.r_preimage
        route = payment.attempts[-1].route
        first = route.hops[0].edge // 2
        assert (spendable[first] - net.spendable_msat(net.edge_of(first, customer.node.index))
                == route.total_amt_msat)

    asyncio.run(pay())
    settled = oracle.invoices.lookup(invoice.r_hash)
    assert settled is not None and settled.state.name == "SETTLED"
    assert settled.amt_paid_msat == 5_000_000
    assert int(net.local1_msat.sum()) != before


def test_hidden_state_is_deterministic_from_the_seed() -> None:
    graph = generate_graph(300, seed=11)
    a, b, c = Network(graph, 5), Network(graph, 5), Network(graph, 6)
    assert np.array_equal(a.local1_msat, b.local1_msat)
    assert np.array_equal(a.offline, b.offline) and np.array_equal(a.flaky_p, b.flaky_p)
    assert a.oracle.pubkey == b.oracle.pubkey != c.oracle.pubkey
    assert not np.array_equal(a.local1_msat, c.local1_msat)
    assert generate_graph(300, seed=11) == graph


def test_generated_graph_looks_like_mainnet() -> None:
    graph = generate_graph(2000, seed=3)
    caps = np.array([e.capacity_sat for e in graph.edges])
    policies = [p for e in graph.edges for p in (e.node1_policy, e.node2_policy) if p]
    degree: dict[str, int] = {}
    for e in graph.edges:
        for pk in (e.node1_pub, e.node2_pub):
            degree[pk] = degree.get(pk, 0) + 1
    degrees = np.array(list(degree.values()))
    assert len(degree) == 2000 and 3.0 < len(graph.edges) / 2000 < 4.5
    assert degrees.max() > 15 * np.median(degrees)  # hubs: heavy-tailed degrees
    assert 1_500_000 < np.median(caps) < 2_700_000
    assert 0.11 < np.mean([p.disabled for p in policies]) < 0.17
    assert 0.34 < np.mean([p.fee_base_msat == 0 for p in policies]) < 0.44
    rates = np.array([p.fee_rate_milli_msat for p in policies])
    assert 40 < np.median(rates) < 120 and np.percentile(rates, 90) > 800
    tlds = [p.time_lock_delta for p in policies]
    assert max(set(tlds), key=tlds.count) == 80
    assert [n.pubkey for n in graph.nodes] == sorted(n.pubkey for n in graph.nodes)


@pytest.mark.parametrize("amount_msat", [0, 1, 10, 2_100_000, 150_000_000, 100_000_000_000],
                         ids=["any", "1msat", "10msat", "2100sat", "1.5mBTC", "1BTC"])
def test_bolt11_decodes_with_an_independent_decoder(amount_msat: int) -> None:
    key = node_key(1, "oracle")
    request = bolt11.PaymentRequest(
        network="bc", amount_msat=amount_msat, timestamp=1_761_364_800,
        payment_hash=hashlib.sha256(b"p").digest(), payment_secret=os.urandom(32),
        description="satrank ✓", description_hash=None, expiry_s=600, min_final_cltv=80,
        route_hints=((bolt11.HopHint(node_id=bytes.fromhex(pubkey_hex(node_key(1, "hub"))),
                                     chan_id=800_000 << 40 | 5 << 16, fee_base_msat=1000,
                                     fee_proportional_millionths=100,
                                     cltv_expiry_delta=40),),),
        features=bolt11.LND_INVOICE_FEATURES)
    text = bolt11.encode(request, key)
    theirs = third_party_bolt11.decode(text)
    assert theirs.payee == pubkey_hex(key)
    assert (theirs.amount_msat or 0) == amount_msat
    assert theirs.payment_hash == request.payment_hash.hex()
    assert theirs.payment_secret == request.payment_secret.hex()  # type: ignore[union-attr]
    assert theirs.description == "satrank ✓"
    assert theirs.expiry == 600 and theirs.min_final_cltv_expiry == 80
    ours = bolt11.decode(text)
    assert ours.payee == key.public_key.format()
    assert ours.route_hints == request.route_hints and ours.amount_msat == amount_msat


def test_bolt11_rejects_a_tampered_invoice() -> None:
    text = bolt11.encode(bolt11.PaymentRequest(
        network="bc", amount_msat=1000, timestamp=1, payment_hash=bytes(32),
        payment_secret=None, description="x", description_hash=None, expiry_s=3600,
        min_final_cltv=18), node_key(1, "k"))
    flipped = text[:-10] + ("q" if text[-10] != "q" else "p") + text[-9:]
    with pytest.raises(bolt11.InvalidPaymentRequest):
        bolt11.decode(flipped)


def _reference_cost(adj: dict[int, list[tuple[int, float]]], sources: list[int], dest: int,
                    pruned: set[tuple[int, int]]) -> float | None:
    """Textbook Dijkstra over the same pair costs, pruned pairs removed."""
    dist = {s: 0.0 for s in sources}
    heap = [(0.0, s) for s in sources]
    while heap:
        d, u = heapq.heappop(heap)
        if u == dest:
            return d
        if d > dist[u]:
            continue
        for v, w in adj.get(u, []):
            if (u, v) not in pruned and d + w < dist.get(v, float("inf")):
                dist[v] = d + w
                heapq.heappush(heap, (d + w, v))
    return None


@pytest.mark.parametrize("repair_max_nodes", [None, 0])
def test_retries_after_pruned_pairs_find_the_cheapest_remaining_route(
        repair_max_nodes: int | None, monkeypatch: pytest.MonkeyPatch) -> None:
    """As a probe retries: prune a pair of each route found (near the target or near us)
    and check every new route avoids the pruned pairs and costs what a search from scratch
    finds; once with the cached tree repaired, once with every retry a full search."""
    if repair_max_nodes is not None:
        monkeypatch.setattr(pathfinding, "_REPAIR_MAX_NODES", repair_max_nodes)
    net = Network(generate_graph(1500, seed=4), seed=2)
    _calm(net)
    sim = Simulator(net, time_scale=0, seed=1)
    finder, amount, n = sim.finder, 50_000_000, net.n_nodes
    graph = finder._amount_graph(amount)
    adj: dict[int, list[tuple[int, float]]] = {}
    for key, w in zip(graph.keys.tolist(), graph.weights.tolist(), strict=True):
        adj.setdefault(key // n, []).append((key % n, w))
    rng = np.random.default_rng(5)
    checked = 0
    for dest in rng.choice(net.n_graph_nodes, size=60, replace=False).tolist():
        pruned: set[tuple[int, int]] = set()
        for _ in range(6):
            route = finder.find_route(net.oracle, int(dest), amount, 18, pruned)
            first = finder._first_hops(net.oracle, amount, pruned)
            want = _reference_cost(adj, list(first), int(dest), pruned)
            if route is None:
                assert want is None
                break
            nodes = [net.oracle.index] + [h.node for h in route.hops]
            pairs = list(zip(nodes, nodes[1:], strict=False))
            assert not set(pairs) & pruned
            assert want is not None
            got = sum(w for a, b in pairs[1:] for v, w in adj[a] if v == b)
            assert got == pytest.approx(want, rel=1e-12, abs=1e-6)
            checked += 1
            if len(pairs) < 2:
                break
            pruned.add(pairs[-1] if rng.random() < 0.6 else pairs[1])
    assert checked > 150
