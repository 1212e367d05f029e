"""Graph-only baselines for bench/calibration_v2.py: what a payer computes alone from the
public graph and its own channels. Every per-channel estimator comes from
satrank/scoring/liquidity.py; this module only finds routes and multiplies.

Route finding: the cheapest path by fees from the payer (its own channels are free and it
knows their local balances) over enabled channel directions whose capacity and max_htlc
admit the amount. Fees are taken on the amount itself (the fee on downstream fees, about
ppm^2 of it, is left out). A row is ROUTABLE when that path's fee fits the budget; the other
rows are decided by the graph, and every baseline says 0 there. Per routable row:

- `apriori`: lnd's apriori estimator, the product over the route's public hops;
- `bimodal`: lnd's bimodal P(liquidity >= amount) without knowledge, product over the route;
- `bimodal_mc`: lnd's bimodal prior sampled per channel (both directions share the
  capacity) and the payment retried with each failing channel pruned, as lnd does. Pruning
  never removes a channel that could carry the amount, so the retries succeed exactly when
  some path within the budget has enough liquidity on every hop: one search per sample
  decides every row. lnd's 60 s payment timeout (a cap on attempts) is not modelled;
- `uniform`: Pickhardt's (c + 1 - a) / (c + 1), product over the route;
- `any_inbound`: 1 - 0.4^k over the target's k usable inbound channel directions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from satrank.scoring.graph import GraphArrays
from satrank.scoring.liquidity import (
    LND_BIMODAL_SCALE_SAT,
    any_inbound_success,
    apriori_hop,
    bimodal_success,
    uniform_success,
)
from satrank.scoring.payment import forward_fee_sat

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

BASELINES = ("apriori", "bimodal", "bimodal_mc", "uniform", "any_inbound")
# Each hop costs this much more than its fee, so that among equal fees (zero-fee channels
# are common) the shorter path wins and no edge weighs 0 (sparse graphs drop zeros).
HOP_EPS_SAT = 1e-6
_BUDGET_SLACK_SAT = 1e-3  # covers the hop epsilons of any path (< 1,000 hops)


@dataclass(frozen=True)
class PayerView:
    """The public graph and the payer's own channels; the payer is node `graph.n_nodes`."""

    graph: GraphArrays
    own_peer: IntArray  # graph index of each own channel's peer (-1: not in the graph)
    own_local_sat: FloatArray
    own_active: BoolArray

    @property
    def payer(self) -> int:
        return self.graph.n_nodes


@dataclass(frozen=True)
class _Directed:
    """Every channel direction a payment can take: public ones, then the payer's own."""

    src: IntArray
    dst: IntArray
    capacity_sat: FloatArray
    fee_base_msat: FloatArray
    fee_rate_ppm: FloatArray
    max_htlc_msat: FloatArray  # 0: no limit announced
    enabled: BoolArray
    channel: IntArray  # edge index into the graph (-1: an own channel)
    direction: IntArray  # 0: node1 -> node2
    own_local_sat: FloatArray  # NaN for public directions

    @property
    def public(self) -> BoolArray:
        return np.asarray(self.channel >= 0)


@dataclass(frozen=True)
class BaselineRows:
    """Per row: whether a route within the budget exists, its fee, each baseline's p."""

    routable: BoolArray
    fee_sat: FloatArray  # the cheapest route's fee (inf: none)
    p: dict[str, FloatArray]


def _directed(view: PayerView) -> _Directed:
    g = view.graph
    own = view.own_peer >= 0
    n_own = int(own.sum())
    zeros = np.zeros(n_own)
    return _Directed(
        src=np.concatenate([g.node1, g.node2, np.full(n_own, view.payer)]).astype(np.int64),
        dst=np.concatenate([g.node2, g.node1, view.own_peer[own]]).astype(np.int64),
        capacity_sat=np.concatenate([g.capacity_sat, g.capacity_sat,
                                     np.asarray(view.own_local_sat[own], dtype=np.float64)]),
        fee_base_msat=np.concatenate([g.fee_base_msat[0], g.fee_base_msat[1], zeros]),
        fee_rate_ppm=np.concatenate([g.fee_rate_ppm[0], g.fee_rate_ppm[1], zeros]),
        max_htlc_msat=np.concatenate([g.max_htlc_msat[0], g.max_htlc_msat[1], zeros]),
        enabled=np.concatenate([g.has_policy[0] & ~g.disabled[0],
                                g.has_policy[1] & ~g.disabled[1], view.own_active[own]]),
        channel=np.concatenate([np.arange(g.n_edges), np.arange(g.n_edges),
                                np.full(n_own, -1)]).astype(np.int64),
        direction=np.concatenate([np.zeros(g.n_edges), np.ones(g.n_edges),
                                  np.zeros(n_own)]).astype(np.int64),
        own_local_sat=np.concatenate([np.full(2 * g.n_edges, np.nan),
                                      np.asarray(view.own_local_sat[own], dtype=np.float64)]),
    )


def _usable(d: _Directed, amount_sat: float) -> BoolArray:
    """Directions the payer's pathfinding admits for `amount_sat` (its own by local balance)."""
    htlc_ok = (d.max_htlc_msat <= 0) | (d.max_htlc_msat >= amount_sat * 1000.0)
    return np.asarray(d.enabled & (d.capacity_sat >= amount_sat) & htlc_ok, dtype=bool)


def _fee_sat(d: _Directed, amount_sat: float) -> FloatArray:
    return np.asarray(forward_fee_sat(d.fee_base_msat, d.fee_rate_ppm, amount_sat),
                      dtype=np.float64)


