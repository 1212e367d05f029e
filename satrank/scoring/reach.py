"""The reference payer's view of the graph: which nodes a payment of amount `a` within a
fee budget can reach, and with what probability the channels carry it.

Per amount, one single-source search (scipy's Dijkstra over the channel pairs, weight = the
fee the forwarding node charges for `a`) gives the cheapest fee to every node:

- route existence: some usable channel (u -> v) with fee(payer -> u) + fee(u -> v) within
  the budget (usable = enabled policy, capacity and max_htlc >= a).

P(the payment reaches v | v is up) is lnd's retries, sampled: lnd tries routes until one
carries the payment (a failing pair is pruned, the next cheapest route tried), so a payment
reaches v exactly when some path within the budget has `a` of liquidity on every hop. Per
sample of every channel direction's liquidity (lnd's bimodal prior on the bounds probes
showed, `scoring.knowledge.edge_bounds`; (0, capacity) where nothing is known), one search
by fee over the pairs that carry `a` (a pair carries it when any parallel channel does: lnd
forwards non-strictly) gives every node the sample reaches within the budget. The last hop
is integrated rather than sampled: given the sample's upstream, v is reached unless every
inbound pair (u -> v) from a reached u within the budget fails, 1 - prod (1 - p(u -> v)).
That removes the sampling noise of the channels that decide most about v, and gives from
the same samples the prior of a node whose own probes are counted in its evidence: its
inbound pairs as if never observed (`p_graph_blind`).

The samples are drawn once per channel direction and compared with every amount (a
channel's sampled liquidity is one number, so p falls with the amount), each a hash of the
channel id, direction and sample (`direction_draws`): equal inputs give equal scores, a
node's p does not jitter between passes, and a channel keeps its draws when others open or
close.
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
from satrank.scoring.payment import DirectedEdges, directed_edges

# Liquidity samples per pass. The last hop is integrated, so the noise left is the
# upstream's: on the mainnet snapshot 8 samples differ from 160 by 0.013 RMS over the
# routable cells (16: 0.009, 32: 0.006), which adds about 0.0002 to a Brier score of 0.1;
# each sample costs a search per amount (about 40 ms a pass), and the crawler's first
# cycle has a 5 s target.
SAMPLES = 8
# splitmix64's increment and multipliers (`direction_draws`)
_GOLDEN, _MIX1, _MIX2 = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xBF58476D1CE4E5B9),
                         np.uint64(0x94D049BB133111EB))
# Added to every hop's fee so that zero-fee hops are edges to scipy and fewer hops win ties.
HOP_EPSILON_SAT = 1e-6
# The largest ratio between neighbouring amounts of the ladder on which the largest routable
# amount is searched (`amount_ladder`): a node's answer above its last routable rung is 0,
# so a capacity cliff is placed within 50 % of where it is; with the grid's eight amounts
# that is 23 rungs from 1k to 5M, 15 searches more than the grid's, paid once per graph.
LADDER_MAX_RATIO = 1.5


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
class _AmountRoutes:
    """One amount's search: what depends on the graph, the payer and the budgets only."""

    usable: BoolArray  # directions in `PayerRoutes.order` that carry the amount (no loops)
    ok: BoolArray  # (src, dst) pairs with some usable direction
    src: IntArray  # those pairs, sorted by (src, dst)
    dst: IntArray
    charged: FloatArray  # the pair's cheapest fee, 0 where the payer forwards to itself
    entry: IntArray  # the sources a payment of this amount can enter the graph at
    is_source: BoolArray  # (n,): the same as a mask
    dist: FloatArray  # (n,): the cheapest fee to every node, inf where no route
    via: BoolArray  # pairs whose source has a route
    within: tuple[BoolArray, ...]  # per budget: pairs that end a route within it


