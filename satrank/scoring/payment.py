"""One payment from one payer: the routes it would try and the probability that one works.

The model behind POST /api/intent (docs/intent.md), conditioned on the payer:

- Search. lnd picks a route by a cost that adds fees and a penalty for unlikely hops
  (`attempt cost / p`). Here each directed edge costs `fee + attempt_cost * -ln p`, so the
  cost of a route is additive and Dijkstra (scipy, C) finds it; -ln p is lnd's
  `1/p - 1` to first order for likely hops and punishes unlikely ones harder. Searches run
  on a few fixed amounts (`SEARCH_AMOUNTS_SAT`): a payment is searched at the largest one
  at or below its amount (every channel that could carry it is in that graph); the routes
  found are then priced and scored at the exact amount, dropping any with a channel too
  small for it.
- Hops. p of a hop is lnd's bimodal estimate (`liquidity.bimodal_success`) at the amount
  the hop carries (the payment plus the fees of the hops after it), within the decayed
  bounds of what probes showed (`knowledge.edge_bounds`; none known: (0, capacity)), for
  the hop's node pair: forwarding is non-strict, so a hop works when any of the
  forwarding node's channels to the next one has the room, 1 - prod (1 - p) over them
  (`DirectedEdges.pair_success`; the search's costs use the same pair probability). A
  route-hint hop of an invoice (a private channel, capacity unknown) gets lnd's apriori
  hop probability.
- Retries. A payer whose first route fails tries others. Candidates are the cheapest route
  through each of the target's usable inbound channels (and each route hint), in cost
  order, within the fee budget; up to `MAX_ATTEMPTS` of them are tried. Their hop
  probabilities are taken as independent except for hops the tried routes share (usually
  the payer's own channel): p = prod(shared) * (1 - prod_k (1 - prod(route k's own hops))).
- Fees. The payer's own first hop costs nothing; every later hop charges its forwarding
  node's policy on what it forwards. A route whose fee exceeds the budget is not a candidate.
  When no route found by cost fits the budget, lnd searches again weighing fees alone and
  uses that route if it fits; so does this model (`fee_only_routes`: one Dijkstra on fees
  from the payer's peers, bounded by the budget), before it answers "no route".

- A private payer (a wallet behind its LSP: its channels are not in the graph) is known by
  its channels' peers (`PRIVATE_PAYER` trees): its own hop to a peer is free and taken to
  carry the payment (the payer knows its balance; we do not), and every public hop from
  the peer on is charged, the peer's own included: the peer forwards, it does not pay.

What is left out, stated: CLTV limits, route length limits, the payer's own balances
(unless probes showed them), and correlation between routes beyond shared hops.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import NamedTuple, TypeVar

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from satrank.scoring.budgets import NORMAL
from satrank.scoring.graph import BoolArray, FloatArray, GraphArrays, IntArray, directed_pairs
from satrank.scoring.liquidity import LND_APRIORI_HOP_P, bimodal_success

# lnd's defaults for the cost of a failed attempt: 100 sat + 1,000 ppm of the amount.
ATTEMPT_COST_SAT = 100.0
ATTEMPT_COST_PPM = 1_000.0
MAX_ATTEMPTS = 3  # routes a payer tries before giving up (lnd keeps trying within 60 s)
MAX_CANDIDATES = 24  # last hops looked at, cheapest first, to find MAX_ATTEMPTS in budget
SEARCH_AMOUNTS_SAT = (1_000, 4_000, 20_000, 100_000, 400_000, 2_000_000, 10_000_000)
_MIN_EDGE_COST = 1e-6  # Dijkstra needs positive weights
_LN_FLOOR = 1e-9  # -ln p of a hop that cannot carry the amount: finite, very costly
_FEE_HOP_EPSILON_SAT = 1e-6  # fee-only search: zero-fee hops are edges, fewer hops win ties
PRIVATE_PAYER = -1  # a Tree's source for a payer outside the graph, known by its peers
FeeT = TypeVar("FeeT", float, FloatArray)


def normal_fee_budget_sat(amount_sat: int) -> int:
    """The default fee budget (`scoring.budgets.NORMAL`) in whole sat, rounded up."""
    return NORMAL.whole_limit_sat(amount_sat)


def attempt_cost_sat(amount_sat: float) -> float:
    return ATTEMPT_COST_SAT + amount_sat * ATTEMPT_COST_PPM / 1e6


def forward_fee_sat(fee_base_msat: FeeT, fee_rate_ppm: FeeT, amount_sat: float) -> FeeT:
    """What a hop with this policy charges to forward `amount_sat` (scalars or arrays)."""
    return fee_base_msat / 1000.0 + amount_sat * fee_rate_ppm / 1e6


@dataclass(frozen=True)
class DirectedEdges:
    """Both directions of every channel: edge i < E is node1 -> node2 of channel i (policy
    row 0), edge E + i is node2 -> node1 (row 1). Policy and bounds follow the direction."""

    src: IntArray
    dst: IntArray
    capacity_sat: FloatArray
    fee_base_msat: FloatArray
    fee_rate_ppm: FloatArray
    max_htlc_msat: FloatArray  # 0 = not announced
    usable: BoolArray  # has a policy and is not disabled
    lower_sat: FloatArray
    upper_sat: FloatArray
    channel_id: IntArray
    # the directions sorted by (src, dst), and per direction where its node pair's
    # directions start in that order and how many there are (`graph.directed_pairs`)
    order: IntArray
    pair_starts: IntArray
    pair_first: IntArray
    pair_size: IntArray

    def fee_sat(self, edge: int, amount_sat: float) -> float:
        return float(forward_fee_sat(self.fee_base_msat[edge], self.fee_rate_ppm[edge],
                                     amount_sat))

    def htlc_limit_sat(self, edge: IntArray | slice = slice(None)) -> FloatArray:
        """The largest HTLC each direction's announcement allows (no limit announced: inf)."""
        limit = self.max_htlc_msat[edge]
        return np.asarray(np.where(limit > 0, limit / 1000.0, np.inf), dtype=np.float64)

    def can_carry(self, edge: int, amount_sat: float) -> bool:
        limit = self.max_htlc_msat[edge]
        return bool(self.capacity_sat[edge] >= amount_sat
                    and (limit <= 0 or limit / 1000.0 >= amount_sat))

    def fees_sat(self, amount_sat: float) -> FloatArray:
        """Every edge's forwarding fee for `amount_sat`."""
        return np.asarray(forward_fee_sat(self.fee_base_msat, self.fee_rate_ppm, amount_sat),
                          dtype=np.float64)

    def carries(self, amount_sat: float) -> BoolArray:
        """Edges whose announcement allows `amount_sat` at all."""
        return np.asarray(self.usable & (self.capacity_sat >= amount_sat)
                          & (self.htlc_limit_sat() >= amount_sat), dtype=np.bool_)

    def pair_success(self, edge: IntArray, amount_sat: FloatArray) -> FloatArray:
        """P(the node pair of each `edge` forwards its `amount_sat`): forwarding is
        non-strict, so the hop works when any of the pair's channels whose announcement
        allows the amount has the room, 1 - prod (1 - p) over them (each lnd's bimodal
        estimate within what probes showed of it). Hops without parallel channels (most
        routes) are their own channel's p, in one call; otherwise one call over every
        member of the hops' pairs."""
        amount = np.asarray(amount_sat, dtype=np.float64)
        count = self.pair_size[edge]
        if (count == 1).all():
            return self._channel_success(edge, amount)
        hop = np.repeat(np.arange(edge.shape[0]), count)
        ends = np.cumsum(count)
        member = self.order[np.repeat(self.pair_first[edge], count)
                            + np.arange(int(ends[-1])) - np.repeat(ends - count, count)]
        carried = amount[hop]
        q = np.where(self.usable[member] & (self.htlc_limit_sat(member) >= carried),
                     self._channel_success(member, carried), 0.0)
        log_fail = np.bincount(hop, np.log1p(-np.minimum(q, 1.0 - 1e-12)),
                               minlength=edge.shape[0])
        return np.asarray(-np.expm1(log_fail), dtype=np.float64)

    def _channel_success(self, edge: IntArray, amount: FloatArray) -> FloatArray:
        cap = self.capacity_sat[edge]
        # past the capacity p is 0 anyway; clamped so the bimodal terms cannot overflow
        # (a uint32-max fee rate upstream makes the carried amount astronomic)
        return bimodal_success(np.minimum(amount, cap + 1.0), cap, self.lower_sat[edge],
                               self.upper_sat[edge])