def _cheapest(n: int, d: _Directed, by_pair: IntArray, keep: BoolArray, weight: FloatArray,
              source: int, limit: float, *, routes: bool = True
              ) -> tuple[FloatArray, IntArray, dict[int, int]]:
    """Dijkstra from `source` over the kept directions (`by_pair`: every direction sorted
    by source, destination, weight): distances and, with `routes`, predecessors and, per
    (u, v) key u * n + v, the direction the search used (the cheapest of parallel ones)."""
    order = by_pair[keep[by_pair]]
    s, t = d.src[order], d.dst[order]
    first = np.ones(order.shape[0], dtype=bool)
    first[1:] = (s[1:] != s[:-1]) | (t[1:] != t[:-1])
    best = order[first]
    matrix = csr_matrix((weight[best], (d.src[best], d.dst[best])), shape=(n, n))
    if not routes:
        dist = dijkstra(matrix, directed=True, indices=source, limit=limit)
        return np.asarray(dist, dtype=np.float64), np.zeros(0, dtype=np.int64), {}
    dist, pred = dijkstra(matrix, directed=True, indices=source, return_predecessors=True,
                          limit=limit)
    pair = {int(u) * n + int(v): int(e)
            for u, v, e in zip(d.src[best], d.dst[best], best, strict=True)}
    return np.asarray(dist, dtype=np.float64), np.asarray(pred, dtype=np.int64), pair


def _route(pred: IntArray, pair: dict[int, int], n: int, source: int, target: int
           ) -> list[int]:
    """The directions of the search's path from `source` to `target` (reachable)."""
    hops: list[int] = []
    v = target
    while v != source:
        u = int(pred[v])
        hops.append(pair[u * n + v])
        v = u
    return hops[::-1]


def sample_liquidity(capacity_sat: FloatArray, samples: int, rng: np.random.Generator, *,
                    scale_sat: float = LND_BIMODAL_SCALE_SAT) -> FloatArray:
    """(samples, E) draws of node1's side of each channel from lnd's bimodal prior (the
    density `bimodal_success` integrates): exp(-x/s) and exp((x-c)/s), each of mass
    s (1 - e^(-c/s)), and the uniform 1/c of mass 1, drawn as that mixture (exact; inverting
    `bimodal_success` by bisection took a minute on the mainnet graph).
    tests/test_bench_baselines.py checks the draws against `bimodal_success`."""
    c = np.broadcast_to(np.maximum(np.asarray(capacity_sat, dtype=np.float64), 1.0),
                        (samples, capacity_sat.shape[0]))
    edge_mass = scale_sat * -np.expm1(-c / scale_sat)  # of each exponential, on [0, c]
    pick = rng.random(c.shape) * (2.0 * edge_mass + 1.0)
    u = rng.random(c.shape)
    near_zero = -scale_sat * np.log1p(-u * -np.expm1(-c / scale_sat))  # truncated exponential
    draw = np.where(pick < edge_mass, near_zero,
                    np.where(pick < 2.0 * edge_mass, c - near_zero, u * c))
    return np.asarray(np.clip(draw, 0.0, c), dtype=np.float64)


def baselines(view: PayerView, targets: IntArray, amount_sat: float, budget_sat: FloatArray,
              *, liquidity: FloatArray) -> BaselineRows:
    """Every baseline for rows (targets[i], amount_sat, budget_sat[i]) from the payer;
    a target of -1 (not in the payer's graph) has no route. `liquidity` comes from
    `sample_liquidity` over the same graph (its rows are the Monte Carlo samples)."""
    n = view.payer + 1
    d = _directed(view)
    usable = _usable(d, amount_sat)
    weight = np.where(d.public, _fee_sat(d, amount_sat), 0.0) + HOP_EPS_SAT
    limit = float(np.max(budget_sat, initial=0.0)) + _BUDGET_SLACK_SAT
    by_pair = np.lexsort((weight, d.dst, d.src)).astype(np.int64)
    dist, pred, pair = _cheapest(n, d, by_pair, usable, weight, view.payer, limit)
    present = targets >= 0
    fee = np.full(targets.shape[0], np.inf)
    fee[present] = dist[targets[present]]
    routable = fee <= budget_sat + _BUDGET_SLACK_SAT
    fee = np.where(routable, fee, np.inf)

    per_hop = {"apriori": apriori_hop(amount_sat, d.capacity_sat),
               "bimodal": bimodal_success(amount_sat, d.capacity_sat),
               "uniform": uniform_success(amount_sat, d.capacity_sat)}
    p = {name: np.zeros(targets.shape[0]) for name in BASELINES}
    for i in np.flatnonzero(routable):
        hops = [e for e in _route(pred, pair, n, view.payer, int(targets[i])) if d.public[e]]
        for name, hop_p in per_hop.items():
            p[name][i] = float(np.prod(hop_p[hops])) if hops else 1.0

    inbound = np.bincount(d.dst[usable], minlength=n)
    p["any_inbound"] = np.where(
        routable, any_inbound_success(inbound[np.maximum(targets, 0)].astype(np.float64)), 0.0)

    carried = np.zeros(targets.shape[0])
    for forward in liquidity:
        side = np.where(d.direction == 0, forward[np.maximum(d.channel, 0)],
                        d.capacity_sat - forward[np.maximum(d.channel, 0)])
        fits = usable & np.where(d.public, side >= amount_sat, True)
        sample_dist, _, _ = _cheapest(n, d, by_pair, fits, weight, view.payer, limit,
                                      routes=False)
        reached = np.full(targets.shape[0], np.inf)
        reached[present] = sample_dist[targets[present]]
        carried += reached <= budget_sat + _BUDGET_SLACK_SAT
    p["bimodal_mc"] = carried / max(1, liquidity.shape[0])
    return BaselineRows(routable=routable, fee_sat=fee, p=p)
