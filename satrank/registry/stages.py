"""One check of one registered endpoint, stage by stage, as an agent would go through it:

1. challenge: the unpaid request answers 402 with a WWW-Authenticate that parses as L402
   (l402/headers.parse_challenge: Aperture's form or `LSAT`, any case and order); the
   provider key its `L402-Provider-Key` header carries is kept for the ownership claim;
2. invoice: the BOLT 11 decodes and its signature recovers a payee (lightning/bolt11.py);
   its amount is set and matches the advertised price, it is not expired, and the payee is
   a node our scores know, with its payment probability;
3. payment (only with a payer and a budget): the ledger reserves the amount plus the
   routing fee limit first (the daily budget holds in the database), then our node pays;
   sha256(preimage) must be the invoice's payment hash;
4. delivery: the request again with `Authorization: L402 <macaroon>:<preimage>` answers
   2xx within the fetch caps, with a content type;
5. quality (after a delivery): where the service declares a response schema, the body
   validates against it (registry/quality.py); `NO_SCHEMA` when none is declared.

Each stage is a `StageResult` with its latency and a reason code (OK or what failed); a
stage not reached is not reported. Every fetch goes through egress.fetch.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import httpx

from satrank.l402.headers import Challenge, Credential, MalformedCredential, parse_challenge
from satrank.lightning.backend import PaymentResult, PaymentStatus
from satrank.lightning.bolt11 import InvalidPaymentRequest, PaymentRequest, decode
from satrank.lightning.errors import LightningError
from satrank.registry import quality
from satrank.registry.egress import (
    EgressError,
    EgressPolicy,
    EgressResponse,
    Resolver,
    fetch,
    system_resolver,
)
from satrank.registry.manifest import PROVIDER_KEY_HEADER, provider_key

OK = "OK"
PAY_TIMEOUT_S = 60.0
PAY_FEE_LIMIT_SAT = 10
PAYEE_MIN_P = 0.2  # below this our probes say a payment to the payee mostly fails


@dataclass(frozen=True)
class StageResult:
    stage: str  # challenge | invoice | payment | delivery | quality
    ok: bool
    reason: str
    latency_ms: int
    price_sat: int | None = None
    payee_pubkey: str | None = None
    provider_pubkey: str | None = None  # challenge: the key its provider-key header names


@dataclass(frozen=True)
class Target:
    url: str
    method: str
    advertised_price_sat: int | None
    response_schema: quality.Schema | None = None  # declared by the manifest or OpenAPI


@runtime_checkable
class InvoicePayer(Protocol):
    """The one LND call the payment stage needs (the crawler's pay-macaroon client)."""

    async def pay_invoice(self, payment_request: str, *, fee_limit_sat: int,
                          timeout_s: float) -> PaymentResult: ...


@dataclass(frozen=True)
class Payments:
    """How the payment stage may spend: `reserve(hash, amount)` records the payment in the
    ledger before it is sent and says whether the budget allows it; `settle(hash, ok)`
    closes it."""

    payer: InvoicePayer
    reserve: Callable[[bytes, int], Awaitable[bool]]
    settle: Callable[[bytes, bool], Awaitable[None]]
    max_payment_sat: int


# payee pubkey hex -> our payment probability to it (None: a node we have not scored)
PayeeScore = Callable[[str], Awaitable[float | None]]


@dataclass
class _Clock:
    started: float = 0.0

    def start(self) -> None:
        self.started = time.monotonic()

    def ms(self) -> int:
        return int((time.monotonic() - self.started) * 1000)


async def check_endpoint(
    client: httpx.AsyncClient, target: Target, *, policy: EgressPolicy,
    payee_score: PayeeScore, now_unix: float, payments: Payments | None = None,
    resolver: Resolver = system_resolver,
) -> list[StageResult]:
    """Every stage this endpoint reaches, in order."""
    clock = _Clock()

    async def request(headers: dict[str, str]) -> EgressResponse:
        return await fetch(client, target.method, target.url, policy=policy, headers=headers,
                           resolver=resolver)

    clock.start()
    found = await _challenge(request)
    if isinstance(found, StageResult):
        return [_timed(found, clock.ms())]
    challenge, claimed, challenge_ms = found[0], found[1], clock.ms()
    results = [StageResult("challenge", True, OK, challenge_ms, provider_pubkey=claimed)]
    clock.start()
    invoice, invoice_result = await _invoice(challenge, target, payee_score, now_unix)
    results.append(_timed(invoice_result, clock.ms()))
    if invoice is None or payments is None:
        return results
    clock.start()
    preimage, payment_result = await _payment(invoice, challenge, payments)
    if payment_result is None:
        return results  # not paid: no budget left today, or above the payment cap
    results.append(_timed(payment_result, clock.ms()))
    if preimage is None:
        return results
    clock.start()
    credential = Credential((challenge.macaroon,), preimage).to_header()
    delivered, delivery_result = await _delivery(request, credential)
    results.append(_timed(delivery_result, clock.ms()))
    if delivered is None:
        return results
    clock.start()
    # validation is CPU work on a body up to the egress cap: off the event loop
    ok, reason = await asyncio.to_thread(quality.check_body, target.response_schema,
                                         delivered.body)
    results.append(StageResult("quality", ok, reason, clock.ms()))
    return results


def _timed(result: StageResult, latency_ms: int) -> StageResult:
    return dataclasses.replace(result, latency_ms=latency_ms)


async def _challenge(
    request: Callable[[dict[str, str]], Awaitable[EgressResponse]],
) -> tuple[Challenge, str | None] | StageResult:
    """(the challenge, the provider key its header names) or the failed stage"""
    def failed(reason: str) -> StageResult:
        return StageResult("challenge", False, reason, 0)

    try:
        response = await request({})
    except EgressError as exc:
        return failed(exc.reason)
    if response.status != 402:
        return failed("HTTP_5XX" if response.status >= 500 else "NOT_402")
    values = response.headers.get_list("www-authenticate")
    if not values:
        return failed("NO_CHALLENGE")
    for value in values:
        try:
            return parse_challenge(value), provider_key(response.headers.get(
                PROVIDER_KEY_HEADER))
        except MalformedCredential:
            continue
    return failed("MALFORMED_CHALLENGE")


async def _invoice(challenge: Challenge, target: Target, payee_score: PayeeScore,
                   now_unix: float) -> tuple[PaymentRequest | None, StageResult]:
    try:
        # decoding costs up to ~0.1 s of CPU on a long invoice: off the event loop
        invoice = await asyncio.to_thread(decode, challenge.invoice)
    except InvalidPaymentRequest:
        return None, StageResult("invoice", False, "INVOICE_INVALID", 0)
    payee = invoice.payee.hex()
    price = invoice.amount_msat // 1000 if invoice.amount_msat else None

    def result(ok: bool, reason: str) -> StageResult:
        return StageResult("invoice", ok, reason, 0, price, payee)

    if len(invoice.payee) != 33:
        return None, result(False, "INVOICE_INVALID")
    if price is None or invoice.amount_msat % 1000:
        return None, result(False, "NO_AMOUNT")
    if invoice.timestamp + invoice.expiry_s <= now_unix:
        return None, result(False, "INVOICE_EXPIRED")
    if target.advertised_price_sat is not None and price != target.advertised_price_sat:
        return None, result(False, "PRICE_MISMATCH")  # never pay what was not advertised
    p = await payee_score(payee)
    if p is None:
        return invoice, result(False, "PAYEE_UNKNOWN")
    if p < PAYEE_MIN_P:
        return invoice, result(False, "PAYEE_UNREACHABLE")
    return invoice, result(True, OK)


async def _payment(invoice: PaymentRequest, challenge: Challenge,
                   payments: Payments) -> tuple[bytes | None, StageResult | None]:
    price = invoice.amount_msat // 1000
    if price > payments.max_payment_sat:
        return None, None
    # the budget bounds what leaves our node: the amount and the most routing can cost
    if not await payments.reserve(invoice.payment_hash, price + PAY_FEE_LIMIT_SAT):
        return None, None

    def failed(reason: str) -> tuple[None, StageResult]:
        return None, StageResult("payment", False, reason, 0, price)

    try:
        paid = await payments.payer.pay_invoice(challenge.invoice,
                                                fee_limit_sat=PAY_FEE_LIMIT_SAT,
                                                timeout_s=PAY_TIMEOUT_S)
    except LightningError:
        await payments.settle(invoice.payment_hash, False)
        return failed("PAYMENT_ERROR")
    if paid.status is PaymentStatus.IN_FLIGHT:
        return failed("PAYMENT_IN_FLIGHT")  # stays counted in the budget: it may still pay
    if paid.status is not PaymentStatus.SUCCEEDED or paid.preimage is None:
        await payments.settle(invoice.payment_hash, False)
        return failed("PAYMENT_FAILED_" + (paid.failure_reason or "UNKNOWN").removeprefix(
            "FAILURE_REASON_"))
    await payments.settle(invoice.payment_hash, True)
    if hashlib.sha256(paid.preimage).digest() != invoice.payment_hash:
        return failed("PREIMAGE_MISMATCH")
    return paid.preimage, StageResult("payment", True, OK, 0, price)


async def _delivery(request: Callable[[dict[str, str]], Awaitable[EgressResponse]],
                    credential: str) -> tuple[EgressResponse | None, StageResult]:
    """(the delivered response when the stage passed, the stage's result)"""
    def result(ok: bool, reason: str) -> tuple[None, StageResult]:
        return None, StageResult("delivery", ok, reason, 0)

    try:
        response = await request({"Authorization": credential})
    except EgressError as exc:
        return result(False, exc.reason)
    if response.status == 402:
        return result(False, "NOT_DELIVERED")  # paid, and asked to pay again
    if response.status >= 500:
        return result(False, "HTTP_5XX")
    if not 200 <= response.status < 300:
        return result(False, "HTTP_4XX" if response.status >= 400 else "NOT_2XX")
    if not response.headers.get("content-type"):
        return result(False, "NO_CONTENT_TYPE")
    return response, StageResult("delivery", True, OK, 0)
