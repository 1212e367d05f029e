"""Which nodes to probe next, at which amount and fee budget: pure (time and randomness
are arguments).

Probes go where they inform most (issue 15 item 5). A node's value for the next probe is

    value = gain x demand x staleness

- gain: the expected information gain of one probe about the node's p at an amount
  (`scoring.information.beta_information_gain` of its Beta posterior at that amount);
  each node is probed at the tier where the gain is largest (on a tie, the default tier:
  verdict and rank stand on it).
- demand: how many payers the answer serves: PageRank relative to the mean node, plus,
  per ask through the API in the request window (`probe_requests`, api/middleware/
  interest.py), as much as the most central node.
- staleness: 1 + (1 - 2^(-age / stale_s)): from 1 right after a probe to 2 for a node
  never probed, so old evidence is renewed before recent evidence.

A node never probed, or probed but still short of the evidence a verdict needs (n_eff
below MIN_EVIDENCE, at most UNSETTLED_PROBES_PER_DAY probes a day), counts as informative
as the most uncertain node: a probe that leaves it INSUFFICIENT decides nothing.

Nodes probed within `cooldown_s`, or at their per-node daily cap, are skipped; the round
is cut to what remains of the global daily cap. Nodes asked about through the API come
first whatever their gain (an agent waits for that answer; a graph-only prior near 0 or
1 would otherwise keep them last), most valuable first; then every other node by value.
On a fresh deployment every posterior is its prior, gains differ by a small factor and
demand decides: the most requested, then the highest-ranked nodes are probed first.

A share `sample_share` of the round (CRAWL_PROBE_SAMPLE_SHARE) goes to nodes drawn
uniformly at random among the eligible ones the value order left out, at an amount drawn
uniformly among the tiers the node has a route for (reason "sample"). Choosing by value
re-probes the uncertain nodes, those that failed, so the value-chosen probes
over-represent flaky nodes; the population fits (the liveness rate mu, the graph prior's
link: `scoring.model`) read the sample probes, an unbiased slice of the eligible nodes,
once there are enough of them.
The sample slots come out of the value-ordered part, never out of the requested nodes.

Each probe carries its fee limit: the fee budgets being estimated, tight (a fixed
`tight_fee_sat`, 10 sat by default) and normal (0.5 % + 5 sat of the amount), in turn
(value-chosen and sample probes each half and half).

Probes go only where the graph leaves the answer open. A cell (amount, budget) the
reference payer has no route for within the budget (the scoring pass's largest routable
amount, `scores.max_routable_sat`, is below the amount) is answered by the graph: lnd
would make no attempt (outcome no_route), and the probe would say nothing about the
node's liveness or liquidity. So a node is probed at the tiers it has a route for, at a
budget that has one (the drawn budget, else the other), and a node with no route at any
tier and budget is not probed at all. On simnet's mainnet snapshot 38 % of the crawler's
probes ended no_route before this rule (bench/RESULTS.md).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from satrank.scoring.budgets import NORMAL
from satrank.scoring.graph import BoolArray, FloatArray
from satrank.scoring.information import beta_information_gain
from satrank.scoring.tiers import DEFAULT_TIER_SAT
from satrank.scoring.verdict import MIN_EVIDENCE

FEE_BUDGETS = ("tight", "normal")
# Added to the queue priority of a requested node: the queue sends it before any row
# nobody asked about, this round's or an older one's (values stay far below it).
REQUESTED_PRIORITY = 1e12
# Probes a day a node short of a verdict's evidence gets at the value of a never-probed
# one: twice what a verdict needs, as probes that fail inside the route count nothing
# (an unroutable node must not draw probes all day on that account).
UNSETTLED_PROBES_PER_DAY = int(2 * MIN_EVIDENCE)


@dataclass(frozen=True)
class PlannedProbe:
    pubkey: str
    amount_sat: int
    reason: str  # requested | never | stale | gain | sample
    fee_limit_sat: int | None = None  # None: the round's default
    priority: float = 0.0  # queue order: higher is sent first


@dataclass(frozen=True)
class ProbeBudget:
    cooldown_s: float
    stale_s: float
    node_daily_cap: int
    daily_cap_left: int


@dataclass(frozen=True)
class ProbeCandidates:
    """The nodes that may be probed, with what the value of a probe depends on."""

    pubkeys: Sequence[str]
    pagerank: FloatArray  # (n,)
    alpha: FloatArray  # (n, tiers): Beta posterior of p at each tier
    beta: FloatArray  # (n, tiers)
    asks: FloatArray  # (n,): asks through the API in the request window
    # (n,): effective observations behind the default verdict; None: not known
    n_eff: FloatArray | None = None
    # (n, len(FEE_BUDGETS)): the largest amount with a route within each budget (0: none,
    # +inf: not known); None: every cell has a route
    max_routable_sat: FloatArray | None = None


def routable_cells(c: ProbeCandidates, tiers_sat: Sequence[int]) -> BoolArray:
    """(n, tiers, len(FEE_BUDGETS)): whether the reference payer has a route for each tier
    within each budget, by the scoring pass's largest routable amounts."""
    n = len(c.pubkeys)
    if c.max_routable_sat is None:
        return np.ones((n, len(tiers_sat), len(FEE_BUDGETS)), dtype=bool)
    tiers = np.asarray(tiers_sat, dtype=np.float64)
    caps = np.asarray(c.max_routable_sat, dtype=np.float64).reshape(n, len(FEE_BUDGETS))
    return np.asarray(tiers[None, :, None] <= caps[:, None, :], dtype=bool)


