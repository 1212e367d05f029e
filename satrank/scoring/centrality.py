"""A centrality that follows what payments cross (the leaderboard rank blends it in).

Capacity PageRank rewards whoever opens big channels to big nodes: two 0.5 BTC channels to
the two largest hubs take a median node from the 14.5th to the 87.5th percentile (issue 15).
Capacity is bought; forwarding is done. So here a node's centrality is the traffic it was
seen to forward:

    forwarded(v) = sum over channel directions v -> x of lower(v -> x)

where lower is the decayed carried bound of `scoring.knowledge.edge_bounds`: the largest
amount a probe or payment was seen to carry over that direction, times exp(-age / decay)
(lnd's decay). A route starts at one of our vantage nodes, whose channels are private, so a
carried direction out of a graph node means it forwarded an HTLC someone else sent; a
probe's target gains nothing from being probed (its last hop is a direction *into* it).

The percentile is weighted by volume, not by head count: the share of all forwarded volume
held by nodes that forwarded less (ties count half). Most nodes forward nothing we saw and
share 0; forwarding one small HTLC is worth ~0 points, not a jump past them all: a node
climbs only by carrying a real share of what crosses the network.
"""

from __future__ import annotations

import numpy as np

from satrank.scoring.graph import FloatArray, GraphArrays
from satrank.scoring.knowledge import ChannelKnowledge, edge_bounds
from satrank.scoring.liquidity import LND_BIMODAL_DECAY_S


def forwarded_volume(graph: GraphArrays, knowledge: ChannelKnowledge, *, now_unix: float,
                     decay_s: float = LND_BIMODAL_DECAY_S) -> FloatArray:
    """Per node (graph order): decayed sat seen to leave it over its channels."""
    lower, _ = edge_bounds(graph, knowledge, now_unix=now_unix, decay_s=decay_s)
    out = np.zeros(graph.n_nodes)
    np.add.at(out, graph.node1, lower[0])  # direction 0 leaves node1
    np.add.at(out, graph.node2, lower[1])
    return out


def volume_percentile(volume: FloatArray) -> FloatArray:
    """0..100: the share of the total held by nodes with less, plus half the share of the
    node's ties (itself included); 0 for everyone when nothing was seen."""
    total = float(volume.sum())
    if volume.shape[0] == 0 or total <= 0:
        return np.zeros(volume.shape[0])
    order = np.argsort(volume, kind="stable")
    v = volume[order]
    below = np.cumsum(v) - v  # volume strictly before in sort order
    # ties: every member gets the group's first "below" plus half the group's volume
    first = np.searchsorted(v, v, side="left")
    last = np.searchsorted(v, v, side="right")
    group = np.cumsum(v)[last - 1] - below[first]
    pct = np.empty_like(volume)
    pct[order] = (below[first] + group / 2.0) / total * 100.0
    return pct


def payment_centrality_percentile(graph: GraphArrays, knowledge: ChannelKnowledge, *,
                                  now_unix: float,
                                  decay_s: float = LND_BIMODAL_DECAY_S) -> FloatArray:
    """`volume_percentile` of `forwarded_volume`: the centrality the rank blends in."""
    return volume_percentile(forwarded_volume(graph, knowledge, now_unix=now_unix,
                                              decay_s=decay_s))