@dataclass(frozen=True)
class PayerRoutes:
    """The route searches of a payer view for every amount: they depend on the graph's
    channels and policies, the payer and the budgets, not on channel knowledge, so a pass
    with new evidence on the same graph can reuse them (`scoring.route_cache`)."""

    order: IntArray  # directions sorted by (src, dst)
    starts: IntArray  # position in `order` of the first direction of each (src, dst) pair
    amounts: tuple[_AmountRoutes, ...]
    reachable: BoolArray  # (len(budgets), len(amounts), n)
    cheapest_fee_sat: FloatArray  # (len(amounts), n)
    # (len(budgets), n): the largest amount of `amount_ladder(amounts)` with a route within
    # the budget, 0 where none has one
    max_routable_sat: FloatArray


def amount_ladder(amounts_sat: Sequence[float],
                  max_ratio: float = LADDER_MAX_RATIO) -> tuple[float, ...]:
    """The grid's amounts with log-spaced rungs between neighbours, so that no two
    neighbouring rungs are more than `max_ratio` apart."""
    grid = sorted(set(float(a) for a in amounts_sat))
    rungs = grid[:1]
    for lo, hi in zip(grid, grid[1:], strict=False):
        steps = max(1, int(np.ceil(np.log(hi / lo) / np.log(max_ratio) - 1e-9)))
        rungs.extend(float(x) for x in np.geomspace(lo, hi, steps + 1)[1:-1])
        rungs.append(hi)
    return tuple(rungs)


def _reachable(r: _AmountRoutes, n: int, n_budgets: int, free_sources: bool) -> BoolArray:
    """(len(budgets), n): the nodes one amount's search reaches within each budget."""
    out = np.zeros((n_budgets, n), dtype=bool)
    if n == 0 or r.entry.size == 0:
        return out
    for b in range(n_budgets):
        out[b] = np.bincount(r.dst[r.within[b]], minlength=n) > 0
        if not free_sources:  # the payer's own channel to a source
            out[b, r.is_source] = True
    return out


def _amount_routes(edges: DirectedEdges, order: IntArray, starts: IntArray, n: int,
                   entry: IntArray, free_sources: bool, amount: float,
                   budgets: Sequence[FeeBudget], max_limit: float) -> _AmountRoutes:
    usable = (edges.carries(amount) & (edges.src != edges.dst))[order]  # no loops
    if starts.size:
        fee = np.where(usable, edges.fees_sat(amount)[order], np.inf)
        pair_fee = np.minimum.reduceat(fee, starts)
    else:
        pair_fee = np.zeros(0)
    ok = np.isfinite(pair_fee)
    head = order[starts[ok]]
    src, dst, pair_fee = edges.src[head], edges.dst[head], pair_fee[ok]
    is_source = np.zeros(n, dtype=bool)
    is_source[entry] = True
    charged = pair_fee * ~(free_sources & is_source[src])
    if n == 0 or entry.size == 0:
        return _AmountRoutes(usable, ok, src, dst, charged, entry, is_source,
                             np.full(n, np.inf), np.zeros(src.shape[0], dtype=bool),
                             tuple(np.zeros(src.shape[0], dtype=bool) for _ in budgets))
    weights = csr_matrix((charged + HOP_EPSILON_SAT, (src, dst)), shape=(n, n))
    dist = np.asarray(dijkstra(weights, directed=True, indices=entry, min_only=True,
                               limit=max_limit + 1.0), dtype=np.float64)
    via = np.isfinite(dist[src])
    within = tuple(via & (dist[src] + charged <= b.limit_sat(amount)) for b in budgets)
    return _AmountRoutes(usable, ok, src, dst, charged, entry, is_source, dist, via, within)


