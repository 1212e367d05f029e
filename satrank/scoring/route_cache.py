"""The payer's route searches (`reach.payer_routes`), kept in process for the last graph.

They depend on the graph's channels and policies, the payer and the budgets, not on
probes, reports or channel knowledge; the long-running crawler rescores after every probe
round (once a minute) on a graph that changes once per sync (every 10 minutes), so most
passes can reuse them. The key is a digest of exactly what the searches read, so a
changed graph can never be served stale searches, whatever path changed it; computing it
costs a few milliseconds on mainnet. One entry: a new graph replaces the old one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from satrank.scoring.budgets import FeeBudget
from satrank.scoring.graph import FloatArray, GraphArrays, IntArray
from satrank.scoring.reach import PayerRoutes, payer_routes


def routes_key(graph: GraphArrays, sources: IntArray, free_sources: bool,
               amounts_sat: Sequence[float], budgets: Sequence[FeeBudget],
               first_hop_sat: FloatArray | None = None) -> bytes:
    digest = hashlib.blake2b(repr((graph.n_nodes, free_sources, tuple(amounts_sat),
                                   tuple(budgets))).encode(), digest_size=32)
    for a in (graph.node1, graph.node2, graph.capacity_sat, graph.fee_base_msat,
              graph.fee_rate_ppm, graph.max_htlc_msat, graph.has_policy, graph.disabled,
              sources, np.zeros(0) if first_hop_sat is None else first_hop_sat):
        arr = np.ascontiguousarray(a)
        digest.update(f"{arr.dtype.str}{arr.shape}".encode())
        digest.update(arr.data)
    return digest.digest()


class RouteCache:
    def __init__(self) -> None:
        self._key: bytes | None = None
        self._routes: PayerRoutes | None = None
        self.searches = 0  # how many times the routes were computed, not reused

    def routes(self, graph: GraphArrays, sources: IntArray, *, free_sources: bool,
               amounts_sat: Sequence[float], budgets: Sequence[FeeBudget],
               first_hop_sat: FloatArray | None = None) -> PayerRoutes:
        key = routes_key(graph, sources, free_sources, amounts_sat, budgets, first_hop_sat)
        if self._routes is None or key != self._key:
            self._routes = payer_routes(graph, sources, free_sources=free_sources,
                                        amounts_sat=amounts_sat, budgets=budgets,
                                        first_hop_sat=first_hop_sat)
            self._key = key
            self.searches += 1
        return self._routes


ROUTES = RouteCache()  # the process's cache, used by `engine.score_nodes`
