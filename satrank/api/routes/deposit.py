"""Deposits: buy a bundle of credits at a tiered price, then use it as any L402 token.

`GET /api/deposit/tiers` lists the tiers. `POST /api/deposit {"amount": <sat>}` answers an
invoice and a macaroon bound to it; after paying, the client sends
`Authorization: L402 <macaroon>:<preimage>` like after any 402. Nothing is granted here:
the macaroon is worthless without the preimage only our node's invoice reveals.

Both answer in the `data` envelope, and the body follows the house convention
(api/body.py): not JSON 400 MALFORMED_JSON, a bad field 422 VALIDATION_ERROR naming it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from satrank.api import paywall_metrics as metrics
from satrank.api.body import int_in, invalid_field, json_object
from satrank.api.paywall import challenge_details
from satrank.api.state import api_state

MAX_DEPOSIT_SAT = 10_000_000


@dataclass(frozen=True)
class DepositTier:
    min_sat: int
    credits_per_sat: int  # integral, so credits = amount * credits_per_sat exactly

    @property
    def sat_per_credit(self) -> float:
        return 1.0 / self.credits_per_sat


# 1.0, 0.5, 0.2, 0.1 and 0.05 sat per credit
TIERS = (
    DepositTier(21, 1),
    DepositTier(1_000, 2),
    DepositTier(10_000, 5),
    DepositTier(100_000, 10),
    DepositTier(1_000_000, 20),
)
MIN_DEPOSIT_SAT = TIERS[0].min_sat


def tier_for(amount_sat: int) -> DepositTier:
    if not MIN_DEPOSIT_SAT <= amount_sat <= MAX_DEPOSIT_SAT:
        raise ValueError("amount out of bounds")
    return [t for t in TIERS if t.min_sat <= amount_sat][-1]


def _tier_json(tier: DepositTier) -> dict[str, Any]:
    return {"minSat": tier.min_sat, "satPerCredit": tier.sat_per_credit,
            "creditsPerSat": tier.credits_per_sat}


async def deposit_tiers(request: Request) -> JSONResponse:
    return JSONResponse({"data": {
        "tiers": [_tier_json(t) for t in TIERS],
        "minSat": MIN_DEPOSIT_SAT,
        "maxSat": MAX_DEPOSIT_SAT,
    }})


async def _amount_of(request: Request) -> int:
    body = await json_object(request, frozenset({"amount"}))
    # int_in refuses booleans: `true` must not buy 1 sat of credits
    amount = int_in(body, "amount", MIN_DEPOSIT_SAT, MAX_DEPOSIT_SAT)
    if amount is None:
        raise invalid_field("amount", f"an integer between {MIN_DEPOSIT_SAT} and "
                                      f"{MAX_DEPOSIT_SAT}")
    return amount


async def create_deposit(request: Request) -> JSONResponse:
    amount = await _amount_of(request)
    tier = tier_for(amount)
    credits = amount * tier.credits_per_sat
    challenge = await api_state(request).paywall.mint(
        request.scope, credits=credits, amount_sat=amount,
        memo=f"SatRank deposit: {credits} API credits")
    metrics.DEPOSITS.inc()
    return JSONResponse(
        {"data": {**challenge_details(challenge), "tier": _tier_json(tier),
                  "usage": "pay the invoice, then send Authorization: L402 "
                           "<macaroon>:<preimage hex>"}},
        headers={"Cache-Control": "no-store"},
    )


routes = [
    Route("/api/deposit/tiers", deposit_tiers, methods=["GET"]),
    Route("/api/deposit", create_deposit, methods=["POST"]),
]
