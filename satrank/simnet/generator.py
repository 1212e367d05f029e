"""A built-in generator of mainnet-like channel graphs, deterministic from a seed.

Shapes follow the 2025-10-25 mainnet snapshot (`shared/data/README.md`): preferential
attachment gives heavy-tailed degrees (a few hubs with hundreds of channels, many nodes
with one or two); capacities are log-normal around a 2 M sat median; per direction about
14 % of policies are disabled, fee rates are log-normal with a median near 71 ppm and a long
tail (p90 ~ 1,850 ppm), 39 % of base fees are 0 and most of the rest 1,000 msat, and
time_lock_delta is mostly 80, 40 or 144. About 4 % of channels carry one policy only.
"""

from __future__ import annotations

import hashlib

import numpy as np

from satrank.lightning.backend import ChannelGraph, GraphEdge, GraphNode, RoutingPolicy
from satrank.simnet.keys import node_key, pubkey_hex

SNAPSHOT_TIME = 1_761_364_800  # 2025-10-25, the newest policies of the mainnet snapshot
MEDIAN_CAPACITY_SAT = 2_000_000
_TLD_VALUES = np.array([80, 40, 144, 18, 34, 100, 200, 288])
_TLD_WEIGHTS = np.array([0.40, 0.22, 0.20, 0.05, 0.04, 0.04, 0.03, 0.02])


def _degree_sequence_edges(n: int, rng: np.random.Generator) -> list[tuple[int, int]]:
    """Preferential attachment: each newcomer opens m channels to peers chosen by degree."""
    endpoints: list[int] = [0, 1]  # one entry per channel end: sampling it is degree-weighted
    pairs: list[tuple[int, int]] = [(0, 1)]
    wanted = np.minimum(rng.geometric(0.27, size=n), 60)
    picks = rng.random(int(wanted.sum()) * 2 + 16)
    cursor = 0
    for newcomer in range(2, n):
        chosen: set[int] = set()
        for _ in range(min(int(wanted[newcomer]), newcomer)):
            # a little uniform mixing keeps small nodes reachable, as on mainnet
            if picks[cursor] < 0.1:
                peer = int(picks[cursor + 1] * newcomer)
            else:
                peer = endpoints[int(picks[cursor + 1] * len(endpoints))]
            cursor += 2
            if peer not in chosen:
                chosen.add(peer)
                pairs.append((newcomer, peer))
                endpoints += [newcomer, peer]
    return pairs


def _policies(count: int, capacity_sat: np.ndarray, rng: np.random.Generator,
              ) -> list[RoutingPolicy | None]:
    rate = np.rint(rng.lognormal(np.log(90.0), 2.4, count))
    rate[rng.random(count) < 0.10] = 0
    rate = np.minimum(rate, 50_000)
    base_draw = rng.random(count)
    base = np.where(base_draw < 0.39, 0, 1000)
    odd = base_draw > 0.90
    base[odd] = np.rint(rng.lognormal(np.log(500.0), 1.5, int(odd.sum())))
    tld = rng.choice(_TLD_VALUES, size=count, p=_TLD_WEIGHTS / _TLD_WEIGHTS.sum())
    disabled = rng.random(count) < 0.142
    min_htlc = np.where(rng.random(count) < 0.8, 1000, 1)
    missing = rng.random(count) < 0.022
    updated = SNAPSHOT_TIME - np.rint(rng.exponential(4 * 86400, count)).astype(np.int64)
    out: list[RoutingPolicy | None] = []
    for i in range(count):
        if missing[i]:
            out.append(None)
            continue
        out.append(RoutingPolicy(
            time_lock_delta=int(tld[i]), min_htlc_msat=int(min_htlc[i]),
            max_htlc_msat=int(capacity_sat[i]) * 990, fee_base_msat=int(base[i]),
            fee_rate_milli_msat=int(rate[i]), disabled=bool(disabled[i]),
            last_update=int(updated[i])))
    return out


def generate_graph(n_nodes: int, seed: int) -> ChannelGraph:
    """A connected mainnet-like graph of `n_nodes` nodes (>= 2), in lnd's sort orders."""
    if n_nodes < 2:
        raise ValueError("--generate needs at least 2 nodes")
    rng = np.random.default_rng([seed, 0x5A7])
    pubkeys = [pubkey_hex(node_key(seed, f"graph-node-{i}")) for i in range(n_nodes)]
    pairs = _degree_sequence_edges(n_nodes, rng)
    m = len(pairs)
    capacity = np.clip(np.rint(rng.lognormal(np.log(MEDIAN_CAPACITY_SAT), 1.3, m) / 1000) * 1000,
                       20_000, 500_000_000).astype(np.int64)
    blocks = np.sort(rng.integers(500_000, 920_000, m))
    txs = rng.integers(1, 3000, m)
    outs = rng.integers(0, 2, m)
    policies = _policies(2 * m, np.repeat(capacity, 2), rng)
    edges: list[GraphEdge] = []
    for i, (a, b) in enumerate(pairs):
        n1, n2 = sorted((pubkeys[a], pubkeys[b]))
        p1, p2 = policies[2 * i], policies[2 * i + 1]
        if p1 is None and p2 is None:  # the snapshot has no policy-less channels
            p2 = next(p for p in policies if p is not None)
        txid = hashlib.sha256(f"{seed}/chan/{i}".encode()).hexdigest()
        updates = [p.last_update for p in (p1, p2) if p is not None]
        edges.append(GraphEdge(
            channel_id=int(blocks[i]) << 40 | int(txs[i]) << 16 | int(outs[i]),
            chan_point=f"{txid}:{int(outs[i])}", node1_pub=n1, node2_pub=n2,
            capacity_sat=int(capacity[i]), last_update=max(updates, default=0),
            node1_policy=p1, node2_policy=p2))
    edges.sort(key=lambda e: e.channel_id)
    nodes = [GraphNode(pubkey=pk, alias=f"simnode-{i}", color=f"#{pk[2:8]}",
                       addresses=(f"203.0.{113 + i // 250 % 3}.{i % 250 + 1}:9735",),
                       last_update=SNAPSHOT_TIME - int(rng.integers(0, 14 * 86400)))
             for i, pk in enumerate(pubkeys)]
    nodes.sort(key=lambda n: n.pubkey)
    return ChannelGraph(nodes=tuple(nodes), edges=tuple(edges))
