"""bench/transfer_ceiling.py: pairing the dump's rows, the transfer ratio, and the
recalibrations fitted on B's outcomes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from scipy.special import expit, logit

from bench.transfer_ceiling import ceiling_row, paired_rows, read_rows, refit, transfer
from satrank.scoring.intent import MODEL_ROUTE_SHARE


def _row(payer: str, node: str, amount: int, budget: str, outcome: str, *, p: float = 0.8,
         aware: float = 0.8, theta: float = 0.8, routes: float = 0.5, moved: bool = True,
         repeat: bool = False) -> dict[str, object]:
    return {"payer": payer, "pubkey": node, "amount_sat": amount, "budget": budget,
            "outcome": outcome, "repeat": repeat, "p": p, "aware": aware,
            "aware_theta": theta, "p_routes_up": routes, "moved": float(moved)}


def test_rows_pair_by_node_amount_and_budget_without_repeats_or_our_errors(
        tmp_path: Path) -> None:
    rows = [_row("oracle", "n1", 10_000, "tight", "reached", aware=0.9),
            _row("vantage-1", "n1", 10_000, "tight", "failed_in_route", aware=0.3),
            _row("oracle", "n1", 10_000, "normal", "reached"),  # B did not pay it this way
            _row("vantage-1", "n2", 10_000, "tight", "reached"),  # A did not pay n2
            _row("oracle", "n3", 10_000, "tight", "reached"),
            _row("vantage-1", "n3", 10_000, "tight", "error: LightningRejected"),
            _row("oracle", "n4", 10_000, "tight", "reached", repeat=True),
            _row("vantage-1", "n4", 10_000, "tight", "reached", repeat=True)]
    dump = tmp_path / "dump.json"
    dump.write_text("".join(json.dumps(r) + "\n" for r in rows))
    pairs = paired_rows(read_rows(dump))
    assert len(pairs) == 1
    assert pairs.y_a.tolist() == [1.0] and pairs.y_b.tolist() == [0.0]
    assert pairs.aware_a.tolist() == [0.9] and pairs.aware_b.tolist() == [0.3]


def _world(rng: np.random.Generator, n: int, cell_shift: float) -> list[dict[str, object]]:
    """A and B pay the same nodes; B's outcomes follow theta alone, shifted down in the
    second of two cells by `cell_shift` in log-odds (what B's own first hops would do)."""
    rows = []
    for i in range(n):
        theta = float(rng.uniform(0.3, 0.97))
        routes = float(rng.uniform(0.05, 0.9))
        cell = ("tight", "normal")[i % 2]
        x = logit(theta) - (cell_shift if cell == "normal" else 0.0)
        served = float(expit((1 - MODEL_ROUTE_SHARE) * logit(theta)
                             + MODEL_ROUTE_SHARE * logit(routes)))
        for payer, success in (("oracle", rng.random() < theta),
                               ("vantage-1", rng.random() < expit(x))):
            rows.append(_row(payer, f"n{i}", 100_000, cell,
                             "reached" if success else "failed_at_target", p=theta,
                             aware=theta if payer == "oracle" else served, theta=theta,
                             routes=routes))
    return rows


def test_the_refits_never_lose_to_the_served_mix_and_cells_find_what_b_knows() -> None:
    pairs = paired_rows(_world(np.random.default_rng(3), 4_000, cell_shift=1.5))
    served = transfer(pairs.aware_a, pairs.aware_b, pairs)
    fitted, coefficients = refit(pairs)
    with_cells, _ = refit(pairs, cells=True)
    assert transfer(pairs.aware_a, fitted, pairs) <= served
    # B's outcomes do not follow the route model here: the refit finds a slope near 0
    assert abs(coefficients[1]) < 0.2
    # the shift lives in one cell: only its own intercept can take it
    assert transfer(pairs.aware_a, with_cells, pairs) < transfer(pairs.aware_a, fitted,
                                                                  pairs) - 0.05


def test_b_paying_exactly_as_a_costs_nothing() -> None:
    rng = np.random.default_rng(5)
    rows = []
    for i in range(200):
        p = float(rng.uniform(0.1, 0.9))
        outcome = "reached" if rng.random() < p else "failed_in_route"
        rows += [_row(payer, f"n{i}", 10_000, "normal", outcome, p=p, aware=p, moved=False)
                 for payer in ("oracle", "vantage-1")]
    row, coefficients = ceiling_row(paired_rows(rows))
    assert row == {"reference": 0.0, "aware": 0.0, "refit": 0.0, "+ B's cells": 0.0}
    assert coefficients.size == 0  # nothing mixed: nothing to fit