def _budget_with_route(drawn: str, routes: BoolArray) -> str:
    """The drawn fee budget when the cell has a route within it, else one that has
    (`routes`: per FEE_BUDGETS, at least one True)."""
    if routes[FEE_BUDGETS.index(drawn)]:
        return drawn
    return FEE_BUDGETS[int(np.argmax(routes))]


def fee_limit_sat(budget: str, amount_sat: int, *, tight_fee_sat: int) -> int:
    """The fee limit of a probe at `budget` ("tight" or "normal") for `amount_sat`."""
    if budget == "tight":
        return tight_fee_sat
    return NORMAL.whole_limit_sat(amount_sat)


def probe_values(c: ProbeCandidates, *, age_s: FloatArray, stale_s: float,
                 prefer_tier: int = 0, unsettled: BoolArray | None = None,
                 tier_ok: BoolArray | None = None) -> tuple[FloatArray, np.ndarray]:
    """(value of probing each node, index of the tier where it informs most; among tiers
    that inform equally, `prefer_tier`). `unsettled` nodes count like never-probed ones.
    `tier_ok` (n, tiers): the tiers a probe may use (a route exists); a node with none
    is worth 0."""
    gain = beta_information_gain(c.alpha, c.beta)
    if tier_ok is not None and gain.size:
        gain = np.where(tier_ok, gain, -np.inf)
    tier = np.argmax(gain, axis=1) if gain.size else np.zeros(len(c.pubkeys), dtype=np.int64)
    if gain.size:
        # Before any probe the graph prior often gives every tier the same posterior and
        # argmax took the smallest amount, whose reach says nothing about the default
        # tier's cell that verdict and rank stand on: on a tie probe that cell instead.
        tied = np.isclose(gain[:, prefer_tier], gain.max(axis=1), rtol=1e-9, atol=0.0)
        tier = np.where(tied, prefer_tier, tier)
    best = gain[np.arange(len(c.pubkeys)), tier] if gain.size else np.zeros(0)
    best = np.where(np.isfinite(best), best, 0.0)
    # A never-probed node's posterior is the graph prior alone, however narrow the fitted
    # prior makes it: its first probe checks the prior itself, so it counts as informative
    # as the most uncertain node and demand (rank, asks) orders a fresh deployment.
    # So does a probed node still short of the evidence a verdict needs: the fitted prior
    # calls it nearly known, yet its verdict is INSUFFICIENT until probes confirm it.
    never = np.isinf(np.asarray(age_s, dtype=np.float64))
    if unsettled is not None:
        never = never | unsettled
    best = np.where(never, best.max(initial=0.0), best)
    pagerank = np.maximum(np.asarray(c.pagerank, dtype=np.float64), 0.0)
    mean = float(pagerank.mean()) if pagerank.size and pagerank.mean() > 0 else 1.0
    centrality = pagerank / mean
    ask_weight = max(1.0, float(centrality.max(initial=0.0)))
    demand = centrality + ask_weight * np.asarray(c.asks, dtype=np.float64)
    staleness = 2.0 - np.exp2(-np.asarray(age_s, dtype=np.float64) / stale_s)
    return np.asarray(best * demand * staleness, dtype=np.float64), tier


