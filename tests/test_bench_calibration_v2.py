"""bench/calibration_v2.py's pure parts: reading the model between tiers, the budgets,
the coverage count and the held-out plan."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest

from bench.calibration_v2 import (
    AMOUNTS_SAT,
    BUDGETS,
    MIN_REPEATS,
    Payer,
    budget_sat,
    coverage,
    interpolate_tiers,
    plan_rows,
)

TIERS = (10_000, 100_000, 1_000_000)


def test_tier_values_interpolate_in_log_amount_and_stay_flat_beyond_the_tiers() -> None:
    values = (0.9, 0.7, 0.1)
    assert interpolate_tiers(TIERS, values, 100_000) == pytest.approx(0.7)
    # 50k is log10 4.699: 69.9 % of the way from 10k to 100k
    assert interpolate_tiers(TIERS, values, 50_000) == pytest.approx(0.9 - 0.2 * 0.69897)
    assert interpolate_tiers(TIERS, values, 500_000) == pytest.approx(0.7 - 0.6 * 0.69897)
    assert interpolate_tiers(TIERS, values, 1_000) == pytest.approx(0.9)
    assert interpolate_tiers(TIERS, values, 5_000_000) == pytest.approx(0.1)


def test_budgets_are_tight_normal_and_one_percent() -> None:
    assert [budget_sat(k, 500_000) for k in BUDGETS] == [10, 2_505, 5_000]
    assert [budget_sat(k, 10_000) for k in BUDGETS] == [10, 55, 100]


def test_coverage_counts_only_nodes_with_enough_payments() -> None:
    n = MIN_REPEATS
    pubkeys = ["a"] * n + ["b"] * n + ["c"] * (n - 1)
    y = np.array([1.0] * (n // 2) + [0.0] * (n - n // 2) + [1.0] * n + [1.0] * (n - 1))
    lo = np.array([0.4] * n + [0.0] * n + [0.0] * (n - 1))
    hi = np.array([0.6] * n + [0.5] * n + [1.0] * (n - 1))
    nodes, inside = coverage(np.ones(len(y), dtype=bool), pubkeys, y, lo, hi)
    assert (nodes, inside) == (2, 0.5)  # a's 0.5 is inside, b's 1.0 is not, c is too short


def test_the_plan_pays_every_cell_from_b_and_a_subset_from_a() -> None:
    a = Payer("oracle", "", Path("oracle"), "pa")
    b = Payer("vantage-1", "", Path("vantage-1"), "pb")
    args = argparse.Namespace(slices=4, transfer_nodes=1, repeats=MIN_REPEATS)
    rows = plan_rows(["n1", "n2"], ["n2"], (a, b), args, np.random.default_rng(1))
    main = [r for r in rows if not r.repeat]
    cells = len(AMOUNTS_SAT) * len(BUDGETS)
    assert sum(r.payer == "vantage-1" for r in main) == 2 * cells
    assert {r.pubkey for r in main if r.payer == "oracle"} == {"n1"}
    assert sum(r.payer == "oracle" for r in main) == cells
    repeats = [r for r in rows if r.repeat]
    assert len(repeats) == MIN_REPEATS and {r.pubkey for r in repeats} == {"n2"}
    assert {r.slice for r in repeats} == set(range(4))