def directed_edges(graph: GraphArrays, lower: FloatArray, upper: FloatArray) -> DirectedEdges:
    """`lower`/`upper`: `knowledge.edge_bounds(graph, ...)`, shape (2, E)."""
    src = np.concatenate([graph.node1, graph.node2])
    dst = np.concatenate([graph.node2, graph.node1])
    order, starts = directed_pairs(src, dst)
    sizes = np.diff(np.r_[starts, order.shape[0]])
    first = np.empty(order.shape[0], dtype=np.int64)
    size = np.empty(order.shape[0], dtype=np.int64)
    first[order] = np.repeat(starts, sizes)
    size[order] = np.repeat(sizes, sizes)
    return DirectedEdges(
        src=src, dst=dst,
        capacity_sat=np.concatenate([graph.capacity_sat, graph.capacity_sat]),
        fee_base_msat=graph.fee_base_msat.reshape(-1).astype(np.float64),
        fee_rate_ppm=graph.fee_rate_ppm.reshape(-1).astype(np.float64),
        max_htlc_msat=graph.max_htlc_msat.reshape(-1).astype(np.float64),
        usable=(graph.has_policy & ~graph.disabled).reshape(-1),
        lower_sat=np.asarray(lower, dtype=np.float64).reshape(-1),
        upper_sat=np.asarray(upper, dtype=np.float64).reshape(-1),
        channel_id=np.concatenate([graph.channel_id, graph.channel_id]),
        order=order, pair_starts=starts, pair_first=first, pair_size=size,
    )


