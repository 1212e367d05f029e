"""POST /api/intent on an L402 endpoint URL: the registry's report on the endpoint
(registry/report.py) and the payee node's intent answer at the endpoint's price, combined
into one decision (scoring/endpoint_intent.py, docs/intent.md "Endpoint targets").

An endpoint the registry does not list answers 404 after payment (refunded, as every 4xx
is) and says how to register it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from satrank.api.cache.intent import IntentSnapshot
from satrank.api.errors import ApiError
from satrank.api.intent_input import IntentRequest
from satrank.api.routes.services import service_block, stage_blocks
from satrank.db.pool import Pool
from satrank.registry.report import EndpointReport, endpoint_report
from satrank.scoring.endpoint_intent import (
    URL_THRESHOLDS,
    PaymentPart,
    combine,
    decide_endpoint,
)
from satrank.scoring.payment import normal_fee_budget_sat

NodeAnswer = Callable[[IntentSnapshot, IntentRequest, float], dict[str, Any]]


def service_not_found() -> ApiError:
    return ApiError(404, "NOT_FOUND", "no L402 endpoint with this URL in the registry; "
                    "register it with POST /api/services (nothing was charged)",
                    details={"resource": "service", "register": "POST /api/services"})


def _payment_request(parsed: IntentRequest, report: EndpointReport) -> IntentRequest | None:
    """The node intent for paying the endpoint: its payee at its price (the caller's
    `amount_sat` only while the registry has seen no price), the caller as given."""
    if report.payee_pubkey is None:
        return None
    amount = report.score.price_sat or parsed.amount_sat
    fee = parsed.max_fee_sat if parsed.max_fee_given else normal_fee_budget_sat(amount)
    return dataclasses.replace(parsed, node=("pubkey", report.payee_pubkey), url=None,
                               amount_sat=amount, max_fee_sat=fee)


def _payment(snapshot: IntentSnapshot, request: IntentRequest | None, now: float,
             node_answer: NodeAnswer) -> dict[str, Any] | None:
    if request is None or request.node is None or snapshot.lookup(*request.node) is None:
        return None  # no invoice seen yet, or a payee outside the public graph
    return node_answer(snapshot, request, now)


def _part(payment: dict[str, Any] | None) -> PaymentPart:
    if payment is None:
        return PaymentPart(None, 0.0, 0.0, 0.0)
    return PaymentPart(payment["decision"], payment["pSuccess"], payment["ci95Low"],
                       payment["ci95High"])


async def answer_url(pool: Pool, snapshot: IntentSnapshot, parsed: IntentRequest, *,
                     now: float, half_life_s: float, node_answer: NodeAnswer
                     ) -> dict[str, Any]:
    assert parsed.url is not None
    report = await endpoint_report(pool, parsed.url, now=datetime.fromtimestamp(now, UTC),
                                   half_life_s=half_life_s)
    if report is None:
        raise service_not_found()
    request = _payment_request(parsed, report)
    payment = _payment(snapshot, request, now, node_answer)
    part = _part(payment)
    score = report.score
    result = combine(score.stages, part)
    decision, reasons = decide_endpoint(result, score.verdict, part, score.reasons)
    return {
        "decision": decision,
        "reasons": reasons,
        "thresholds": URL_THRESHOLDS,
        "pSuccess": result.p,
        "ci95Low": result.ci95_low,
        "ci95High": result.ci95_high,
        "basis": "endpoint_stages_x_payment" if payment is not None else "no_payee",
        "amountSat": None if request is None else request.amount_sat,
        "priceSat": score.price_sat,
        "endpoint": {  # scored now, not as of the registry's last check
            **service_block(dataclasses.replace(
                report.service, p_success=score.p_success, uptime=score.uptime,
                median_latency_ms=score.median_latency_ms, verdict=score.verdict,
                reasons=score.reasons, price_sat=score.price_sat)),
            "stages": stage_blocks(score.stages),
        },
        "payment": payment,
        "snapshotAt": int(snapshot.built_unix),
        "scoredAt": int(now),
    }
