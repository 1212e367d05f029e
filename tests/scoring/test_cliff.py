"""Unit: a node whose route stops between two grid amounts (a capacity cliff) is read at
any amount from its largest routable amount, not by interpolating across the cliff."""

from __future__ import annotations

import numpy as np
import pytest

from satrank.api.quote import Basis, quote
from satrank.db.nodes import ScoreGrid
from satrank.scoring.budgets import NORMAL, TIGHT
from satrank.scoring.engine import ScoreResult, ScoringInputs, score_nodes
from satrank.scoring.evidence import empty_probe_evidence
from satrank.scoring.reach import LADDER_MAX_RATIO, amount_ladder
from satrank.scoring.route_cache import RouteCache
from tests.scoring_graphs import arrays_from_graph, pubkey, small_graph

NOW = 1_761_364_800.0
CLIFF = 600_000  # node 2's only channel: reachable at the 300k grid amount, not at 1M


@pytest.fixture(scope="module")
def result() -> ScoreResult:
    # payer 0 -> 1 over a large channel, 1 -> 2 over 600k
    g = arrays_from_graph(small_graph(3, [(0, 1, 5_000_000), (1, 2, CLIFF)]))
    return score_nodes(ScoringInputs(g, 900_000, empty_probe_evidence(),
                                     payer_pubkeys=(pubkey(0),)), now_unix=NOW)


def _grid(result: ScoreResult, node: int, *, with_max: bool = True) -> ScoreGrid:
    model = result.model
    cells = [np.asarray(c)[:, :, node].reshape(-1).tolist()
             for c in (model.p_success(), model.alpha(), model.beta())]
    return ScoreGrid(model.amounts_sat, tuple(b.name for b in model.budgets), *map(tuple, cells),
                     result.payer, tuple(result.max_routable_sat[:, node].tolist())
                     if with_max else None)


def _p(grid: ScoreGrid, amount: int) -> float:
    return quote(grid, Basis(amount, NORMAL, NORMAL.limit_sat(amount)))[0]


def test_the_ladder_holds_the_grid_and_steps_at_most_the_ratio() -> None:
    grid = (1_000, 3_000, 10_000, 30_000, 100_000, 300_000, 1_000_000, 5_000_000)
    ladder = amount_ladder(grid)
    assert set(grid) <= set(ladder) and list(ladder) == sorted(ladder)
    assert max(b / a for a, b in zip(ladder, ladder[1:], strict=False)) <= LADDER_MAX_RATIO
    assert len(ladder) == 23


def test_max_routable_amount_finds_the_capacity_cliff(result: ScoreResult) -> None:
    normal = result.model.budgets.index(NORMAL)
    found = result.max_routable_sat[normal, 2]
    assert CLIFF / LADDER_MAX_RATIO <= found <= CLIFF
    assert result.max_routable_sat[normal, 1] == 990_000  # the 5M channel's max_htlc
    # tight (10 sat): node 1's fee stops 100k, a fee cliff that stays on a ladder rung
    tight = result.model.budgets.index(TIGHT)
    assert result.max_routable_sat[tight, 2] in amount_ladder(result.model.amounts_sat)
    assert result.max_routable_sat[tight, 2] < 100_000


def test_quote_between_grid_amounts_does_not_drag_across_the_cliff(
        result: ScoreResult) -> None:
    grid = _grid(result, 2)
    at_300k = _p(grid, 300_000)
    assert at_300k > 0.3
    assert _p(grid, 500_000) == pytest.approx(at_300k, rel=0.05)
    low, high = quote(grid, Basis(500_000, NORMAL, NORMAL.limit_sat(500_000)))[1:]
    assert 0 < low < at_300k < high
    assert quote(grid, Basis(700_000, NORMAL, NORMAL.limit_sat(700_000))) == (0.0, 0.0, 0.0)
    # the straight line in log-amount between the 300k cell and the 1M cell (no route)
    assert _p(_grid(result, 2, with_max=False), 500_000) < 0.6 * at_300k


def test_the_ladder_is_searched_once_per_graph() -> None:
    cache = RouteCache()
    g = arrays_from_graph(small_graph(3, [(0, 1, 5_000_000), (1, 2, CLIFF)]))
    args = {"free_sources": True, "amounts_sat": (1_000, 1_000_000),
            "budgets": (NORMAL,)}
    first = cache.routes(g, np.array([0]), **args)  # type: ignore[arg-type]
    again = cache.routes(g, np.array([0]), **args)  # type: ignore[arg-type]
    assert again is first and cache.searches == 1
    assert first.max_routable_sat[0, 2] == CLIFF
