"""The L402 paywall as pure ASGI middleware: plumbing only; `PaywallGate` decides.

A request to a priced route is granted (credits debited, `request.state.l402` set),
bypassed by the operator (`request.state.operator`), throttled (429), told to retry
(503 CREDITS_BUSY: its last credits are held by another api process for a moment, see
l402/leases.py), or answered 402 with a FRESH challenge whose error code says why
(clients re-pay only on 402):

    MISSING -> PAYMENT_REQUIRED, INVALID -> TOKEN_INVALID,
    EXPIRED -> TOKEN_EXPIRED,    EXHAUSTED -> TOKEN_EXHAUSTED

Minting needs the Lightning node; verification never does, so paid requests keep working
while the node is down and only new challenges answer 503 with Retry-After.

Charging contract: credits are debited BEFORE the route runs (debiting after success
would let concurrent requests be served on credits they do not have). When the route
then fails on our side — its response starts with a 5xx (e.g. /api/probe's 503
PROBE_UNAVAILABLE or 504), or it raises before any response — the debit is undone
(the credits go back to the process's lease) before the response leaves, so the client
never pays for it. 4xx answers
(bad id, unknown node) are charged: the work was done on a request the client chose.
A client that disconnects mid-request is charged. Every granted response carries
`X-L402-Credits-Left` (after any refund).
"""

from __future__ import annotations

import datetime as dt
import math
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from satrank.api import l402_metrics as metrics
from satrank.api.client_ip import client_ip
from satrank.api.errors import ApiError, error_response
from satrank.api.prices import PricedRoute, PriceTable
from satrank.api.ratelimit import RateLimiter
from satrank.config import Settings
from satrank.l402.caveats import Refusal, RequestContext
from satrank.l402.gate import (
    Bypassed,
    ChallengeNeeded,
    CreditLedger,
    CreditsBusy,
    Granted,
    PaywallGate,
    Throttled,
)
from satrank.l402.headers import build_challenge
from satrank.l402.identifier import TOKEN_ID_SIZE
from satrank.l402.leases import LedgerUnavailable
from satrank.l402.mint import Challenge, InvoiceIssuer, InvoiceUnavailable, mint_challenge

LND_RETRY_AFTER_S = 5
LEDGER_RETRY_AFTER_S = 5
REFUSAL_CODES = {
    Refusal.MISSING: ("PAYMENT_REQUIRED", "payment required: pay the invoice, then send "
                      "Authorization: L402 <macaroon>:<preimage>"),
    Refusal.INVALID: ("TOKEN_INVALID", "the L402 credential is not valid; a new one is offered"),
    Refusal.EXPIRED: ("TOKEN_EXPIRED", "the L402 token has expired; a new one is offered"),
    Refusal.EXHAUSTED: ("TOKEN_EXHAUSTED", "the L402 token has too few credits left; "
                        "a new one is offered"),
}


@dataclass(frozen=True)
class L402Grant:
    """What a granted route finds in `request.state.l402`."""

    token_id: str  # hex
    credits_left: int


def _iso(unix: int) -> str:
    return dt.datetime.fromtimestamp(unix, dt.UTC).isoformat().replace("+00:00", "Z")