@dataclass(frozen=True)
class SearchGraph:
    """The usable edges at one search amount as a CSR matrix of costs; `entry_edge[k]` is
    the directed edge of the matrix's k-th stored entry."""

    amount_sat: int
    matrix: sp.csr_matrix
    entry_edge: IntArray
    entry_cost: FloatArray
    fee_matrix: sp.csr_matrix  # the same entries weighted by fee alone (+ a hop epsilon)


def search_graph(edges: DirectedEdges, n_nodes: int, amount_sat: int) -> SearchGraph:
    order = edges.order  # sorted by (src, dst): the CSR's row order
    keep = order[edges.carries(amount_sat)[order]]
    src, dst = edges.src[keep], edges.dst[keep]
    p = _pair_p(bimodal_success(float(amount_sat), edges.capacity_sat[keep],
                                edges.lower_sat[keep], edges.upper_sat[keep]),
                edges.pair_first[keep])
    cost = (edges.fees_sat(amount_sat)[keep]
            - attempt_cost_sat(amount_sat) * np.log(np.maximum(p, _LN_FLOOR)))
    cost = np.maximum(cost, _MIN_EDGE_COST)
    indptr = np.searchsorted(src, np.arange(n_nodes + 1)).astype(np.int32)
    matrix = sp.csr_matrix((cost, dst.astype(np.int32), indptr), shape=(n_nodes, n_nodes))
    fees = edges.fees_sat(amount_sat)[keep] + _FEE_HOP_EPSILON_SAT
    fee_matrix = sp.csr_matrix((fees, dst.astype(np.int32), indptr), shape=(n_nodes, n_nodes))
    return SearchGraph(amount_sat, matrix, keep, cost, fee_matrix)


def _pair_p(p: FloatArray, pair: IntArray) -> FloatArray:
    """Per direction, its node pair's 1 - prod (1 - p) over the directions given (`pair`:
    each one's `DirectedEdges.pair_first`)."""
    log_fail = np.bincount(pair, np.log1p(-np.minimum(p, 1.0 - 1e-12)))
    return np.asarray(-np.expm1(log_fail[pair]), dtype=np.float64)


def search_amount_above(amount_sat: int) -> int | None:
    """The smallest search amount above `amount_sat` (every channel of its graph carries
    the payment); None above the largest."""
    return next((a for a in SEARCH_AMOUNTS_SAT if a > amount_sat), None)


