"""The reference payer the grid is about: where its payments enter the graph.

Best: our vantage nodes' own channels as their LND lists them (ListChannels). They are
often private (simnet's are; many real nodes' too), so not in the gossip graph, and only
their owner knows the local balance, so the first hop's liquidity is known exactly. The
payer's payments then enter the graph at the channels' peers, fee-free (a node charges no
fee on its own channels), at amounts some active channel to that peer can send.
Without channel lists (or none to a node in the graph): our vantage nodes where the public
graph has them. Without any vantage: a payer with channels to the REFERENCE_HUBS most
central nodes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from satrank.scoring.graph import FloatArray, GraphArrays, IntArray, PageRank

REFERENCE_HUBS = 8


@dataclass(frozen=True)
class OwnChannel:
    """One channel of a vantage node, from its own LND."""

    vantage: str  # the vantage node's pubkey
    peer: str
    capacity_sat: int
    sendable_sat: int  # the local balance less our channel reserve
    active: bool


@dataclass(frozen=True)
class ReferencePayer:
    sources: IntArray  # graph nodes the payer's payments enter the graph at
    free_sources: bool  # the sources are the payer itself: it charges itself no fee
    # per source, the largest amount one of the payer's own channels to it can send
    # (None: the sources are the payer itself, or channels assumed to carry any amount)
    first_hop_sat: FloatArray | None
    description: str  # the basis's `payer`: "vantage:<pubkeys>" or "hubs:N"


def reference_payer(graph: GraphArrays, pr: PageRank, payer_pubkeys: Sequence[str],
                    channels: Sequence[OwnChannel] = ()) -> ReferencePayer:
    index = {p: i for i, p in enumerate(graph.pubkeys)}
    known = [c for c in channels if c.peer in index]
    # An inactive channel (peer offline) carries nothing now; but when none is active (our
    # LND just restarted and peers reconnect) the channels still say where the payer will
    # pay from: scores must not drop to 0 for a pass.
    usable = [c for c in known if c.active] or known
    if usable:
        best: dict[int, float] = {}
        for c in usable:
            peer = index[c.peer]
            best[peer] = max(best.get(peer, 0.0), float(c.sendable_sat))
        peers = np.array(sorted(best), dtype=np.int64)
        vantages = sorted({c.vantage for c in channels})
        return ReferencePayer(peers, False, np.array([best[p] for p in peers.tolist()]),
                              "vantage:" + ",".join(vantages))
    own = np.array(sorted(index[p] for p in payer_pubkeys if p in index), dtype=np.int64)
    if own.size:
        return ReferencePayer(own, True, None,
                              "vantage:" + ",".join(graph.pubkeys[i] for i in own.tolist()))
    hubs = np.argsort(-pr.value, kind="stable")[:REFERENCE_HUBS].astype(np.int64)
    return ReferencePayer(hubs, False, None, f"hubs:{REFERENCE_HUBS}")
