"""Fee-aware route finding over the public policies, as the sending lnd sees them.

The sender knows the gossip (policies, capacities, max_htlc, disabled flags) and its own
channel balances, never other channels' balances nor which peers are online.

Cost of using directed edge u -> v for an amount a (msat), in msat:
    fee(a) + a * time_lock_delta * 15e-9 + HOP_PENALTY_MSAT
i.e. the forwarding fee, lnd's default risk factor (15 parts per billion per block of
locked amount) and a fixed per-hop penalty standing in for lnd's attempt cost on hops of
unknown success probability (lnd's default: 100 sat per attempt). Edges are admitted only
if enabled and their capacity, max_htlc and min_htlc allow the amount; the sender's own
channels cost nothing and need enough local balance. Parallel channels between the same
pair collapse to the cheapest (forwarding is non-strict, and lnd's mission control also
tracks pairs). Costs are evaluated at the payment amount (the accumulated fees are a tiny
share of it); once a path is chosen the route's amounts, fees and expiries are computed
exactly, backwards from the destination as lnd does, and re-checked against each hop.

With a fee limit, lnd searches for a route within it rather than giving up when the
cheapest-by-cost route exceeds it: when that happens we search again weighing fees alone
(plus 1 msat a hop) and use that route if it fits. Every cache is dropped when the gossip
view changes (world.py bumps `Network.gossip_version`).

Dijkstra is scipy's (C, binary heap) over a CSR matrix built once per amount and cached;
the shortest-path tree from the sender's usable channels is cached too, so a probe's first
attempt costs a tree lookup. A retry after pruned pairs repairs that tree instead of
searching the whole graph again: pruning a pair lengthens only the paths of the nodes below
it in the tree, and of those only the ones whose old distance is under the best unchanged
entry into the target can be on a cheaper path, so a small Dijkstra over them, entered from
the unchanged rest of the tree, gives the same distance as a full search (ties may resolve
to another path of the same cost). Above _REPAIR_MAX_NODES such nodes the full search runs
over a copy of the matrix with the pruned pairs priced out.
"""

from __future__ import annotations

import heapq
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from satrank.simnet.network import Network, Sender, VirtualNode

Payer = Sender | VirtualNode

RISK_FACTOR_PER_BLOCK = 15e-9
HOP_PENALTY_MSAT = 100_000.0
MAX_HOPS = 20  # onion limit
MAX_CLTV_DELTA = 2016  # lnd's default max total time lock
BLOCK_PADDING = 3  # lnd pads the final CLTV by 3 blocks
_CACHE_SIZE = 32
_PRUNED_WEIGHT = 1e30  # far above any real path cost: a path using it counts as none
_REPAIR_MAX_NODES = 256  # above this many cut-off nodes a full search is cheaper
_NO_PRED = -9999  # scipy's predecessor of a root or an unreachable node


@dataclass(frozen=True)
class Hop:
    edge: int  # directed edge into this hop's node
    node: int
    amt_to_forward_msat: int
    fee_msat: int
    expiry: int


@dataclass(frozen=True)
class Route:
    hops: tuple[Hop, ...]
    total_amt_msat: int
    total_fees_msat: int
    total_time_lock: int


@dataclass
class _AmountGraph:
    keys: np.ndarray  # sorted src * n + dst of the admitted pairs
    edges: np.ndarray  # cheapest directed edge for each key
    weights: np.ndarray
    matrix: csr_matrix
    _incoming: csr_matrix | None = None

    @property
    def incoming(self) -> csr_matrix:
        """Row v lists the pairs into v (the transpose), built on the first repair."""
        if self._incoming is None:
            self._incoming = self.matrix.transpose().tocsr()
        return self._incoming


@dataclass
class _Tree:
    """Shortest-path tree from a set of sources (scipy's min_only arrays)."""
    dist: np.ndarray
    pred: np.ndarray
    _jumps: list[np.ndarray] | None = None

    def jumps(self) -> list[np.ndarray]:
        """Each node's 1st, 2nd, 4th, ... ancestor (index n: above the roots), up to the
        tree's depth; built on the first repair."""
        if self._jumps is None:
            n = len(self.pred)
            up = np.append(np.where(self.pred >= 0, self.pred, n), n)
            self._jumps = [up]
            while not np.all(up == n):
                up = up[up]
                self._jumps.append(up)
        return self._jumps

    def cut_off(self, pruned: set[tuple[int, int]]) -> np.ndarray:
        """Mask of the nodes whose tree path uses a pruned pair: the subtrees below the
        pruned pairs that are tree pairs (pass i reaches 2**i levels further down)."""
        n = len(self.pred)
        heads = [b for a, b in pruned if 0 <= b < n and self.pred[b] == a]
        mask = np.zeros(n + 1, dtype=bool)
        if heads:
            mask[heads] = True
            for up in self.jumps():
                mask |= mask[up]
        return mask[:n]