def search_amount(amount_sat: int) -> int:
    """The search graph a payment of `amount_sat` uses: the largest search amount at or
    below it (no channel that could carry the payment is left out; routes over a channel
    too small for the exact amount are dropped when priced)."""
    below = [a for a in SEARCH_AMOUNTS_SAT if a <= amount_sat]
    return below[-1] if below else SEARCH_AMOUNTS_SAT[0]


@dataclass(frozen=True)
class Tree:
    """Cheapest costs and predecessors from one payer on one search graph. `source` is
    `PRIVATE_PAYER` for a payer outside the graph: its routes start at one of `peers`
    (whose predecessor is the source)."""

    source: int
    dist: FloatArray
    pred: npt.NDArray[np.int32]  # -9999: none (scipy's marker)
    peers: tuple[int, ...] = ()  # a private payer's channel peers


def shortest_tree(search: SearchGraph, source: int) -> Tree:
    # min_only: scipy's single-row path, about half the time of the all-pairs layout
    dist, pred, _ = dijkstra(search.matrix, directed=True, indices=source,
                             return_predecessors=True, min_only=True)
    return Tree(source, np.asarray(dist, dtype=np.float64), np.asarray(pred, dtype=np.int32))


def first_hops(search: SearchGraph, payer: int) -> dict[int, float]:
    """The payer's peers over a usable channel at this search amount, each with the cost of
    its cheapest such channel."""
    m = search.matrix
    out: dict[int, float] = {}
    for k in range(m.indptr[payer], m.indptr[payer + 1]):
        v, cost = int(m.indices[k]), float(search.entry_cost[k])
        if v != payer and cost < out.get(v, math.inf):
            out[v] = cost
    return out


def tree_through_peers(payer: int, peers: dict[int, tuple[float, Tree]], n_nodes: int
                       ) -> Tree:
    """The payer's tree from its peers' trees (peer -> (cost of the payer's hop to it, its
    tree)): every route of the payer starts with one of those hops, so its cheapest cost to
    x is min over peers of hop + the peer's cost to x, and x's predecessor is the chosen
    peer's (the peer itself hangs off the payer). Exact, without a Dijkstra of its own: a
    payer whose peers' trees are known (a wallet behind one LSP, mostly) costs a few
    vector operations. `payer` may be `PRIVATE_PAYER` (not in the graph: hops of 0)."""
    if not peers:
        dist, pred = np.full(n_nodes, np.inf), np.full(n_nodes, -9999, dtype=np.int32)
    elif len(peers) == 1:  # a wallet behind one peer: its tree shifted by the hop
        ((v, (hop, tree)),) = peers.items()
        dist, pred = tree.dist + hop, tree.pred.copy()
        pred[v] = payer
    else:
        order = list(peers)
        costs = np.array([peers[v][1].dist for v in order]) + np.array(
            [[peers[v][0]] for v in order])
        best = np.argmin(costs, axis=0)
        cols = np.arange(n_nodes)
        dist = costs[best, cols]
        pred = np.array([peers[v][1].pred for v in order], dtype=np.int32)[best, cols]
        pred[np.asarray(order)[best] == cols] = payer  # a peer's own column: reached directly
    if payer >= 0:
        dist[payer], pred[payer] = 0.0, -9999
    return Tree(payer, np.asarray(dist, dtype=np.float64), np.asarray(pred, dtype=np.int32),
                tuple(peers) if payer == PRIVATE_PAYER else ())


@dataclass(frozen=True)
class HintHop:
    """One hop of an invoice's route hint: from `source` (graph index, or -1 when the node
    is not in the public graph) over a private channel."""

    source: int
    channel_id: int
    fee_base_msat: int
    fee_rate_ppm: int

    def fee_sat(self, amount_sat: float) -> float:
        """What the hop's source charges to forward `amount_sat`."""
        return forward_fee_sat(float(self.fee_base_msat), float(self.fee_rate_ppm), amount_sat)


@dataclass(frozen=True)
class Route:
    """Graph edges then hint hops, payer to target; priced at the payment's amount."""

    edges: tuple[int, ...]
    hints: tuple[HintHop, ...]
    fee_sat: float
    hop_p: tuple[float, ...]  # per hop, in order
    cost: float

    @property
    def hops(self) -> int:
        return len(self.edges) + len(self.hints)

    @property
    def p(self) -> float:
        return math.prod(self.hop_p)

    def keys(self) -> tuple[tuple[str, int], ...]:
        """Hop identities for finding the hops routes share."""
        return (*(("edge", e) for e in self.edges), *(("hint", h.channel_id)
                                                       for h in self.hints))


