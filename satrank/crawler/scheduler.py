"""Which nodes to probe next, at which amount: a pure priority queue (time and randomness
are arguments).

Priority classes, in order: (0) recently asked about through the API (`requested`: the
`probe_requests` table the api fills from node lookups, see api/middleware/interest.py), (1) never
probed, (2) stale (last probe older than `stale_s`, oldest first), (3) a random sample of
the rest. Within a class, higher PageRank first for classes 0-1 (more payers care), so
the order is deterministic for a given rng. Nodes probed within `cooldown_s`, or at their
per-node daily cap, are skipped; the round is cut to what remains of the global daily cap.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

# Share of probes per tier (smallest to largest); the default tier gets most.
DEFAULT_TIER_WEIGHTS = (0.25, 0.5, 0.25)


@dataclass(frozen=True)
class PlannedProbe:
    pubkey: str
    amount_sat: int
    reason: str  # requested | never | stale | random
    fee_limit_sat: int | None = None  # None: the round's default
    priority: float = 0.0  # queue order: higher is sent first


@dataclass(frozen=True)
class ProbeBudget:
    cooldown_s: float
    stale_s: float
    node_daily_cap: int
    daily_cap_left: int


def tier_weights(n_tiers: int) -> np.ndarray:
    if n_tiers == len(DEFAULT_TIER_WEIGHTS):
        return np.array(DEFAULT_TIER_WEIGHTS)
    return np.full(n_tiers, 1.0 / n_tiers)


def plan_probes(candidates: Sequence[str], importance: Sequence[float], *, n: int,
                now: datetime, last_probed: Mapping[str, datetime],
                probes_today: Mapping[str, int], budget: ProbeBudget,
                tiers_sat: Sequence[int], rng: np.random.Generator,
                requested: Sequence[str] = ()) -> list[PlannedProbe]:
    """Up to min(n, budget.daily_cap_left) probes, one per node, best-first."""
    n = max(0, min(n, budget.daily_cap_left))
    if n == 0 or not candidates:
        return []
    weight = dict(zip(candidates, importance, strict=True))
    cooldown = now - timedelta(seconds=budget.cooldown_s)
    stale = now - timedelta(seconds=budget.stale_s)

    def eligible(p: str) -> bool:
        last = last_probed.get(p)
        return (last is None or last <= cooldown) and \
            probes_today.get(p, 0) < budget.node_daily_cap

    chosen: list[tuple[str, str]] = []
    seen: set[str] = set()

    def take(pubkeys: Sequence[str], reason: str) -> None:
        for p in pubkeys:
            if len(chosen) >= n:
                return
            if p not in seen and p in weight and eligible(p):
                seen.add(p)
                chosen.append((p, reason))

    take(list(requested), "requested")
    never = [p for p in candidates if p not in last_probed]
    take(sorted(never, key=lambda p: (-weight[p], p)), "never")
    old = [p for p in candidates if p in last_probed and last_probed[p] <= stale]
    take(sorted(old, key=lambda p: (last_probed[p], p)), "stale")
    if len(chosen) < n:
        rest = [p for p in candidates if p not in seen]
        take([rest[i] for i in rng.permutation(len(rest))], "random")
    tiers = rng.choice(np.array(tiers_sat), size=len(chosen), p=tier_weights(len(tiers_sat)))
    return [PlannedProbe(p, int(t), reason)
            for (p, reason), t in zip(chosen, tiers.tolist(), strict=True)]
