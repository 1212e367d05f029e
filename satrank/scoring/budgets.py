"""What `p_success` is about: the one definition of the fee budgets, the amount grid and
the payment timeout (no imports, so config, the crawler and the api read it cheaply).

p_success(node, amount, fee_budget, payer) = the probability that a payment of `amount`
with at most `fee_budget` in routing fees, sent by `payer` (by default our reference
payer, the vantage node(s)), reaches the node within lnd's default payment timeout, with
lnd's retries. `docs/methodology.md` §0 states it for clients.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:  # numpy for the types only: this module imports nothing at run time
    import numpy as np
    import numpy.typing as npt

_Amounts = TypeVar("_Amounts", int, "npt.NDArray[np.float64]")

# lnd's default payment timeout (lncli payinvoice --timeout, routerrpc's timeout_seconds).
LND_PAYMENT_TIMEOUT_S = 60


@dataclass(frozen=True)
class FeeBudget:
    """A fee limit of `base_sat + amount * ppm / 1e6` sat."""

    name: str
    base_sat: float
    ppm: float

    def limit_sat(self, amount_sat: float) -> float:
        return self.base_sat + amount_sat * self.ppm / 1e6

    def whole_limit_sat(self, amount_sat: _Amounts) -> _Amounts:
        """The limit in whole sat as a payer sets it (lnd's fee_limit_sat), rounded up; for
        one amount or an array of whole-sat amounts (the scoring of stored probes)."""
        return int(self.base_sat) + -(-amount_sat * int(self.ppm) // 1_000_000)

    def describe(self) -> str:
        if self.ppm == 0:
            return f"{self.base_sat:g} sat"
        return f"{self.ppm / 1e4:g} % + {self.base_sat:g} sat"


# A wallet that refuses to pay more than 10 sat in fees (the crawler's historical limit).
TIGHT = FeeBudget("tight", 10.0, 0.0)
# An ordinary payer: 0.5 % of the amount + 5 sat.
NORMAL = FeeBudget("normal", 5.0, 5_000.0)
BUDGETS = (TIGHT, NORMAL)
DEFAULT_BUDGET = NORMAL
BUDGETS_BY_NAME = {b.name: b for b in BUDGETS}


def budget_of_limit(limit_sat: float, amount_sat: float) -> FeeBudget:
    """The loosest named budget a fixed fee limit (the crawler's probe limit) covers at
    `amount_sat`; the tightest when it covers none."""
    covered = [b for b in BUDGETS if b.limit_sat(amount_sat) <= limit_sat]
    return max(covered, key=lambda b: b.limit_sat(amount_sat)) if covered else \
        min(BUDGETS, key=lambda b: b.limit_sat(amount_sat))

# Every node's p_success is stored on this grid (budgets x amounts) and interpolated in
# log-amount at read time; it holds the probed tiers (10k, 100k, 1M) exactly.
AMOUNT_GRID_SAT = (1_000, 3_000, 10_000, 30_000, 100_000, 300_000, 1_000_000, 5_000_000)
MIN_AMOUNT_SAT = AMOUNT_GRID_SAT[0]
MAX_AMOUNT_SAT = AMOUNT_GRID_SAT[-1]
