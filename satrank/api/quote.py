"""What a published p_success is about (amount, fee budget, reference payer, timeout), and
the answer for any amount and budget from a node's stored grid.

`/api/agent/{id}?amount_sat=N&fee_budget=tight|normal|<sat>`: the amount is interpolated
in log-amount between the grid's amounts; a budget in sat between the named budgets' limits
at that amount (in log-limit), clamped to the tightest and loosest. The 95 % interval comes
from the interpolated Beta parameters of the cell (scaled by route existence). Where the
node's largest routable amount per budget is stored (a ladder finer than the grid), the
answer above it is 0 and below it is read from the cells that have a route only.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from satrank.api.errors import ApiError
from satrank.db.nodes import ScoreGrid
from satrank.scoring.budgets import (
    BUDGETS_BY_NAME,
    DEFAULT_BUDGET,
    LND_PAYMENT_TIMEOUT_S,
    MAX_AMOUNT_SAT,
    FeeBudget,
)
from satrank.scoring.grid import interpolate
from satrank.scoring.tiers import DEFAULT_TIER_SAT

MAX_FEE_BUDGET_SAT = 1_000_000


@dataclass(frozen=True)
class Basis:
    """The payment a p_success is about: `budget` is a named budget, or None with
    `fee_limit_sat` given in sat by the client."""

    amount_sat: int
    budget: FeeBudget | None
    fee_limit_sat: float

    def block(self, payer: str | None) -> dict[str, Any]:
        return {"amountSat": self.amount_sat,
                "feeBudget": self.budget.name if self.budget else "custom",
                "feeLimitSat": round(self.fee_limit_sat, 3),
                "payer": payer or "reference",
                "timeoutS": LND_PAYMENT_TIMEOUT_S}


DEFAULT_BASIS = Basis(DEFAULT_TIER_SAT, DEFAULT_BUDGET, DEFAULT_BUDGET.limit_sat(DEFAULT_TIER_SAT))


def _invalid(field: str, must: str) -> ApiError:
    return ApiError(400, "INVALID_PARAMETER", f"{field} must be {must}",
                    details={"field": field})


def parse_basis(query: dict[str, str] | Any) -> Basis | None:
    """The requested amount and budget; None when the client asked for neither."""
    raw_amount, raw_budget = query.get("amount_sat"), query.get("fee_budget")
    if raw_amount is None and raw_budget is None:
        return None
    amount = DEFAULT_TIER_SAT
    if raw_amount is not None:
        if not re.fullmatch(r"\d{1,9}", raw_amount) or not 1 <= int(raw_amount) <= MAX_AMOUNT_SAT:
            raise _invalid("amount_sat", f"an integer between 1 and {MAX_AMOUNT_SAT}")
        amount = int(raw_amount)
    if raw_budget is None:
        return Basis(amount, DEFAULT_BUDGET, DEFAULT_BUDGET.limit_sat(amount))
    if raw_budget in BUDGETS_BY_NAME:
        budget = BUDGETS_BY_NAME[raw_budget]
        return Basis(amount, budget, budget.limit_sat(amount))
    if re.fullmatch(r"\d{1,7}", raw_budget) and int(raw_budget) <= MAX_FEE_BUDGET_SAT:
        return Basis(amount, None, float(raw_budget))
    raise _invalid("fee_budget", "tight, normal or an integer number of sat between 0 and "
                   f"{MAX_FEE_BUDGET_SAT}")


Cell = tuple[float, float, float, float, float, float]


def _routed(grid: ScoreGrid, budget_row: int, amount_sat: int
            ) -> tuple[list[int], list[list[float]], bool | None]:
    """The grid amounts and (p, alpha, beta) cells to read at `amount_sat`, and whether a
    route exists there (None: as the cells say). With the node's largest routable amount
    stored: the cells that have a route (beyond the last one, its theta), and a route up to
    that amount only, so a capacity cliff between two grid amounts no longer drags the
    whole gap down. Without it (scored before it was stored): every cell, as before."""
    a = len(grid.amounts_sat)
    rows = slice(budget_row * a, (budget_row + 1) * a)
    cells = [list(v) for v in zip(grid.p[rows], grid.alpha[rows], grid.beta[rows],
                                  strict=True)]
    caps = grid.max_routable_sat
    if caps is None or len(caps) != len(grid.budgets):
        return list(grid.amounts_sat), cells, None
    cap = caps[budget_row]
    keep = [i for i, amount in enumerate(grid.amounts_sat) if amount <= cap and cells[i][0] > 0]
    if not keep:
        return list(grid.amounts_sat), cells, None if amount_sat <= cap else False
    return ([grid.amounts_sat[i] for i in keep], [cells[i] for i in keep],
            amount_sat <= cap)


def _cell(grid: ScoreGrid, budget_row: int, amount_sat: int) -> Cell:
    """(p, ci95_low, ci95_high) of one budget row at `amount_sat`, then the same for theta,
    the part given a route (the cell's Beta, before route existence scales it)."""
    amounts, cells, has_route = _routed(grid, budget_row, amount_sat)
    values = np.array(cells, dtype=np.float64)  # (A, 3): p, alpha, beta
    if len(amounts) == 1:
        p, alpha, beta = values[0].tolist()
    else:
        p, alpha, beta = interpolate(amounts, values, float(amount_sat), np.arange(3)).tolist()
    theta = alpha / (alpha + beta) if alpha + beta > 0 else 0.0
    if has_route is not None:
        p = theta if has_route else 0.0
    route = p / theta if theta > 0 else 0.0  # the share of the cell with a route
    # scipy.special costs the api ~0.25 s of start-up: loaded on the first such request
    from scipy.special import betaincinv  # noqa: PLC0415

    from satrank.scoring.posterior import CI_LEVEL  # noqa: PLC0415

    tail = (1.0 - CI_LEVEL) / 2.0
    low, high = betaincinv(alpha, beta, [tail, 1.0 - tail]).tolist()
    return p, route * low, route * high, theta, low, high


def quote(grid: ScoreGrid, basis: Basis) -> tuple[float, float, float]:
    """(p_success, ci95_low, ci95_high) for the basis from the node's grid."""
    return quote_cells(grid, basis)[:3]


def quote_given_route(grid: ScoreGrid, basis: Basis) -> tuple[float, float, float]:
    """(theta, ci95_low, ci95_high): the same reading of the grid's Beta parts, before the
    reference payer's route existence scales them (a payer with its own routes)."""
    return quote_cells(grid, basis)[3:]


def quote_cells(grid: ScoreGrid, basis: Basis) -> Cell:
    limits = []
    for i, name in enumerate(grid.budgets):
        known = BUDGETS_BY_NAME.get(name)
        if known is not None:
            limits.append((known.limit_sat(basis.amount_sat), i, known))
    if not limits:
        raise ApiError(503, "SCORES_OUTDATED", "the stored grid names no known fee budget")
    limits.sort(key=lambda t: t[0])
    if basis.budget is not None:
        row = next((i for _, i, b in limits if b == basis.budget), limits[-1][1])
        return _cell(grid, row, basis.amount_sat)
    limit = basis.fee_limit_sat
    if limit <= limits[0][0]:
        return _cell(grid, limits[0][1], basis.amount_sat)
    for (lo_lim, lo_row, _), (hi_lim, hi_row, _) in zip(limits, limits[1:], strict=False):
        if limit <= hi_lim:
            t = math.log(limit / lo_lim) / math.log(hi_lim / lo_lim) if hi_lim > lo_lim else 1.0
            lo, hi = _cell(grid, lo_row, basis.amount_sat), _cell(grid, hi_row, basis.amount_sat)
            mixed = tuple((1.0 - t) * x + t * y for x, y in zip(lo, hi, strict=True))
            return mixed[0], mixed[1], mixed[2], mixed[3], mixed[4], mixed[5]
    return _cell(grid, limits[-1][1], basis.amount_sat)
