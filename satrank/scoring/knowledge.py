"""Channel knowledge: what probes and payments showed about each channel direction.

One row per (channel, direction) that an observation touched, in the shape of lnd's
mission-control pair results but per channel: the largest amount seen to cross it and when,
and the smallest amount seen to fail there for lack of liquidity and when. A probe that
fails at hop i says "carried a" of every channel before it and "could not carry a" of the
failing channel; a probe that reaches its target says "carried a" of every channel of the
route, including the target's last hop.

`edge_bounds` lays the rows onto a `GraphArrays`' edges as decayed liquidity bounds that
`scoring.liquidity.bimodal_success` (or `uniform_success`) turns into probabilities.
A failure stays on the channel the probe named, though forwarding is non-strict (the
node fails only when none of its channels to the next peer has the room): spreading it
to the parallel channels was tried (2026-12-08) and the calibration bench's interval
coverage left its band in 3 of 4 worlds, 11 of 12 in the band before; a
TEMPORARY_CHANNEL_FAILURE also comes from a flaky forwarder, not only from liquidity, and
a spread failure amplifies those (bench/RESULTS.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from satrank.scoring.graph import FloatArray, GraphArrays, IntArray
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
    return decayed_bounds(cap, carried, carried_age, failed, failed_age, decay_s=decay_s)