class Paywall:
    """What the middleware and the deposit routes share. `start` runs in the lifespan,
    once the ledger (database pool) and the invoice issuer exist."""

    def __init__(self, settings: Settings, *, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.clock = clock
        l402 = settings.l402
        self.mint_limiter = RateLimiter(rate_per_s=l402.challenge_rate_per_min / 60.0,
                                        burst=l402.challenge_burst)
        self.token_limiter = RateLimiter(rate_per_s=l402.token_rate_per_s, burst=l402.token_burst)
        self._gate: PaywallGate | None = None
        self._issuer: InvoiceIssuer | None = None

    def start(self, ledger: CreditLedger, issuer: InvoiceIssuer) -> None:
        l402 = self.settings.l402
        keys = [l402.macaroon_secret.reveal().encode()]
        if l402.previous_macaroon_secret is not None:
            keys.append(l402.previous_macaroon_secret.reveal().encode())
        operator = l402.operator_bypass_secret
        self._gate = PaywallGate(
            secrets=keys,
            ledger=ledger,
            operator_secret=operator.reveal().encode() if operator else None,
            token_limiter=lambda token_id: self.token_limiter.acquire(token_id, self.clock()),
        )
        self._issuer = issuer

    async def valid_token_id(self, request: Request) -> bytes | None:
        """`reports.TokenChecker`: the id of a valid SatRank L402 token in the request's
        Authorization header (signature, preimage and caveats checked), never debited."""
        return self.gate.valid_token_id(authorizations=request.headers.getlist("authorization"),
                                        now_unix=int(self.clock()))

    @property
    def gate(self) -> PaywallGate:
        if self._gate is None:
            raise RuntimeError("paywall used before the lifespan started it")
        return self._gate

    async def mint(self, scope: Scope, *, credits: int, amount_sat: int, memo: str) -> Challenge:
        """A new token + invoice, or ApiError 429 (per-IP limit) / 503 (node unavailable)."""
        if self._issuer is None:
            raise RuntimeError("paywall used before the lifespan started it")
        wait_s = self.mint_limiter.acquire(client_ip(scope, self.settings), self.clock())
        if wait_s > 0:
            metrics.CHALLENGES_REFUSED.labels("rate_limited").inc()
            raise _retry_later(429, "RATE_LIMITED",
                               "too many new invoices from this client; retry later", wait_s)
        l402 = self.settings.l402
        try:
            return await mint_challenge(
                self._issuer,
                secret=l402.macaroon_secret.reveal().encode(),
                token_id=secrets.token_bytes(TOKEN_ID_SIZE),
                credits=credits,
                amount_sat=amount_sat,
                now_unix=int(self.clock()),
                memo=memo,
                lifetime_s=l402.token_lifetime_s,
                invoice_expiry_s=l402.invoice_expiry_s,
            )
        except InvoiceUnavailable as exc:
            metrics.CHALLENGES_REFUSED.labels("lnd_unavailable").inc()
            raise _retry_later(503, "LIGHTNING_UNAVAILABLE",
                               "cannot create an invoice right now; retry later",
                               LND_RETRY_AFTER_S) from exc


def challenge_details(challenge: Challenge) -> dict[str, Any]:
    return {
        "credits": challenge.credits,
        "amountSat": challenge.amount_sat,
        "invoice": challenge.invoice,
        "macaroon": challenge.macaroon,
        "paymentHash": challenge.payment_hash.hex(),
        "expiresAt": _iso(challenge.invoice_expires_unix),
        "validUntil": _iso(challenge.valid_until_unix),
    }


class L402Middleware:
    def __init__(self, app: ASGIApp, *, paywall: Paywall,
                 prices: Mapping[tuple[str, str], int]) -> None:
        self.app = app
        self.paywall = paywall
        self.prices = PriceTable(prices)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        route = self.prices.match(scope["method"], scope["path"])
        if route is None:
            await self.app(scope, receive, send)
            return
        authorizations: list[str] = []
        operator_token: str | None = None
        for key, value in scope["headers"]:
            if key == b"authorization":
                authorizations.append(value.decode("latin-1"))
            elif key == b"x-operator-token" and operator_token is None:
                operator_token = value.decode("latin-1")
        ctx = RequestContext(now_unix=int(self.paywall.clock()), capability=route.capability)
        try:
            decision = await self.paywall.gate.check(
                authorizations=authorizations, operator_token=operator_token,
                cost=route.credits, ctx=ctx,
            )
        except LedgerUnavailable:
            metrics.LEDGER_UNAVAILABLE.inc()
            await self._render_error(scope, receive, send, _retry_later(
                503, "LEDGER_UNAVAILABLE",
                "credits cannot be checked right now; retry later, nothing was charged",
                LEDGER_RETRY_AFTER_S))
            return
        state = scope.setdefault("state", {})
        if isinstance(decision, Granted):
            metrics.PAID_REQUESTS.inc()
            metrics.CREDITS_DEBITED.inc(route.credits)
            state["l402"] = L402Grant(decision.token_id.hex(), decision.credits_left)
            await self._serve_paid(scope, receive, send, decision, route.credits)
        elif isinstance(decision, Bypassed):
            metrics.OPERATOR_BYPASSES.inc()
            state["operator"] = True
            await self.app(scope, receive, send)
        elif isinstance(decision, Throttled):
            metrics.TOKEN_THROTTLED.inc()
            await self._render_error(scope, receive, send, _retry_later(
                429, "RATE_LIMITED", "too many requests on this token; retry later",
                decision.retry_after_s))
        elif isinstance(decision, CreditsBusy):
            metrics.CREDITS_BUSY.inc()
            await self._render_error(scope, receive, send, _retry_later(
                503, "CREDITS_BUSY", "this token's last credits are in use by another "
                "request; retry shortly, nothing needs to be paid", decision.retry_after_s))
        else:
            await self._challenge(scope, receive, send, route, decision)

    async def _serve_paid(self, scope: Scope, receive: Receive, send: Send,
                          grant: Granted, cost: int) -> None:
        status = 0
        refunded = False

        def refund() -> None:
            nonlocal refunded
            if refunded:
                return
            refunded = True
            self.paywall.gate.refund(grant)
            metrics.CREDITS_REFUNDED.inc(cost)

        async def send_paid(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                left = grant.credits_left
                if status >= 500:
                    refund()
                    left += cost
                message = {**message, "headers": [
                    *message.get("headers", []), (b"x-l402-credits-left", b"%d" % left)]}
            await send(message)

        try:
            await self.app(scope, receive, send_paid)
        except Exception:
            if status == 0:
                refund()
            raise
        finally:
            self.paywall.gate.release(grant)

    async def _challenge(self, scope: Scope, receive: Receive, send: Send,
                         route: PricedRoute, decision: ChallengeNeeded) -> None:
        l402 = self.paywall.settings.l402
        credits = max(l402.challenge_credits, route.credits)
        try:
            challenge = await self.paywall.mint(
                scope, credits=credits, amount_sat=credits * l402.challenge_price_sat,
                memo=f"SatRank: {credits} API credits",
            )
        except ApiError as error:
            await self._render_error(scope, receive, send, error)
            return
        metrics.CHALLENGES.labels(decision.reason.value).inc()
        code, message = REFUSAL_CODES[decision.reason]
        details = {"price": route.credits, **challenge_details(challenge)}
        response = error_response(Request(scope), 402, code, message, details=details,
                                  headers=_challenge_headers())
        for scheme in ("L402", "LSAT"):
            value = build_challenge(challenge.macaroon, challenge.invoice, scheme)
            response.raw_headers.append((b"www-authenticate", value.encode("latin-1")))
        await response(scope, receive, send)

    async def _render_error(self, scope: Scope, receive: Receive, send: Send,
                            error: ApiError) -> None:
        headers = {**_challenge_headers(), **(error.headers or {})}
        response: Response = error_response(Request(scope), error.status, error.code,
                                            error.message, headers=headers)
        await response(scope, receive, send)


def _retry_later(status: int, code: str, message: str, retry_after_s: float) -> ApiError:
    """A refusal the client should retry, with Retry-After in whole seconds."""
    return ApiError(status, code, message,
                    headers={"Retry-After": str(math.ceil(retry_after_s))})


def _challenge_headers() -> dict[str, str]:
    return {"Cache-Control": "no-store", "Access-Control-Expose-Headers": "WWW-Authenticate"}