def _cheapest_edge(search: SearchGraph, u: int, v: int) -> int:
    lo, hi = search.matrix.indptr[u], search.matrix.indptr[u + 1]
    row = search.matrix.indices[lo:hi]
    hit = np.flatnonzero(row == v)
    k = lo + hit[np.argmin(search.entry_cost[lo + hit])]
    return int(search.entry_edge[k])


def _path_edges(search: SearchGraph, tree: Tree, to: int) -> tuple[int, ...] | None:
    """The tree's edges from its source to `to`; a private payer's start at its peer."""
    if to == tree.source:
        return ()
    if not np.isfinite(tree.dist[to]):
        return None
    nodes = [to]
    while (before := int(tree.pred[nodes[-1]])) != tree.source:
        if before < 0 or len(nodes) > len(tree.pred):
            return None
        nodes.append(before)
    if tree.source >= 0:
        nodes.append(tree.source)
    nodes.reverse()
    return tuple(_cheapest_edge(search, a, b) for a, b in zip(nodes, nodes[1:], strict=False))


def _carried(edges: DirectedEdges, path: tuple[int, ...], hints: tuple[HintHop, ...],
             amount_sat: float, *, first_free: bool = True) -> tuple[list[float], float]:
    """What each hop carries and the route's fee, from the last hop backwards: each hop
    carries the amount plus the fees of the hops after it; the payer's first hop is free
    (`first_free`; a private payer's path starts after its own hop, at its peer, which
    charges)."""
    n = len(path) + len(hints)
    carried = [0.0] * n
    fee = 0.0
    amount = float(amount_sat)
    for i in range(n - 1, -1, -1):
        carried[i] = amount
        if i == 0 and first_free:
            break
        if i < len(path):
            hop_fee = edges.fee_sat(path[i], amount)
        else:
            hop_fee = hints[i - len(path)].fee_sat(amount)
        fee += hop_fee
        amount += hop_fee
    return carried, fee


class Priced(NamedTuple):
    routes: list[Route]
    # a path within the budget crossed a channel too small for the exact amount (it lies
    # between two search amounts): a search on the next graph up may find another way
    short: bool


def price_routes(edges: DirectedEdges, found: Iterable[tuple[float, tuple[int, ...],
                                                             tuple[HintHop, ...]]],
                 amount_sat: float, max_fee_sat: float, limit: int, *,
                 first_free: bool = True) -> Priced:
    """The first `limit` routes of `found` (cost order) whose fee fits the budget, with
    hop probabilities at the exact amounts (one vectorised call for all their hops);
    `first_free`: `_carried`'s."""
    kept: list[tuple[float, tuple[int, ...], tuple[HintHop, ...], list[float], float]] = []
    short = False
    for cost, path, hints in found:
        carried, fee = _carried(edges, path, hints, amount_sat, first_free=first_free)
        if fee > max_fee_sat:
            continue
        if not all(edges.can_carry(e, a) for e, a in zip(path, carried, strict=False)):
            short = True
            continue
        kept.append((cost, path, hints, carried, fee))
        if len(kept) == limit:
            break
    all_edges = np.asarray([e for k in kept for e in k[1]], dtype=np.int64)
    amounts = np.asarray([a for k in kept for a in k[3][:len(k[1])]], dtype=np.float64)
    p_all = edges.pair_success(all_edges, amounts).tolist() if all_edges.size else []
    routes, at = [], 0
    for cost, path, hints, _carried_sat, fee in kept:
        hop_p = (*p_all[at:at + len(path)], *(LND_APRIORI_HOP_P,) * len(hints))
        at += len(path)
        routes.append(Route(path, hints, fee, tuple(float(p) for p in hop_p), cost))
    return Priced(routes, short)


