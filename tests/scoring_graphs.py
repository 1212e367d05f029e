"""Test helper: turn a `ChannelGraph` (as simnet or a file gives it) into scoring arrays,
and build small graphs by hand."""

from __future__ import annotations

import numpy as np

from satrank.lightning.backend import ChannelGraph, GraphEdge, GraphNode, RoutingPolicy
from satrank.scoring.graph import GraphArrays


def arrays_from_graph(graph: ChannelGraph) -> GraphArrays:
    pubkeys = tuple(n.pubkey for n in graph.nodes)
    index = {p: i for i, p in enumerate(pubkeys)}
    edges = [e for e in graph.edges if e.node1_pub in index and e.node2_pub in index]
    e = len(edges)
    pol = np.zeros((2, e, 6))
    has = np.zeros((2, e), dtype=bool)
    for j, edge in enumerate(edges):
        for d, p in enumerate((edge.node1_policy, edge.node2_policy)):
            if p is not None:
                has[d, j] = True
                pol[d, j] = (p.disabled, p.fee_base_msat, p.fee_rate_milli_msat,
                             p.max_htlc_msat, p.last_update, 0)
    return GraphArrays(
        pubkeys=pubkeys,
        aliases=tuple(n.alias for n in graph.nodes),
        node_last_update_unix=np.array([n.last_update for n in graph.nodes], dtype=float),
        node1=np.array([index[x.node1_pub] for x in edges], dtype=np.int64),
        node2=np.array([index[x.node2_pub] for x in edges], dtype=np.int64),
        capacity_sat=np.array([x.capacity_sat for x in edges], dtype=float),
        block_height=np.array([x.channel_id >> 40 for x in edges], dtype=np.int64),
        has_policy=has,
        disabled=pol[:, :, 0].astype(bool) & has,
        fee_base_msat=pol[:, :, 1],
        fee_rate_ppm=pol[:, :, 2],
        max_htlc_msat=pol[:, :, 3],
        policy_last_update_unix=pol[:, :, 4],
        channel_id=np.array([x.channel_id for x in edges], dtype=np.int64),
    )


def pubkey(i: int) -> str:
    return "02" + f"{i:064x}"


def policy(*, fee_rate: int = 100, disabled: bool = False, last_update: int = 1_700_000_000,
           fee_base: int = 1000) -> RoutingPolicy:
    return RoutingPolicy(time_lock_delta=40, min_htlc_msat=1000, max_htlc_msat=990_000_000,
                         fee_base_msat=fee_base, fee_rate_milli_msat=fee_rate,
                         disabled=disabled, last_update=last_update)


def small_graph(n_nodes: int, links: list[tuple[int, int, int]], *, block: int = 800_000
                ) -> ChannelGraph:
    """Nodes 0..n-1 and channels (a, b, capacity_sat) with default policies both ways."""
    nodes = tuple(GraphNode(pubkey(i), f"node{i}", "#000000", (), 1_700_000_000)
                  for i in range(n_nodes))
    edges = []
    for k, (a, b, cap) in enumerate(links):
        lo, hi = sorted((a, b))
        edges.append(GraphEdge(channel_id=((block + k) << 40) | (k << 16) | 1,
                               chan_point=f"{k:064x}:0", node1_pub=pubkey(lo),
                               node2_pub=pubkey(hi), capacity_sat=cap,
                               last_update=1_700_000_000, node1_policy=policy(),
                               node2_policy=policy()))
    return ChannelGraph(nodes=nodes, edges=tuple(edges))
