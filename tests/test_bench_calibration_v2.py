"""bench/calibration_v2.py: reading model v2's stored grid (real Postgres, a real scoring
pass), the budgets, the coverage count and the held-out plan."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

import asyncpg
import numpy as np
import pytest
from scipy.special import betaincinv

from bench.calibration_v2 import (
    AMOUNTS_SAT,
    BUDGETS,
    MIN_REPEATS,
    Payer,
    beta_of,
    budget_sat,
    coverage,
    model_p,
    node_bootstrap,
    plan_rows,
    predictive_coverage,
    top_bucket_by_state,
    transfer_by_cell,
)
from satrank.api.quote import Basis, quote
from satrank.db.nodes import fetch_nodes
from satrank.scoring.budgets import NORMAL
from tests.scoring_graphs import pubkey
from tests.test_api_amounts import _score as score_small_world


async def _read(dsn: str, nodes: list[int], amounts: list[float], limits: list[float]
                ) -> tuple[tuple[np.ndarray, ...], dict[str, tuple[float, float, float]]]:
    """model_p's answer, and the api's quote at the named normal budget per node at 100k."""
    conn = await asyncpg.connect(dsn)
    try:
        got = await model_p(conn, [pubkey(n) for n in nodes], np.array(amounts),
                            np.array(limits), "any payer")
        api = {n.pubkey: quote(n.grid, Basis(100_000, NORMAL, NORMAL.limit_sat(100_000)))
               for n in await fetch_nodes(conn, [pubkey(n) for n in nodes], ())
               if n.grid is not None}
    finally:
        await conn.close()
    return got, api


def test_model_p_reads_the_v2_grid_at_the_payments_amount_and_fee_budget(db_dsn: str) -> None:
    asyncio.run(score_small_world(db_dsn))
    # node 2 sits behind node 1, which charges 11 sat to forward 100k: over a 10-sat
    # budget, within the normal one (505 sat) and a 1 % one (clamped to normal)
    (p, lo, hi), api = asyncio.run(_read(
        db_dsn, [2, 2, 2, 2, 3], [100_000, 100_000, 100_000, 10_000, 500_000],
        [10, budget_sat("normal", 100_000), budget_sat("1pct", 100_000), 10, 2_505]))
    assert (p[0], hi[0]) == (0.0, 0.0)  # no route within the tight budget
    assert (p[1], lo[1], hi[1]) == pytest.approx(api[pubkey(2)])  # the api's very answer
    assert (p[2], lo[2], hi[2]) == pytest.approx(api[pubkey(2)])
    assert p[3] > 0  # 10k costs 2 sat: within the tight budget
    assert p[4] == 0.0  # 500k does not fit node 3's 50k channel
    assert np.all((lo <= p) & (p <= hi))


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


def test_beta_of_recovers_the_beta_behind_a_mean_and_an_interval() -> None:
    a, b = 30.0, 2.5
    lo, hi = betaincinv(a, b, 0.025), betaincinv(a, b, 0.975)
    assert beta_of(a / (a + b), lo, hi) == pytest.approx((a, b), rel=1e-6)


def test_predictive_coverage_compares_counts_with_the_betas_predictive_set() -> None:
    n = MIN_REPEATS
    pubkeys = ["sure"] * n + ["low"] * n + ["half"] * n
    y = np.array([1.0] * n + [1.0] * n + [1.0] * (n // 2) + [0.0] * (n - n // 2))
    beta = {"sure": (60.0, 0.6), "low": (3.0, 7.0), "half": (20.0, 20.0)}
    a = np.array([beta[k][0] for k in pubkeys])
    b = np.array([beta[k][1] for k in pubkeys])
    p, lo, hi = a / (a + b), betaincinv(a, b, 0.025), betaincinv(a, b, 0.975)
    every = np.ones(len(y), dtype=bool)
    assert hi[0] < 1.0  # a rate of 1 is outside sure's interval for p ...
    nodes, inside = coverage(every, pubkeys, y, lo, hi)
    assert nodes == 3 and inside == pytest.approx(1 / 3)
    # ... and n of n is what such a node does most of the time; low's n of n is not
    nodes, inside = predictive_coverage(every, pubkeys, y, p, lo, hi)
    assert nodes == 3 and inside == pytest.approx(2 / 3)


def test_transfer_by_cell_puts_the_excess_where_b_failed() -> None:
    # two nodes x two cells, A's rows then B's paired ones; B failed both rows of the
    # 1M tight cell that A reached, the 10k normal cell went the same for both
    cells = [(10_000, "normal"), (1_000_000, "tight")] * 4
    p = np.full(8, 0.9)
    y = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 1.0, 0.0])
    main_a = np.array([True] * 4 + [False] * 4)
    got = transfer_by_cell(p, y, main_a, ~main_a, cells)
    assert [t[0] for t in got] == [(1_000_000, "tight"), (10_000, "normal")]
    assert got[0][1:4] == (2, 2, 0)
    assert got[0][4] == pytest.approx(2 * (0.81 - 0.01))
    assert got[1][4] == pytest.approx(0.0)


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


def test_the_transfer_interval_resamples_nodes() -> None:
    """B's errors twice A's on every node: the ratio's interval is +100 % on the dot; the
    same errors on both sides but spread over few nodes: an interval around 0 whose width
    says how few."""
    rng = np.random.default_rng(1)
    node = np.repeat(np.arange(50), 4)
    node = np.concatenate([node, node])
    sa = np.arange(node.size) < node.size // 2
    err = np.where(sa, 0.1, 0.2)
    lo, hi = node_bootstrap(err, sa, ~sa, node, rng)
    assert lo == pytest.approx(1.0) and hi == pytest.approx(1.0)
    spiky = np.zeros(node.size)
    spiky[[3, 210, 250]] = 1.0  # one bad row for A (node 0), two for B (nodes 2, 12)
    lo, hi = node_bootstrap(spiky, sa, ~sa, node, rng)
    assert lo < 0.0 < 1.0 < hi  # +100 % measured, and nothing excluded


def test_the_top_bucket_is_split_by_the_state_at_the_end_of_training() -> None:
    p = np.array([0.95, 0.99, 0.97, 0.5, 0.99])
    y = np.array([1.0, 0.0, 0.0, 1.0, 1.0])
    state = np.array([1.0, 1.0, 0.0, 1.0, 0.0])
    sel = np.array([True, True, True, True, False])  # the last row is not B's
    got = top_bucket_by_state(p, y, state, sel)
    assert got[0] == ("succeeded at training end", 2, pytest.approx(0.97), 0.5)
    assert got[1] == ("failed at training end", 1, pytest.approx(0.97), 0.0)
    assert top_bucket_by_state(p, y, state, sel & (state > 0.5))[1:] == []
