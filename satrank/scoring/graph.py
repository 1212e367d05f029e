"""The channel graph as numpy arrays, and capacity-weighted PageRank over it.

Nodes are indexed 0..n-1; every open channel is one edge between two node indices with
per-direction policy columns (row 0 = node1's policy, node1 -> node2; row 1 = node2's).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

PAGERANK_DAMPING = 0.85
PAGERANK_TOLERANCE_L1 = 1e-9
PAGERANK_MAX_ITERATIONS = 1000


@dataclass(frozen=True)
class GraphArrays:
    """Open channels of the active graph; policy arrays have shape (2, n_edges)."""

    pubkeys: tuple[str, ...]
    aliases: tuple[str, ...]
    node_last_update_unix: FloatArray  # (n,), 0 = unknown
    node1: IntArray  # (E,) index of node1
    node2: IntArray
    capacity_sat: FloatArray
    block_height: IntArray  # funding block from the short channel id
    has_policy: BoolArray  # (2, E)
    disabled: BoolArray
    fee_base_msat: FloatArray
    fee_rate_ppm: FloatArray
    max_htlc_msat: FloatArray
    policy_last_update_unix: FloatArray
    # (E,) short channel ids: what probe routes and channel knowledge name channels by
    channel_id: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @property
    def n_nodes(self) -> int:
        return len(self.pubkeys)

    @property
    def n_edges(self) -> int:
        return int(self.node1.shape[0])


def directed_pairs(src: IntArray, dst: IntArray) -> tuple[IntArray, IntArray]:
    """Channel directions grouped by node pair: (order, starts), `order` the directions
    sorted by (src, dst) and `starts` the position in it of each pair's first direction.
    Parallel channels form one pair: forwarding is non-strict (a node forwards over any of
    its channels to the next peer), so lnd's pathfinding and ours reason per pair."""
    order = np.asarray(np.lexsort((dst, src)), dtype=np.int64)
    s, d = src[order], dst[order]
    first = np.ones(order.shape[0], dtype=bool)
    first[1:] = (s[1:] != s[:-1]) | (d[1:] != d[:-1])
    return order, np.flatnonzero(first)


@dataclass(frozen=True)
class PageRank:
    value: FloatArray  # sums to 1
    percentile: FloatArray  # 0..100, ties share their average rank
    iterations: int
    l1_change: float


def pagerank(graph: GraphArrays, *, damping: float = PAGERANK_DAMPING,
             tolerance_l1: float = PAGERANK_TOLERANCE_L1,
             max_iterations: int = PAGERANK_MAX_ITERATIONS) -> PageRank:
    """Power iteration of PageRank on the undirected capacity-weighted graph.

    W[i, j] = total capacity of open channels between i and j (linear, so 100x the capacity
    is 100x the weight). r' = d * (P^T r + dangling(r)/n) + (1-d)/n with P row-normalised W;
    the mass of nodes without channels is spread uniformly. Stops when ||r' - r||_1 < tol.
    """
    n = graph.n_nodes
    if n == 0:
        empty = np.zeros(0)
        return PageRank(empty, empty, 0, 0.0)
    rows = np.concatenate([graph.node1, graph.node2])
    cols = np.concatenate([graph.node2, graph.node1])
    weights = np.concatenate([graph.capacity_sat, graph.capacity_sat]).astype(np.float64)
    w = sp.csr_matrix((weights, (rows, cols)), shape=(n, n))  # duplicates are summed
    out_weight = np.asarray(w.sum(axis=1)).ravel()
    dangling = out_weight <= 0
    inv = np.zeros(n)
    inv[~dangling] = 1.0 / out_weight[~dangling]
    transition_t = (sp.diags(inv) @ w).T.tocsr()
    r = np.full(n, 1.0 / n)
    change = np.inf
    iterations = 0
    while change >= tolerance_l1 and iterations < max_iterations:
        spread = r[dangling].sum() / n
        nxt = damping * (transition_t @ r + spread) + (1.0 - damping) / n
        nxt /= nxt.sum()
        change = float(np.abs(nxt - r).sum())
        r = nxt
        iterations += 1
    return PageRank(r, percentile_of(r), iterations, change)


def percentile_of(values: FloatArray) -> FloatArray:
    """Rank percentile 0..100 (lowest 0, highest 100); equal values get the same percentile."""
    n = values.shape[0]
    if n <= 1:
        return np.full(n, 100.0)
    ranks = average_ranks(values)
    return np.asarray((ranks - 1.0) / (n - 1.0) * 100.0, dtype=np.float64)


def average_ranks(values: FloatArray) -> FloatArray:
    """1-based ranks, ties sharing their average rank (scipy's rankdata "average"; done
    here because importing scipy.stats costs every crawler process about a second)."""
    n = values.shape[0]
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    starts_group = np.empty(n, dtype=bool)
    starts_group[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=starts_group[1:])
    starts = np.flatnonzero(starts_group)
    ends = np.append(starts[1:], n)  # exclusive
    mean_rank = (starts + ends + 1) / 2.0  # mean of the 1-based ranks starts+1 .. ends
    ranks = np.empty(n, dtype=np.float64)
    ranks[order] = np.repeat(mean_rank, ends - starts)
    return ranks
