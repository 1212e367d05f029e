"""Channel knowledge: what probes and payments showed about each channel direction.

One row per (channel, direction) that an observation touched, in the shape of lnd's
mission-control pair results but per channel: the largest amount seen to cross it and when,
and the smallest amount seen to fail there for lack of liquidity and when. A probe that
fails at hop i says "carried a" of every channel before it and "could not carry a" of the
failing channel; a probe that reaches its target says "carried a" of every channel of the
route, including the target's last hop.

`edge_bounds` lays the rows onto a `GraphArrays`' edges as decayed liquidity bounds that
`scoring.liquidity.bimodal_success` (or `uniform_success`) turns into probabilities.
Forwarding is non-strict (lnd and simnet alike): a node asked to forward over one channel
uses any of its channels to the same peer with the room, and fails only when none has it,
naming the channel it was asked for. So a failure bounds every channel of that node pair in
that direction, not only the one named; `edge_bounds` applies it to all of them. A success
says only that one of them carried the amount, and stays on the named channel (the pair's
probability, which both route models use, is then near 1 either way).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from satrank.scoring.graph import FloatArray, GraphArrays, IntArray, directed_pairs
from satrank.scoring.liquidity import LND_BIMODAL_DECAY_S, decayed_bounds


@dataclass(frozen=True)
class ChannelKnowledge:
    """Rows of knowledge; `direction` 0 is node1 -> node2 (GraphArrays' policy row 0)."""

    channel_id: IntArray
    direction: IntArray
    carried_sat: FloatArray  # largest amount seen to cross; 0 = none
    carried_unix: FloatArray  # when; ignored where carried_sat is 0
    failed_sat: FloatArray  # smallest amount seen to fail here; +inf = none
    failed_unix: FloatArray  # when; ignored where failed_sat is +inf

    def __len__(self) -> int:
        return int(self.channel_id.shape[0])


def empty_channel_knowledge() -> ChannelKnowledge:
    z = np.zeros(0)
    return ChannelKnowledge(np.zeros(0, np.int64), np.zeros(0, np.int64), z, z, z, z)


def edge_bounds(graph: GraphArrays, knowledge: ChannelKnowledge, *, now_unix: float,
                decay_s: float = LND_BIMODAL_DECAY_S) -> tuple[FloatArray, FloatArray]:
    """(lower, upper), each shape (2, E): the decayed liquidity bounds of every edge
    direction; (0, capacity) where nothing is known. Rows for channels the graph does not
    hold (closed since) are ignored."""
    cap = np.broadcast_to(graph.capacity_sat, (2, graph.n_edges))
    carried = np.zeros((2, graph.n_edges))
    carried_age = np.full((2, graph.n_edges), np.inf)
    failed = cap.copy()
    failed_age = np.full((2, graph.n_edges), np.inf)
    if len(knowledge) and graph.n_edges:
        order = np.argsort(graph.channel_id, kind="stable")
        pos = np.searchsorted(graph.channel_id[order], knowledge.channel_id)
        pos = np.minimum(pos, graph.n_edges - 1)
        edge = order[pos]
        known = (graph.channel_id[edge] == knowledge.channel_id) & \
            ((knowledge.direction == 0) | (knowledge.direction == 1))
        d, e = knowledge.direction[known], edge[known]
        has_carried = knowledge.carried_sat[known] > 0
        carried[d[has_carried], e[has_carried]] = knowledge.carried_sat[known][has_carried]
        carried_age[d[has_carried], e[has_carried]] = \
            now_unix - knowledge.carried_unix[known][has_carried]
        has_failed = np.isfinite(knowledge.failed_sat[known])
        failed[d[has_failed], e[has_failed]] = knowledge.failed_sat[known][has_failed]
        failed_age[d[has_failed], e[has_failed]] = \
            now_unix - knowledge.failed_unix[known][has_failed]
    lower, upper = decayed_bounds(cap, carried, carried_age, failed, failed_age,
                                  decay_s=decay_s)
    return lower, _pair_upper(graph, upper, failed, failed_age, decay_s)


def _pair_upper(graph: GraphArrays, upper: FloatArray, failed: FloatArray,
                failed_age: FloatArray, decay_s: float) -> FloatArray:
    """`upper` (2, E) with each failure also bounding the parallel channels of its direction
    (module docstring): every direction's upper bound is the least of its own and of what
    each failure on its node pair, decayed towards its own capacity, allows."""
    seen = np.isfinite(failed_age).reshape(-1)
    if not seen.any():
        return upper
    order, starts = directed_pairs(np.concatenate([graph.node1, graph.node2]),
                                   np.concatenate([graph.node2, graph.node1]))
    group = np.repeat(np.arange(starts.shape[0]), np.diff(np.r_[starts, order.shape[0]]))
    size = np.bincount(group)
    # only pairs with parallel channels and at least one failure on them
    has_failure = np.bincount(group, weights=seen[order].astype(float)) > 0
    keep = (size[group] > 1) & has_failure[group]
    if not keep.any():
        return upper
    members, member_group = order[keep], group[keep]
    start = np.searchsorted(member_group, member_group)  # first member of each one's pair
    count = size[member_group]
    # every (direction, failure on its pair) combination: a few per parallel pair
    this = np.repeat(members, count)
    other = members[np.repeat(start, count) + _ranks(count)]
    hit = seen[other]
    this, other = this[hit], other[hit]
    cap = np.concatenate([graph.capacity_sat] * 2)[this]
    _, bound = decayed_bounds(cap, 0.0, np.inf, failed.reshape(-1)[other],
                              failed_age.reshape(-1)[other], decay_s=decay_s)
    out = upper.reshape(-1).copy()
    np.minimum.at(out, this, bound)
    return out.reshape(upper.shape)


def _ranks(count: IntArray) -> IntArray:
    """0..k-1 for each k of `count`, concatenated."""
    ends = np.cumsum(count)
    return np.asarray(np.arange(int(ends[-1])) - np.repeat(ends - count, count), dtype=np.int64)