def _fee_msat(net: Network, edge: int, amount_msat: int) -> int:
    return int(net.fee_base[edge]) + amount_msat * int(net.fee_rate[edge]) // 1_000_000


def _search(matrix: csr_matrix, sources: tuple[int, ...]) -> _Tree:
    """scipy's Dijkstra from every source at once (min_only: one tree, nearest source)."""
    dist, pred, _ = dijkstra(matrix, directed=True, indices=list(sources),
                             return_predecessors=True, min_only=True)
    return _Tree(dist=dist, pred=pred)


class RouteFinder:
    def __init__(self, net: Network) -> None:
        self.net = net
        self._graphs: OrderedDict[tuple[int, bool], _AmountGraph] = OrderedDict()
        self._trees: OrderedDict[tuple[int, bool, tuple[int, ...]], _Tree] = OrderedDict()
        self._virtual = np.zeros(net.n_nodes, dtype=bool)
        # our nodes forward nothing unless their channels are announced
        self._virtual[[v.index for v in net.virtual if not net.announce_own]] = True
        self._version = net.gossip_version

    def _fresh(self) -> None:
        if self._version != self.net.gossip_version:
            self._graphs.clear()
            self._trees.clear()
            self._version = self.net.gossip_version

    def _amount_graph(self, amount_msat: int, fee_only: bool = False) -> _AmountGraph:
        self._fresh()
        cached = self._graphs.get((amount_msat, fee_only))
        if cached is not None:
            self._graphs.move_to_end((amount_msat, fee_only))
            return cached
        net = self.net
        ok = (net.enabled & (net.max_htlc >= amount_msat) & (net.min_htlc <= amount_msat)
              & (np.repeat(net.capacity_msat, 2) >= amount_msat) & ~self._virtual[net.src])
        idx = np.flatnonzero(ok)
        weight = net.fee_base[idx] + amount_msat * net.fee_rate[idx].astype(np.float64) / 1e6
        weight += 1.0 if fee_only else (amount_msat * net.tld[idx] * RISK_FACTOR_PER_BLOCK
                                        + HOP_PENALTY_MSAT)
        n = net.n_nodes
        key = net.src[idx] * n + net.dst[idx]
        order = np.lexsort((weight, key))
        key, idx, weight = key[order], idx[order], weight[order]
        first = np.ones(len(key), dtype=bool)
        first[1:] = key[1:] != key[:-1]
        key, idx, weight = key[first], idx[first], weight[first]
        graph = _AmountGraph(keys=key, edges=idx, weights=weight,
                             matrix=self._matrix(key, weight, np.ones(len(key), dtype=bool)))
        self._graphs[(amount_msat, fee_only)] = graph
        if len(self._graphs) > _CACHE_SIZE:
            self._graphs.popitem(last=False)
        return graph

    def _matrix(self, key: np.ndarray, weight: np.ndarray, keep: np.ndarray) -> csr_matrix:
        n = self.net.n_nodes
        rows, cols = np.divmod(key[keep], n)  # keys are sorted, so rows are already in order
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
        return csr_matrix((weight[keep], cols, indptr), shape=(n, n))

    def _first_hops(self, sender: Payer, amount_msat: int,
                    pruned: set[tuple[int, int]]) -> dict[int, int]:
        """peer -> own directed edge usable for `amount_msat` (lnd knows its local balance)."""
        net = self.net
        out: dict[int, int] = {}
        for c in sender.channels:
            edge = net.edge_of(c, sender.index)
            peer = int(net.dst[edge])
            if (peer in out or (sender.index, peer) in pruned or net.offline[peer]
                    or net.closed[c] or net.spendable_msat(edge) < amount_msat):
                continue
            out[peer] = edge
        return out

    def find_route(self, sender: Payer, dest: int, amount_msat: int, final_cltv: int,
                   pruned: set[tuple[int, int]], fee_limit_msat: int | None = None,
                   ) -> Route | None:
        """The cheapest route from `sender` to `dest` avoiding `pruned` pairs, or None; with
        `fee_limit_msat`, one within the limit if the fee-only search finds one."""
        route = self._search(sender, dest, amount_msat, final_cltv, pruned, False)
        if route is None or fee_limit_msat is None or route.total_fees_msat <= fee_limit_msat:
            return route
        cheaper = self._search(sender, dest, amount_msat, final_cltv, pruned, True)
        if cheaper is not None and cheaper.total_fees_msat <= fee_limit_msat:
            return cheaper
        return route

    def _search(self, sender: Payer, dest: int, amount_msat: int, final_cltv: int,
                pruned: set[tuple[int, int]], fee_only: bool) -> Route | None:
        for _ in range(MAX_HOPS):  # each pass drops one pair that fails the exact re-check
            first = self._first_hops(sender, amount_msat, pruned)
            if not first:
                return None
            path = self._node_path(first, dest, amount_msat, pruned, fee_only)
            if path is None:
                return None
            route, bad_pair = self._build(sender, first[path[0]], path, amount_msat, final_cltv,
                                          fee_only)
            if route is not None:
                return route
            if bad_pair is None:
                return None
            pruned = pruned | {bad_pair}
        return None

    def _node_path(self, first: dict[int, int], dest: int, amount_msat: int,
                   pruned: set[tuple[int, int]], fee_only: bool) -> list[int] | None:
        if dest in first:
            return [dest]
        graph = self._amount_graph(amount_msat, fee_only)
        sources = tuple(sorted(first))
        tree = self._tree(graph, amount_msat, fee_only, sources)
        graph_pruned = {p for p in pruned if not self._virtual[p[0]]}
        if graph_pruned:
            cut = tree.cut_off(graph_pruned)
            if cut[dest]:
                return self._repaired_path(graph, tree, sources, dest, graph_pruned, cut)
        return self._tree_path(tree, dest, {})

    def _tree(self, graph: _AmountGraph, amount_msat: int, fee_only: bool,
              sources: tuple[int, ...]) -> _Tree:
        key = (amount_msat, fee_only, sources)
        cached = self._trees.get(key)
        if cached is None:
            cached = self._trees[key] = _search(graph.matrix, sources)
            if len(self._trees) > _CACHE_SIZE:
                self._trees.popitem(last=False)
        return cached

    def _full_search(self, graph: _AmountGraph, sources: tuple[int, ...], dest: int,
                     pruned: set[tuple[int, int]]) -> list[int] | None:
        n = self.net.n_nodes
        wanted = np.array([a * n + b for a, b in pruned], dtype=np.int64)
        pos = np.searchsorted(graph.keys, wanted)
        pos = pos[(pos < len(graph.keys)) & (graph.keys[np.minimum(pos, len(graph.keys) - 1)]
                                             == wanted)]
        matrix = graph.matrix.copy()
        matrix.data[pos] = _PRUNED_WEIGHT  # keys and CSR entries share one order
        return self._tree_path(_search(matrix, sources), dest, {})

    def _repaired_path(self, graph: _AmountGraph, tree: _Tree, sources: tuple[int, ...],
                       dest: int, pruned: set[tuple[int, int]],
                       cut: np.ndarray) -> list[int] | None:
        """The cheapest path to `dest`, whose tree path uses a pruned pair.

        Pruning only lengthens paths, so a node whose tree path avoids every pruned pair
        keeps its distance; the others (`cut`: the subtrees below pruned tree pairs) need a
        search. `bound`, the best entry into `dest` straight from the unchanged part, caps
        it: a cut-off node whose old distance is already >= bound cannot lie on a cheaper
        path. So a Dijkstra over the cut-off nodes below the bound, each entered from the
        unchanged part, gives the same distance as a full search; above
        _REPAIR_MAX_NODES such nodes the full search is cheaper."""
        inc = graph.incoming
        lo, hi = inc.indptr[dest], inc.indptr[dest + 1]
        into = [(u, w) for u, w in zip(inc.indices[lo:hi].tolist(), inc.data[lo:hi].tolist(),
                                       strict=True) if (u, dest) not in pruned]
        if not into:
            return None  # every pair into dest is pruned: no path at all
        bound = min((float(tree.dist[u]) + w for u, w in into if not cut[u]), default=np.inf)
        below = cut & (tree.dist < bound)
        below[dest] = True
        if np.count_nonzero(below) > _REPAIR_MAX_NODES:
            return self._full_search(graph, sources, dest, pruned)
        region = set(np.flatnonzero(below).tolist())
        dist: dict[int, float] = {}
        pred: dict[int, int] = {}
        for v in region:
            lo, hi = inc.indptr[v], inc.indptr[v + 1]
            for u, w in zip(inc.indices[lo:hi].tolist(), inc.data[lo:hi].tolist(),
                            strict=True):
                if cut[u] or (u, v) in pruned:
                    continue
                d = float(tree.dist[u]) + w
                if d < dist.get(v, np.inf):
                    dist[v], pred[v] = d, u
        heap = [(d, v) for v, d in dist.items()]
        heapq.heapify(heap)
        done: set[int] = set()
        out = graph.matrix
        while heap:
            d, u = heapq.heappop(heap)
            if u in done:
                continue
            done.add(u)
            if u == dest:
                break
            lo, hi = out.indptr[u], out.indptr[u + 1]
            for v, w in zip(out.indices[lo:hi].tolist(), out.data[lo:hi].tolist(), strict=True):
                if v in region and v not in done and (u, v) not in pruned and d + w < dist.get(
                        v, np.inf):
                    dist[v], pred[v] = d + w, u
                    heapq.heappush(heap, (d + w, v))
        if dest not in done:
            return None
        return self._tree_path(tree, dest, pred)

    def _tree_path(self, tree: _Tree, dest: int, repaired: dict[int, int]) -> list[int] | None:
        """Walk predecessors back to a source (`repaired` overrides the tree's)."""
        if dest not in repaired and not tree.dist[dest] < _PRUNED_WEIGHT:
            return None
        path = [dest]
        while True:
            prev = repaired.get(path[-1])
            if prev is None:
                prev = int(tree.pred[path[-1]])
            if prev == _NO_PRED:
                return path[::-1]
            path.append(prev)
            if len(path) > MAX_HOPS:
                return None

    def _edge(self, a: int, b: int, amount_msat: int, fee_only: bool) -> int:
        graph = self._amount_graph(amount_msat, fee_only)
        pos = int(np.searchsorted(graph.keys, a * self.net.n_nodes + b))
        return int(graph.edges[pos])

    def _build(self, sender: Payer, first_edge: int, path: list[int], amount_msat: int,
               final_cltv: int, fee_only: bool) -> tuple[Route | None, tuple[int, int] | None]:
        """Exact amounts/fees/expiries backwards from the destination; or the pair that fails."""
        net = self.net
        edges = [first_edge] + [self._edge(a, b, amount_msat, fee_only)
                                for a, b in zip(path, path[1:], strict=False)]
        n = len(path)
        amt = [0] * n
        fee = [0] * n
        expiry = [0] * n
        amt[-1] = amount_msat
        expiry[-1] = net.block_height + final_cltv + BLOCK_PADDING
        for k in range(n - 2, -1, -1):
            out_edge = edges[k + 1]  # hop k forwards over the channel into hop k+1
            amt[k] = amt[k + 1] + fee[k + 1]
            fee[k] = _fee_msat(net, out_edge, amt[k])
            expiry[k] = expiry[k + 1] + (int(net.tld[edges[k + 2]]) if k + 2 < n else 0)
            if not (net.min_htlc[out_edge] <= amt[k] <= net.max_htlc[out_edge]):
                return None, (path[k], path[k + 1])
        total_amt = amt[0] + fee[0]
        total_lock = expiry[0] + (int(net.tld[edges[1]]) if n > 1 else 0)
        if net.spendable_msat(first_edge) < total_amt:
            return None, (sender.index, path[0])
        if total_lock - net.block_height > MAX_CLTV_DELTA:
            return None, None
        hops = tuple(Hop(edge=edges[k], node=path[k], amt_to_forward_msat=amt[k], fee_msat=fee[k],
                         expiry=expiry[k]) for k in range(n))
        return Route(hops=hops, total_amt_msat=total_amt, total_fees_msat=total_amt - amount_msat,
                     total_time_lock=total_lock), None