def payer_routes(graph: GraphArrays, sources: IntArray, *, free_sources: bool,
                 amounts_sat: Sequence[float], budgets: Sequence[FeeBudget],
                 first_hop_sat: FloatArray | None = None) -> PayerRoutes:
    """Per amount, one single-source search by fee from the payer (see the module
    docstring). With `first_hop_sat` (per source: what the payer's own channel to it can
    send), a payment of `a` enters only at the sources whose channel can send `a`."""
    n = graph.n_nodes
    no_bounds = np.zeros((2, graph.node1.shape[0]))  # searches do not read bounds
    edges = directed_edges(graph, no_bounds, no_bounds)
    order, starts = edges.order, edges.pair_starts
    ladder = amount_ladder(amounts_sat) if len(amounts_sat) else ()
    max_limit = max((b.limit_sat(max((*amounts_sat, *ladder))) for b in budgets),
                    default=0.0)

    def search(a: float) -> _AmountRoutes:
        entry = sources if first_hop_sat is None else sources[first_hop_sat >= a]
        return _amount_routes(edges, order, starts, n, entry, free_sources, float(a),
                              budgets, max_limit)

    per_amount = tuple(search(a) for a in amounts_sat)
    reachable = np.zeros((len(budgets), len(amounts_sat), n), dtype=bool)
    cheapest = np.full((len(amounts_sat), n), np.inf)
    for j, r in enumerate(per_amount):
        if n and r.entry.size:
            cheapest[j] = r.dist
        reachable[:, j] = _reachable(r, n, len(budgets), free_sources)
    # Rungs off the grid keep only their reach (their searches' arrays are not kept).
    on_grid = {float(a): j for j, a in enumerate(amounts_sat)}
    max_routable = np.zeros((len(budgets), n))
    for a in ladder:
        at = on_grid.get(a)
        reach = reachable[:, at] if at is not None else _reachable(
            search(a), n, len(budgets), free_sources)
        max_routable[reach] = a  # rungs ascend: the last reaching one stays
    if ladder:
        max_routable = _between_rungs(edges, np.asarray(ladder), max_routable, sources,
                                      free_sources, first_hop_sat)
    return PayerRoutes(order, starts, per_amount, reachable, cheapest, max_routable)


def _between_rungs(edges: DirectedEdges, ladder: FloatArray, on_ladder: FloatArray,
                   sources: IntArray, free_sources: bool,
                   first_hop_sat: FloatArray | None) -> FloatArray:
    """The largest routable amount between a node's last reaching rung and the next one:
    the widest path's bottleneck (the largest amount every channel on it admits, by
    capacity and max_htlc), kept below the next rung, whose search found no route. Fees
    are not re-checked between rungs; the cliffs that matter are capacities, which the
    ladder alone would place up to a rung too low (a 600k channel read as 448k)."""
    top = ladder[-1]
    nxt = np.searchsorted(ladder, on_ladder, side="right")
    refine = (on_ladder > 0) & (nxt < ladder.shape[0])
    # just under the next rung: a route at it was searched for and not found
    cap = np.where(refine, ladder[np.minimum(nxt, ladder.shape[0] - 1)] * (1.0 - 1e-9),
                   on_ladder)
    limit = np.minimum(edges.capacity_sat, edges.htlc_limit_sat())
    keep = edges.usable & (edges.src != edges.dst) & (limit >= ladder[0])
    by_dst = np.argsort(edges.dst[keep], kind="stable")
    src, dst, limit = edges.src[keep][by_dst], edges.dst[keep][by_dst], limit[keep][by_dst]
    if dst.size == 0:
        return on_ladder
    first = np.flatnonzero(np.r_[True, dst[1:] != dst[:-1]])
    heads = dst[first]
    width = on_ladder.copy()
    grow = refine.copy()
    if free_sources:
        width[:, sources] = np.inf  # the payer itself sends any amount
        grow[:, sources] = False
    else:  # the payer's own channel to a source is the first hop
        own = np.inf if first_hop_sat is None else first_hop_sat
        width[:, sources] = np.maximum(width[:, sources], np.minimum(cap[:, sources], own))
    for _ in range(on_ladder.shape[1]):  # rounds = the longest widening path: a few
        reached = np.zeros_like(width)
        reached[:, heads] = np.maximum.reduceat(np.minimum(width[:, src], limit), first, axis=1)
        wider = grow & (reached > width) & (width < cap)
        if not wider.any():
            break
        width[wider] = np.minimum(reached, cap)[wider]
    # a bottleneck at the cap is no channel's limit: that cliff is the fee budget's, which
    # the ladder alone places
    return np.asarray(np.where(refine & (width < cap), np.minimum(width, top), on_ladder),
                      dtype=np.float64)


