"""Unit: the probe priority queue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from satrank.crawler.scheduler import ProbeBudget, plan_probes

NOW = datetime(2025, 10, 25, 12, tzinfo=UTC)
BUDGET = ProbeBudget(cooldown_s=3600, stale_s=86_400, node_daily_cap=3, daily_cap_left=100)
TIERS = (10_000, 100_000, 1_000_000)


def _plan(n: int, last: dict[str, datetime], today: dict[str, int] | None = None,
          budget: ProbeBudget = BUDGET, requested: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    nodes = ["a", "b", "c", "d", "e"]
    plan = plan_probes(nodes, [5.0, 4.0, 3.0, 2.0, 1.0], n=n, now=NOW, last_probed=last,
                       probes_today=today or {}, budget=budget, tiers_sat=TIERS,
                       rng=np.random.default_rng(1), requested=requested)
    assert all(p.amount_sat in TIERS for p in plan)
    return [(p.pubkey, p.reason) for p in plan]


def test_priority_order_requested_never_stale_random() -> None:
    last = {"a": NOW - timedelta(hours=2), "b": NOW - timedelta(days=3),
            "c": NOW - timedelta(days=2)}
    got = _plan(5, last, requested=("a",))
    assert got[:4] == [("a", "requested"), ("d", "never"), ("e", "never"), ("b", "stale")]
    assert got[4] == ("c", "stale")


def test_cooldown_and_caps() -> None:
    last = {"a": NOW - timedelta(minutes=10), "b": NOW - timedelta(days=2)}
    got = _plan(5, last, today={"b": 3})
    assert {p for p, _ in got} == {"c", "d", "e"}  # a cooling down, b at its daily cap
    capped = ProbeBudget(3600, 86_400, 3, daily_cap_left=2)
    assert len(_plan(5, {}, budget=capped)) == 2
    assert _plan(0, {}) == []


def test_random_fill_is_reproducible_for_a_seed() -> None:
    last = {p: NOW - timedelta(hours=5) for p in "abcde"}
    assert _plan(3, last) == _plan(3, last)
    assert all(reason == "random" for _, reason in _plan(3, last))