def candidate_routes(edges: DirectedEdges, search: SearchGraph, tree: Tree, target: int,
                     hints: tuple[tuple[HintHop, ...], ...], amount_sat: int,
                     max_fee_sat: float, limit: int = MAX_ATTEMPTS,
                     fees_of: Callable[[], Tree] | None = None) -> Priced:
    """Cheapest route through each usable last hop (and each hint), cost order, the first
    `limit` within the budget. `target` is the payee's graph index or -1 (only reachable
    through hints)."""
    if target == tree.source:
        return Priced([], False)
    if target in tree.peers:  # a private payer's own channel: nothing public to cross
        return Priced([Route((), (), 0.0, (), 0.0)], False)
    ends: list[tuple[float, int, int]] = []  # (cost, entry node, last edge or -1)
    if target >= 0:
        into = np.flatnonzero(search.matrix.indices == target)  # entries u -> target
        if into.size:
            u = np.searchsorted(search.matrix.indptr, into, side="right") - 1
            total = tree.dist[u] + search.entry_cost[into]
            for k in np.argsort(total, kind="stable")[:MAX_CANDIDATES]:
                if not np.isfinite(total[k]):
                    break
                ends.append((float(total[k]), int(u[k]), int(search.entry_edge[into[k]])))
    hinted: dict[int, tuple[HintHop, ...]] = {}
    for h, hint in enumerate(hints):
        entry = hint[0].source
        if entry < 0 or not np.isfinite(tree.dist[entry]):
            continue
        extra = sum(x.fee_sat(amount_sat) for x in hint[1:])
        hint_cost = extra - len(hint) * attempt_cost_sat(amount_sat) * math.log(
            LND_APRIORI_HOP_P)
        ends.append((float(tree.dist[entry]) + hint_cost, entry, -2 - h))
        hinted[-2 - h] = hint
    ends.sort(key=lambda x: x[0])

    def found() -> Iterator[tuple[float, tuple[int, ...], tuple[HintHop, ...]]]:
        for cost, entry, last in ends:  # paths are walked only as far as pricing asks
            prefix = _path_edges(search, tree, entry)
            if prefix is None or (last >= 0 and target in _nodes(edges, prefix, tree.source)):
                continue
            yield (cost, (*prefix, last), ()) if last >= 0 else (cost, prefix, hinted[last])

    public = tree.source >= 0
    priced = price_routes(edges, found(), amount_sat, max_fee_sat, limit, first_free=public)
    if priced.routes or target < 0 or not any(last >= 0 for _, _, last in ends):
        return priced  # found, or no route at all: nothing for a search by fee to find
    if fees_of is not None:
        fees = fees_of()
    else:
        fees = fee_tree(search, tree.source) if public else private_fee_tree(search, tree.peers)
    by_fee = fee_only_routes(edges, search, fees, target, amount_sat, max_fee_sat, limit)
    return Priced(by_fee.routes, priced.short or by_fee.short)


def _own_edges(search: SearchGraph, payer: int) -> dict[int, int]:
    """peer -> the payer's cheapest usable edge to it."""
    m = search.matrix
    first: dict[int, int] = {}
    for k in sorted(range(m.indptr[payer], m.indptr[payer + 1]),
                    key=lambda k: -search.entry_cost[k]):
        first[int(m.indices[k])] = int(search.entry_edge[k])
    first.pop(payer, None)
    return first


def _fees_from(search: SearchGraph, source: int, starts: IntArray,
               peers: tuple[int, ...] = ()) -> Tree:
    """Cheapest fees from `starts` at fee 0 (one multi-source Dijkstra), as `source`'s tree:
    predecessors lead back to one of the starts."""
    n = search.matrix.shape[0]
    if not starts.size:
        return Tree(source, np.full(n, np.inf), np.full(n, -9999, dtype=np.int32), peers)
    dist, pred, _ = dijkstra(search.fee_matrix, directed=True, indices=starts, min_only=True,
                             return_predecessors=True)
    return Tree(source, np.asarray(dist, dtype=np.float64), np.asarray(pred, dtype=np.int32),
                peers)


def fee_tree(search: SearchGraph, payer: int) -> Tree:
    """Cheapest fees from the payer (its own hop is free: the search starts from its peers
    at fee 0); predecessors lead back to one of its peers."""
    return _fees_from(search, payer, np.fromiter(_own_edges(search, payer), dtype=np.int64))