def payer_view(graph: GraphArrays, sources: IntArray, *, free_sources: bool,
               amounts_sat: Sequence[float], budgets: Sequence[FeeBudget],
               lower: FloatArray, upper: FloatArray,
               bimodal_scale_sat: float = LND_BIMODAL_SCALE_SAT,
               first_hop_sat: FloatArray | None = None,
               routes: PayerRoutes | None = None, samples: int = SAMPLES) -> PayerView:
    """The payer's view for every amount and budget. `sources` are the node indices the
    payer's payments enter the graph at: the payer itself (`free_sources`: it charges
    itself no fee), or the peers it has channels to (they charge theirs); `first_hop_sat`
    as in `payer_routes`. `routes`: the searches of `payer_routes` for these same
    arguments, when already made."""
    if routes is None:
        routes = payer_routes(graph, sources, free_sources=free_sources,
                              amounts_sat=amounts_sat, budgets=budgets,
                              first_hop_sat=first_hop_sat)
    n = graph.n_nodes
    shape = (len(budgets), len(amounts_sat), n)
    p_graph = np.zeros(shape)
    p_blind = np.zeros(shape)
    last_hop = np.zeros((len(amounts_sat), n))
    edges = directed_edges(graph, lower, upper)
    order = routes.order
    # one uniform number per channel direction and sample, shared by every amount
    draws = direction_draws(edges.channel_id, max(1, samples))[:, order]
    for j, amount in enumerate(amounts_sat):
        r = routes.amounts[j]
        if n == 0 or r.entry.size == 0:
            continue
        sel = order[r.usable]
        cap = edges.capacity_sat[sel]
        p_dir = bimodal_success(float(amount), cap, edges.lower_sat[sel],
                                edges.upper_sat[sel], scale_sat=bimodal_scale_sat)
        known = (edges.lower_sat[sel] > 0) | (edges.upper_sat[sel] < cap)
        p_cold = p_dir.copy()  # as if never observed: only directions with bounds differ
        p_cold[known] = bimodal_success(float(amount), cap[known], scale_sat=bimodal_scale_sat)
        log_fail = _pair_log_fail(routes.starts, r, p_dir)
        cold_log_fail = _pair_log_fail(routes.starts, r, p_cold)
        last_hop[j] = -np.expm1(np.bincount(r.dst[r.via], cold_log_fail[r.via], minlength=n))
        pair = _pair_of(routes.starts, r)
        limits = [b.limit_sat(float(amount)) for b in budgets]
        blind_shift = cold_log_fail - log_fail
        p_graph[:, j], p_blind[:, j] = _sampled_last_hops(r, n, draws[:, r.usable], p_dir,
                                                          pair, limits, log_fail, blind_shift)
        if not free_sources:  # the payer's own channel to a source: its balance is known
            p_graph[:, j, r.is_source] = 1.0
            p_blind[:, j, r.is_source] = 1.0
    return PayerView(routes.reachable, p_graph, p_blind, last_hop, routes.cheapest_fee_sat)


