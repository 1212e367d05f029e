"""The reference payer's view of the graph: which nodes a payment of amount `a` within a
fee budget can reach, and with what probability the channels carry it.

Per amount, one single-source search (scipy's Dijkstra over the channel pairs, weight = the
fee the forwarding node charges for `a`) gives the cheapest fee to every node, and a second
one (weight = fee + attempt cost x -ln p, lnd's penalty for unlikely hops as `payment.py`
prices routes) the path tree lnd would pick. Then, for every node v:

- route existence: some usable channel (u -> v) with fee(payer -> u) + fee(u -> v) within
  the budget (usable = enabled policy, capacity and max_htlc >= a);
- upstream: q(u), the product of the channel-pair success probabilities along that path
  to u (parallel channels of a pair count as one hop that works if any of them does: lnd
  forwards non-strictly);
- retries over alternatives: lnd tries routes until one works or the timeout passes, so the
  payment reaches v unless every alternative fails: 1 - prod_u (1 - q(u) p(u -> v)) over the
  MAX_ALTERNATIVES best last hops within the budget (treated as independent, which
  overstates retries that share upstream hops; the one-path q(u) ignores retries
  upstream, which understates them).

Channel-pair probabilities come from lnd's bimodal estimator on the decayed bounds of what
probes showed (`scoring.knowledge.edge_bounds`; (0, capacity) where nothing is known).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from satrank.scoring.budgets import FeeBudget
from satrank.scoring.graph import BoolArray, FloatArray, GraphArrays, IntArray
from satrank.scoring.liquidity import LND_BIMODAL_SCALE_SAT, bimodal_success
from satrank.scoring.payment import (
    DirectedEdges,
    attempt_cost_sat,
    directed_edges,
    edge_order,
)

# lnd retries until its timeout; with a few seconds per attempt about this many distinct
# last hops get a chance in 60 s (and lnd's mission control rarely retries a failed pair).
MAX_ALTERNATIVES = 8
# Added to every hop's fee so that zero-fee hops are edges to scipy and fewer hops win ties.
HOP_EPSILON_SAT = 1e-6


@dataclass(frozen=True)
class PayerView:
    """Arrays of shape (len(budgets), len(amounts), n) unless said otherwise."""

    reachable: BoolArray  # a route within the budget exists
    p_graph: FloatArray  # P(the payment reaches the node | the node is up)
    # the same with the node's own inbound channels as if never observed (knowledge only
    # upstream): the prior of a node whose own probes are counted in S/F (model.py)
    p_graph_blind: FloatArray
    last_hop: FloatArray  # (len(amounts), n): P(some usable inbound channel carries a),
    # without knowledge of those channels (the likelihood of the node's own outcomes)
    cheapest_fee_sat: FloatArray  # (len(amounts), n): inf where no route at all


@dataclass(frozen=True)
class _Pairs:
    """Usable directed channel pairs (u -> v) for one amount, parallel channels merged."""

    src: IntArray
    dst: IntArray
    fee_sat: FloatArray  # cheapest fee the forwarding node u charges
    p: FloatArray  # P(some parallel channel carries the amount)
    p_blind: FloatArray  # the same without channel knowledge (bounds (0, capacity))


@dataclass(frozen=True)
class _Directions:
    """Every channel direction (`payment.DirectedEdges`, shared with the intent's route
    search) and the order that groups them by (src, dst), computed once for all amounts."""

    edges: DirectedEdges
    order: IntArray  # directions sorted by (src, dst)
    starts: IntArray  # position in `order` of the first direction of each (src, dst) pair


def _directions(graph: GraphArrays, lower: FloatArray, upper: FloatArray) -> _Directions:
    edges = directed_edges(graph, lower, upper)
    order = edge_order(edges)
    src, dst = edges.src[order], edges.dst[order]
    first = np.ones(src.shape[0], dtype=bool)
    first[1:] = (src[1:] != src[:-1]) | (dst[1:] != dst[:-1])
    return _Directions(edges, order, np.flatnonzero(first))


def _pairs(dirs: _Directions, amount_sat: float, scale_sat: float) -> _Pairs:
    if dirs.starts.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return _Pairs(empty, empty, np.zeros(0), np.zeros(0), np.zeros(0))
    edges, order = dirs.edges, dirs.order
    usable = (edges.carries(amount_sat) & (edges.src != edges.dst))[order]  # no loops
    fee = np.where(usable, edges.fees_sat(amount_sat)[order], np.inf)
    sel = order[usable]
    cap = edges.capacity_sat[sel]
    pair_fee = np.minimum.reduceat(fee, dirs.starts)
    ok = np.isfinite(pair_fee)

    def pair_p(lower: FloatArray, upper: FloatArray) -> FloatArray:
        log_fail = np.zeros(usable.shape[0])
        p = bimodal_success(amount_sat, cap, lower, upper, scale_sat=scale_sat)
        log_fail[usable] = np.log1p(-np.minimum(p, 1.0 - 1e-12))
        return np.asarray(-np.expm1(np.add.reduceat(log_fail, dirs.starts)[ok]),
                          dtype=np.float64)

    head = order[dirs.starts[ok]]
    return _Pairs(edges.src[head], edges.dst[head], pair_fee[ok],
                  pair_p(edges.lower_sat[sel], edges.upper_sat[sel]),
                  pair_p(np.zeros_like(cap), cap))


def _path_log_p(pred: IntArray, hop_log_p: FloatArray) -> FloatArray:
    """Sum of hop_log_p along the predecessor chain of every node, by pointer doubling."""
    acc = hop_log_p.copy()
    anc = pred.copy()
    while True:
        has = anc >= 0
        if not has.any():
            return acc
        nxt_acc = acc.copy()
        nxt_acc[has] += acc[anc[has]]
        nxt_anc = np.full_like(anc, -1)
        nxt_anc[has] = anc[anc[has]]
        acc, anc = nxt_acc, nxt_anc


def _best_alternatives(dst: IntArray, score: FloatArray, k: int) -> BoolArray:
    """Mask of the k highest scores per destination (only destinations with more than k
    candidates are sorted)."""
    keep = np.ones(dst.shape[0], dtype=bool)
    crowded = np.flatnonzero(np.bincount(dst, minlength=int(dst.max(initial=-1)) + 1)[dst] > k)
    if crowded.size == 0:
        return keep
    order = crowded[np.argsort(dst[crowded] * 2.0 + (1.0 - np.clip(score[crowded], 0.0, 1.0)),
                               kind="stable")]
    d = dst[order]
    first = np.ones(d.shape[0], dtype=bool)
    first[1:] = d[1:] != d[:-1]
    group_start = np.maximum.accumulate(np.where(first, np.arange(d.shape[0]), 0))
    keep[order] = (np.arange(d.shape[0]) - group_start) < k
    return keep


def payer_view(graph: GraphArrays, sources: IntArray, *, free_sources: bool,
               amounts_sat: Sequence[float], budgets: Sequence[FeeBudget],
               lower: FloatArray, upper: FloatArray,
               max_alternatives: int = MAX_ALTERNATIVES,
               bimodal_scale_sat: float = LND_BIMODAL_SCALE_SAT,
               first_hop_sat: FloatArray | None = None) -> PayerView:
    """The payer's view for every amount and budget. `sources` are the node indices the
    payer's payments enter the graph at: the payer itself (`free_sources`: it charges
    itself no fee), or the peers it has channels to (they charge theirs). With
    `first_hop_sat` (per source: what the payer's own channel to it can send), a payment
    of `a` enters only at the sources whose channel can send `a`."""
    n = graph.n_nodes
    shape = (len(budgets), len(amounts_sat), n)
    reachable = np.zeros(shape, dtype=bool)
    p_graph = np.zeros(shape)
    p_blind = np.zeros(shape)
    last_hop = np.zeros((len(amounts_sat), n))
    cheapest = np.full((len(amounts_sat), n), np.inf)
    max_limit = max((b.limit_sat(max(amounts_sat)) for b in budgets), default=0.0)
    dirs = _directions(graph, lower, upper)
    for j, amount in enumerate(amounts_sat):
        entry = sources if first_hop_sat is None else sources[first_hop_sat >= amount]
        is_source = np.zeros(n, dtype=bool)
        is_source[entry] = True
        pr = _pairs(dirs, float(amount), bimodal_scale_sat)
        charged = pr.fee_sat * ~(free_sources & is_source[pr.src])
        if n == 0 or entry.size == 0:
            continue
        weights = csr_matrix((charged + HOP_EPSILON_SAT, (pr.src, pr.dst)), shape=(n, n))
        dist = dijkstra(weights, directed=True, indices=entry, min_only=True,
                        limit=max_limit + 1.0)
        # The upstream path is the one lnd would pick: fee plus its penalty for unlikely
        # hops (payment.py's route cost), not the cheapest by fee alone, so one channel
        # known to be short does not cut off every node behind it.
        risk = charged - attempt_cost_sat(float(amount)) * np.log(np.maximum(pr.p, 1e-12))
        _, pred, _ = dijkstra(csr_matrix((risk + HOP_EPSILON_SAT, (pr.src, pr.dst)),
                                         shape=(n, n)), directed=True, indices=entry,
                              min_only=True, return_predecessors=True)
        pred = np.asarray(pred, dtype=np.int64)
        pred[is_source] = -1
        # log p of the hop (pred(v) -> v): pairs are unique per (src, dst) and sorted by key
        key = pr.src * n + pr.dst
        hop = np.zeros(n)
        on_tree = pred >= 0
        pos = np.searchsorted(key, pred[on_tree] * n + np.flatnonzero(on_tree))
        hop[on_tree] = np.log(np.maximum(pr.p[pos], 1e-300))
        q = np.exp(_path_log_p(pred, hop))
        q[~np.isfinite(dist)] = 0.0
        cheapest[j] = dist
        via = np.isfinite(dist[pr.src])
        last_hop[j] = _any_of(pr.dst[via], pr.p_blind[via], n)
        for b, budget in enumerate(budgets):
            within = via & (dist[pr.src] + charged <= budget.limit_sat(float(amount)))
            score = q[pr.src[within]] * pr.p[within]
            keep = _best_alternatives(pr.dst[within], score, max_alternatives)
            d = pr.dst[within][keep]
            reachable[b, j] = np.bincount(d, minlength=n) > 0
            p_graph[b, j] = _any_of(d, score[keep], n)
            # the same alternatives, their last hop as if never observed
            p_blind[b, j] = _any_of(d, q[pr.src[within]][keep] * pr.p_blind[within][keep], n)
            if not free_sources:  # the payer's own channel to a source: its balance is known
                reachable[b, j, is_source] = True
                p_graph[b, j, is_source] = 1.0
                p_blind[b, j, is_source] = 1.0
    return PayerView(reachable, p_graph, p_blind, last_hop, cheapest)


def _any_of(dst: IntArray, p: FloatArray, n: int) -> FloatArray:
    """Per node, P(at least one of its independent alternatives works)."""
    return np.asarray(-np.expm1(np.bincount(dst, np.log1p(-np.minimum(p, 1 - 1e-12)),
                                            minlength=n)), dtype=np.float64)