def private_fee_tree(search: SearchGraph, peers: tuple[int, ...]) -> Tree:
    """`fee_tree` of a private payer: the same search from its peers (its own hops are not
    in the graph)."""
    return _fees_from(search, PRIVATE_PAYER, np.asarray(peers, dtype=np.int64), tuple(peers))


def fee_only_routes(edges: DirectedEdges, search: SearchGraph, fees: Tree, target: int,
                    amount_sat: int, max_fee_sat: float, limit: int = MAX_ATTEMPTS
                    ) -> Priced:
    """lnd's second search when the cheapest route by cost is over the fee limit: routes by
    fee alone (`fees`: `fee_tree` of the payer), the cheapest through each usable last
    hop, within the budget. A private payer's routes start at its peer, charged there."""
    m, payer, fee_tree = search.matrix, fees.source, fees
    public = payer >= 0
    first = _own_edges(search, payer) if public else dict.fromkeys(fees.peers, -1)
    if not first:
        return Priced([], False)
    into = np.flatnonzero(m.indices == target)
    u = np.searchsorted(m.indptr, into, side="right") - 1
    total = fees.dist[u] + np.where(u == payer, 0.0, search.fee_matrix.data[into])
    total = np.where(u == payer, 0.0, total)
    order = np.argsort(total, kind="stable")[:MAX_CANDIDATES]

    def found() -> Iterator[tuple[float, tuple[int, ...], tuple[HintHop, ...]]]:
        for k in order:
            if not np.isfinite(total[k]) or total[k] > max_fee_sat + 1.0:
                break
            entry, last = int(u[k]), int(search.entry_edge[into[k]])
            if entry == payer:
                yield float(total[k]), (last,), ()
                continue
            nodes = [entry]
            while nodes[-1] not in first:  # back to the peer the search started from
                nodes.append(int(fee_tree.pred[nodes[-1]]))
                if nodes[-1] < 0 or len(nodes) > len(fee_tree.pred):
                    break
            else:
                nodes.reverse()
                if target in nodes or payer in nodes:
                    continue
                hops = tuple(_cheapest_edge(search, a, b) for a, b in zip(nodes, nodes[1:],
                                                                          strict=False))
                own = (first[nodes[0]],) if public else ()
                yield float(total[k]), (*own, *hops, last), ()

    return price_routes(edges, found(), amount_sat, max_fee_sat, limit, first_free=public)


def _nodes(edges: DirectedEdges, path: tuple[int, ...], source: int) -> set[int]:
    return {source, *(int(edges.dst[e]) for e in path)}


def retries_success(routes: list[Route]) -> float:
    """p that one of the first MAX_ATTEMPTS routes works: shared hops once, the rest of each
    route independent (module docstring)."""
    tried = routes[:MAX_ATTEMPTS]
    if not tried:
        return 0.0
    hop_p = [dict(zip(r.keys(), r.hop_p, strict=True)) for r in tried]
    shared = set(hop_p[0]).intersection(*hop_p[1:])
    p_shared = math.prod(hop_p[0][k] for k in shared)
    p_none = math.prod(1.0 - math.prod(p for k, p in hops.items() if k not in shared)
                       for hops in hop_p)
    return p_shared * (1.0 - p_none)


@dataclass(frozen=True)
class PaymentEstimate:
    p_model: float  # route model alone: retries over the candidate routes
    routes: tuple[Route, ...]  # the candidates in cost order (the first is the likeliest)
    short: bool = False  # `Priced.short`: the next search graph up may find a route

    @property
    def likeliest(self) -> Route | None:
        return max(self.routes, key=lambda r: r.p) if self.routes else None


def estimate_payment(edges: DirectedEdges, search: SearchGraph, tree: Tree, target: int,
                     hints: tuple[tuple[HintHop, ...], ...], amount_sat: int,
                     max_fee_sat: float, fees_of: Callable[[], Tree] | None = None
                     ) -> PaymentEstimate:
    """`fees_of`: the payer's `fee_tree` (a cache's), asked only when no route by cost
    fits the budget."""
    priced = candidate_routes(edges, search, tree, target, hints, amount_sat, max_fee_sat,
                              fees_of=fees_of)
    return PaymentEstimate(retries_success(priced.routes), tuple(priced.routes), priced.short)