def plan_probes(c: ProbeCandidates, *, n: int, now: datetime,
                last_probed: Mapping[str, datetime], probes_today: Mapping[str, int],
                budget: ProbeBudget, tiers_sat: Sequence[int], rng: np.random.Generator,
                tight_fee_sat: int, default_tier_sat: int = DEFAULT_TIER_SAT,
                sample_share: float = 0.0) -> list[PlannedProbe]:
    """Up to min(n, budget.daily_cap_left) probes, one per node, in queue order (highest
    priority first): the requested, then by value, `sample_share` of n (taken from the
    value part) drawn uniformly among the eligible nodes left; a node whose tiers inform
    equally is probed at `default_tier_sat` (when a tier)."""
    n = max(0, min(n, budget.daily_cap_left))
    if n == 0 or not c.pubkeys:
        return []
    cooldown = now - timedelta(seconds=budget.cooldown_s)
    age_s = np.array([math.inf if p not in last_probed else
                      max(0.0, (now - last_probed[p]).total_seconds()) for p in c.pubkeys])
    routes = routable_cells(c, tiers_sat)
    tier_ok: BoolArray = np.any(routes, axis=2)
    eligible = np.array([(p not in last_probed or last_probed[p] <= cooldown)
                         and probes_today.get(p, 0) < budget.node_daily_cap
                         for p in c.pubkeys], dtype=bool) & np.any(tier_ok, axis=1)
    prefer = list(tiers_sat).index(default_tier_sat) if default_tier_sat in tiers_sat else 0
    unsettled = None if c.n_eff is None else (
        (np.asarray(c.n_eff, dtype=np.float64) < MIN_EVIDENCE)
        & np.array([probes_today.get(p, 0) < UNSETTLED_PROBES_PER_DAY for p in c.pubkeys],
                   dtype=bool))
    value, tier = probe_values(c, age_s=age_s, stale_s=budget.stale_s, prefer_tier=prefer,
                               unsettled=unsettled, tier_ok=tier_ok)
    asks = np.asarray(c.asks, dtype=np.float64)
    asked = asks > 0
    # the most requested first whatever their gain (a payer is waiting on them), then value
    ranked = [i for i in np.lexsort((np.array(c.pubkeys), -value, -asks)) if eligible[i]]
    n_asked = min(n, int((asked & eligible).sum()))
    # the floor, so a round never spends more than its share; the epsilon keeps products
    # such as 0.29 x 100 = 28.999... at their decimal value
    n_sample = min(n - n_asked, math.floor(sample_share * n + 1e-9))
    order = ranked[:n - n_sample]
    budgets = rng.permutation(np.resize(np.array(FEE_BUDGETS), len(order)))
    plan = []
    for i, drawn in zip(order, budgets.tolist(), strict=True):
        amount = int(tiers_sat[int(tier[i])])
        fee_budget = _budget_with_route(str(drawn), routes[i, int(tier[i])])
        reason = ("requested" if c.asks[i] > 0 else "never" if np.isinf(age_s[i])
                  else "stale" if age_s[i] >= budget.stale_s else "gain")
        plan.append(PlannedProbe(c.pubkeys[i], amount, reason,
                                 fee_limit_sat(str(fee_budget), amount,
                                               tight_fee_sat=tight_fee_sat),
                                 float(value[i]) + REQUESTED_PRIORITY * bool(asked[i])))
    sample = _sample_probes(ranked[len(order):], n_sample, c.pubkeys,
                            [float(value[i]) for i in order[n_asked:]], tiers_sat=tiers_sat,
                            rng=rng, tight_fee_sat=tight_fee_sat, routes=routes)
    if not sample:
        return plan
    # in queue order: among the value probes, after those of at least their priority
    at = n_asked + sum(p.priority >= sample[0].priority for p in plan[n_asked:])
    return plan[:at] + sample + plan[at:]


def _sample_probes(left: Sequence[int], k: int, pubkeys: Sequence[str],
                   round_values: Sequence[float], *, tiers_sat: Sequence[int],
                   rng: np.random.Generator, tight_fee_sat: int,
                   routes: BoolArray) -> list[PlannedProbe]:
    """`k` probes of nodes drawn uniformly among `left` (indices into `pubkeys`, each with
    a route at some tier), each at a tier drawn uniformly among those with a route, half
    of them at each fee budget (the other where the drawn one has no route)."""
    k = min(k, len(left))
    if k == 0:
        return []
    drawn = rng.choice(np.asarray(left, dtype=np.int64), size=k, replace=False)
    tier = rng.choice(len(tiers_sat), size=k)
    tier_ok: BoolArray = np.any(routes[drawn], axis=2)  # (k, tiers)
    for j in np.flatnonzero(~tier_ok[np.arange(k), tier]).tolist():
        tier[j] = int(rng.choice(np.flatnonzero(tier_ok[j])))
    amounts = np.asarray(tiers_sat, dtype=np.int64)[tier]
    budgets = [_budget_with_route(str(b), routes[i, t]) for b, i, t in zip(
        rng.permutation(np.resize(np.array(FEE_BUDGETS), k)).tolist(), drawn.tolist(),
        tier.tolist(), strict=True)]
    # Queued on the value probes' scale, at the round's median value: with 0 they would
    # wait behind every value row of later rounds and be the first left unsent when a
    # round is not drained (a worker gone, a backlog), the unbiased slice shrinking
    # exactly when the crawler is loaded; above every value row they would delay the
    # probes that inform most.
    priority = float(np.median(round_values)) if round_values else 0.0
    return [PlannedProbe(pubkeys[int(i)], int(a), "sample",
                         fee_limit_sat(str(b), int(a), tight_fee_sat=tight_fee_sat), priority)
            for i, a, b in zip(drawn.tolist(), amounts.tolist(), budgets, strict=True)]


def assign_vantages(targets: Sequence[str], live: Sequence[str],
                    counts: Mapping[str, Mapping[str, int]]) -> list[str | None]:
    """The vantage each planned probe should be sent from, so that every node's evidence
    comes from several vantage points: the live vantage that probed the target least,
    ties to the one given least of this round so far, then by pubkey. With fewer than
    two live vantages, None (any worker)."""
    if len(live) < 2:
        return [None] * len(targets)
    given = dict.fromkeys(live, 0)
    chosen: list[str | None] = []
    for target in targets:
        seen = counts.get(target, {})
        best = min(live, key=lambda v: (seen.get(v, 0), given[v], v))
        given[best] += 1
        chosen.append(best)
    return chosen