def direction_draws(channel_id: IntArray, samples: int) -> FloatArray:
    """(samples, 2 E) numbers uniform in [0, 1) for the directions of `DirectedEdges` (the
    channels' node1 -> node2 directions, then node2 -> node1), each a function of its
    channel id, direction and sample alone: a channel keeps its draws when others open or
    close, so a pass on a changed graph moves only what the change touches. splitmix64's
    finaliser on (2 id + direction) + sample x the golden ratio (scoring stays pure: no
    random generator, no state)."""
    n = channel_id.shape[0]  # both directions of every channel
    key = channel_id.astype(np.uint64) * np.uint64(2) + (np.arange(n) >= n // 2).astype(np.uint64)
    z = key[None, :] + np.arange(1, samples + 1, dtype=np.uint64)[:, None] * _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    z = z ^ (z >> np.uint64(31))
    return np.asarray((z >> np.uint64(11)).astype(np.float64) / float(1 << 53), dtype=np.float64)


def _pair_of(starts: IntArray, r: _AmountRoutes) -> IntArray:
    """For each usable direction (in `order[usable]`), the index of its pair in `r.src`."""
    pair_all = np.searchsorted(starts, np.flatnonzero(r.usable), side="right") - 1
    return np.asarray((np.cumsum(r.ok) - 1)[pair_all], dtype=np.int64)


def _sampled_last_hops(r: _AmountRoutes, n: int, draws: np.ndarray, p_dir: FloatArray,
                       pair: IntArray, limits: Sequence[float], log_fail: FloatArray,
                       blind_shift: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Two (len(limits), n) arrays, means over the samples: P(some inbound pair of v from a
    node the sample reaches within each limit carries the payment), with the pairs' log
    failure probabilities `log_fail`, and the same with `log_fail + blind_shift` (nonzero
    only on pairs with knowledge)."""
    sums = np.zeros((2, len(limits), n))
    indptr = np.concatenate([[0], np.cumsum(np.bincount(r.src, minlength=n))])
    matrix = csr_matrix((np.zeros(r.src.shape[0]), r.dst, indptr), shape=(n, n))
    weight = r.charged + HOP_EPSILON_SAT
    top = max(limits)
    shifted = np.flatnonzero(blind_shift != 0.0)
    for sample in draws:
        works = np.bincount(pair[sample < p_dir], minlength=r.src.shape[0]) > 0
        matrix.data = np.where(works, weight, np.inf)
        dist, pred, _ = dijkstra(matrix, directed=True, indices=r.entry, min_only=True,
                                 return_predecessors=True, limit=top + 1.0)
        fee = np.asarray(dist, dtype=np.float64)[r.src] + r.charged  # to v through each pair
        # u reached only through v says nothing about reaching v (a leaf's one neighbour):
        # pairs whose source the sample reached via v, one or two hops back, are left out
        up = np.asarray(pred, dtype=np.int64)[r.src]
        back = (up == r.dst) | ((up >= 0) & (np.asarray(pred)[np.maximum(up, 0)] == r.dst))
        fee[back] = np.inf
        for b, limit in enumerate(limits):
            ends = np.flatnonzero(fee <= limit)
            total = np.bincount(r.dst[ends], log_fail[ends], minlength=n)
            sums[0, b] -= np.expm1(total)
            moved = shifted[fee[shifted] <= limit]
            sums[1, b] -= np.expm1(total + np.bincount(r.dst[moved], blind_shift[moved],
                                                       minlength=n))
    return sums[0] / len(draws), sums[1] / len(draws)


def _pair_log_fail(starts: IntArray, r: _AmountRoutes, p_dir: FloatArray) -> FloatArray:
    """log P(no parallel channel of each usable pair carries the amount) from the usable
    directions' own success probabilities (`p_dir`, in `order[usable]`)."""
    log_fail = np.zeros(r.usable.shape[0])
    log_fail[r.usable] = np.log1p(-np.minimum(p_dir, 1.0 - 1e-12))
    pair_log_fail = np.add.reduceat(log_fail, starts) if starts.size else np.zeros(0)
    return np.asarray(pair_log_fail[r.ok], dtype=np.float64)
