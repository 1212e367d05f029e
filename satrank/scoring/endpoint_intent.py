"""An intent on an L402 endpoint: the registry's stage posteriors combined with the payee
node's intent answer for this caller and the endpoint's price (docs/intent.md).

The registry's own payment stage is paid from our node; the caller's payment is what the
node intent answers. So the stage it measured is replaced, not multiplied in twice:

    p = p(challenge) x p(invoice) x p(delivery) x p_payment(caller, price)

over the stages the registry has observed. The interval: each factor's 95 % ends as
distances from its p in log scale, added in quadrature (the factors are independent
evidence), around the product; a factor whose low end is 0 makes the low end 0. Putting
every factor at its own end at once would be far wider than 95 %.

Decision, first matching rule wins (thresholds of scoring/intent.py):
1. avoid    no payee node known or reachable, the payment's own decision is avoid, the
            endpoint is RISKY, or p < AVOID_P;
2. proceed  p >= PROCEED_P, ci95 low >= PROCEED_CI_LOW, the endpoint SAFE and the
            payment's decision proceed;
3. caution  otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from satrank.scoring.intent import (
    AVOID_P,
    PROCEED_CI_LOW,
    PROCEED_P,
    Decision,
    IntentP,
    proceed_reason,
    short_of_proceed,
)
from satrank.scoring.registry import StagePosterior

# The stages whose posteriors enter the product; the payment is the caller's own.
ENDPOINT_STAGES = ("challenge", "invoice", "delivery")

URL_THRESHOLDS = {
    "proceed": f"pSuccess >= {PROCEED_P} and ci95 low >= {PROCEED_CI_LOW}, the endpoint "
               "SAFE and the payment's own decision proceed",
    "avoid": f"pSuccess < {AVOID_P}, the endpoint RISKY, no payee node known or reachable, "
             "or the payment's own decision avoid",
    "caution": "anything else",
}


@dataclass(frozen=True)
class PaymentPart:
    """The payee node's intent answer (None fields: no payee node to ask about)."""

    decision: Decision | None
    p: float
    ci95_low: float
    ci95_high: float


def combine(stages: Sequence[StagePosterior], payment: PaymentPart) -> IntentP:
    """p and its interval (module docstring)."""
    factors = [(payment.p, payment.ci95_low, payment.ci95_high)] + [
        (s.p, s.ci95_low, s.ci95_high) for s in stages if s.stage in ENDPOINT_STAGES]
    p = math.prod(f[0] for f in factors)
    basis: Literal["node_score_conditioned", "no_route"] = (
        "node_score_conditioned" if payment.decision is not None else "no_route")
    if p <= 0.0 or any(low <= 0.0 for _, low, _ in factors):
        return IntentP(p, 0.0, max(p, min(1.0, math.prod(f[2] for f in factors))), basis)
    down = math.sqrt(sum(math.log(f / low) ** 2 for f, low, _ in factors))
    up = math.sqrt(sum(math.log(high / f) ** 2 for f, _, high in factors))
    return IntentP(p, min(p * math.exp(-down), p), min(1.0, max(p * math.exp(up), p)), basis)


def decide_endpoint(result: IntentP, verdict: str | None, payment: PaymentPart,
                    endpoint_reasons: Sequence[str]) -> tuple[Decision, list[str]]:
    """The decision and the reasons that made it (module docstring); the endpoint's own
    reasons (`stage:REASON`) follow, as the registry names them."""
    avoid: list[str] = []
    if payment.decision is None:
        avoid.append("the endpoint's payee node is unknown or not in the public graph")
    elif payment.decision == "avoid":
        avoid.append("paying the endpoint's payee node is not advised (see payment)")
    if verdict == "RISKY":
        avoid.append("the endpoint's verdict is RISKY")
    if result.p < AVOID_P:
        avoid.append(f"pSuccess {result.p:.2f} is below {AVOID_P}")
    own = [f"endpoint {r}" for r in endpoint_reasons]
    if avoid:
        return "avoid", avoid + own
    caution: list[str] = []
    if verdict != "SAFE":
        caution.append(f"the endpoint's verdict is {verdict or 'INSUFFICIENT'}")
    if payment.decision == "caution":
        caution.append("the payment to the endpoint's payee node needs caution (see payment)")
    caution += short_of_proceed(result)
    if caution:
        return "caution", caution + own
    return "proceed", [proceed_reason(result)] + own
