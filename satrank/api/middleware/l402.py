"""The L402 paywall as pure ASGI middleware: plumbing only; `PaywallGate` decides.

A request to a priced route is granted (credits debited, `request.state.l402` set),
bypassed by the operator (`request.state.operator`), throttled (429), told to retry
(503 CREDITS_BUSY: its last credits are held by another api process for a moment, see
api/ledger.py), or answered 402 with a FRESH challenge whose error code says why
(clients re-pay only on 402):

    MISSING -> PAYMENT_REQUIRED,           MALFORMED -> TOKEN_MALFORMED,
    UNKNOWN -> TOKEN_UNKNOWN,              WRONG_PREIMAGE -> TOKEN_WRONG_PREIMAGE,
    INVALID -> TOKEN_INVALID (a caveat),   EXPIRED -> TOKEN_EXPIRED,
    EXHAUSTED -> TOKEN_EXHAUSTED

Input first: a priced route may declare an input check (`checks`, from app.py: the id
in the path, the JSON body's shape). It runs BEFORE the paywall, so a request the route
would reject (invalid id, malformed JSON, wrong media type, validation error) answers
its 4xx without asking for payment and without debiting anything. The body it read is
replayed to the route. A check may also raise the request's price above the route's
(an intent with `fresh: true` costs what a probe costs): the debit, the challenge and
any refund use that price.

Charging contract: credits are debited BEFORE the route runs (debiting after success
would let concurrent requests be served on credits they do not have). When the client
could not use the answer — it starts with a 4xx (unknown node, a check only the route
can make) or a 5xx (e.g. /api/probe's 503 PROBE_UNAVAILABLE), or the route raises before
any response — the debit is undone (the credits go back to the process's lease) before
the response leaves, so the client never pays for it. A route whose failure still cost
us (a probe whose HTLC left our node) sets `KEEP_CHARGE` in the request state: that
answer stays charged. A client that disconnects mid-request is charged. Every granted
response carries `X-L402-Credits-Left` (after any refund).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from satrank.api import paywall_metrics as metrics
from satrank.api.errors import ApiError, error_response, retry_later
from satrank.api.paywall import Paywall, challenge_details
from satrank.api.prices import PricedRoute, PriceTable
from satrank.l402.caveats import Refusal, RequestContext
from satrank.l402.gate import (
    Bypassed,
    ChallengeNeeded,
    CreditsBusy,
    Granted,
    LedgerUnavailable,
    Throttled,
)
from satrank.l402.headers import build_challenge

LEDGER_RETRY_AFTER_S = 5
# Set to True in `request.state` by a route whose failure answer must stay charged.
KEEP_CHARGE = "l402_keep_charge"
# A paid route's input check: raises ApiError for input the route would reject; returns
# None, or what this request costs when its body decides (at least the route's price:
# POST /api/intent with fresh: true).
InputCheck = Callable[[Request], Awaitable[int | None]]
REFUSAL_CODES = {
    Refusal.MISSING: ("PAYMENT_REQUIRED", "payment required: pay the invoice, then send "
                      "Authorization: L402 <macaroon>:<preimage>"),
    Refusal.MALFORMED: ("TOKEN_MALFORMED", "the Authorization header is not one readable "
                        "L402 credential (L402 <macaroon>:<64 hex preimage>); a new one is "
                        "offered"),
    Refusal.UNKNOWN: ("TOKEN_UNKNOWN", "the macaroon was not issued by this service or was "
                      "altered; a new one is offered"),
    Refusal.WRONG_PREIMAGE: ("TOKEN_WRONG_PREIMAGE", "the preimage does not match the "
                             "macaroon's payment hash; a new one is offered"),
    Refusal.INVALID: ("TOKEN_INVALID", "the L402 token's caveats do not allow this request "
                      "(service, capability or terms); a new one is offered"),
    Refusal.EXPIRED: ("TOKEN_EXPIRED", "the L402 token has expired; a new one is offered"),
    Refusal.EXHAUSTED: ("TOKEN_EXHAUSTED", "the L402 token has too few credits left; "
                        "a new one is offered"),
}


@dataclass(frozen=True)
class L402Grant:
    """What a granted route finds in `request.state.l402`."""

    token_id: str  # hex
    credits_left: int


class L402Middleware:
    def __init__(self, app: ASGIApp, *, paywall: Paywall,
                 prices: Mapping[tuple[str, str], int],
                 checks: Mapping[tuple[str, str], InputCheck] | None = None) -> None:
        self.app = app
        self.paywall = paywall
        self.prices = PriceTable(prices)
        self.checks = dict(checks or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        route = self.prices.match(scope["method"], scope["path"])
        if route is None:
            await self.app(scope, receive, send)
            return
        check = self.checks.get((route.method, route.template))
        if check is not None:
            checked = await self._check_input(scope, receive, send, route, check)
            if checked is None:
                return
            receive, cost = checked
            if cost is not None and cost > route.credits:
                route = dataclasses.replace(route, credits=cost)
        authorizations: list[str] = []
        operator_token: str | None = None
        for key, value in scope["headers"]:
            if key == b"authorization":
                authorizations.append(value.decode("latin-1"))
            elif key == b"x-operator-token" and operator_token is None:
                operator_token = value.decode("latin-1")
        ctx = RequestContext(now_unix=int(self.paywall.clock()), capability=route.capability,
                             deployment=self.paywall.deployment)
        try:
            decision = await self.paywall.gate.check(
                authorizations=authorizations, operator_token=operator_token,
                cost=route.credits, ctx=ctx,
            )
        except LedgerUnavailable:
            metrics.LEDGER_UNAVAILABLE.inc()
            await self._render_error(scope, receive, send, retry_later(
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
            await self._render_error(scope, receive, send, retry_later(
                429, "RATE_LIMITED", "too many requests on this token; retry later",
                decision.retry_after_s))
        elif isinstance(decision, CreditsBusy):
            metrics.CREDITS_BUSY.inc()
            await self._render_error(scope, receive, send, retry_later(
                503, "CREDITS_BUSY", "this token's last credits are in use by another "
                "request; retry shortly, nothing needs to be paid", decision.retry_after_s))
        else:
            await self._challenge(scope, receive, send, route, decision)

    async def _check_input(self, scope: Scope, receive: Receive, send: Send,
                           route: PricedRoute, check: InputCheck
                           ) -> tuple[Receive, int | None] | None:
        """Run the route's input check; None once its error answer is sent, else the
        receive channel that replays the body the check read, and the price it set."""
        request = Request({**scope, "path_params": self.prices.path_params(route,
                                                                          scope["path"])},
                          receive)
        body = await request.body()
        try:
            cost = await check(request)
        except ApiError as error:
            response = error_response(request, error.status, error.code, error.message,
                                      details=error.details, headers=error.headers)
            await response(scope, receive, send)
            return None
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()  # the disconnect, when it comes
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        return replay, cost

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
                if status >= 400 and not scope.get("state", {}).get(KEEP_CHARGE):
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
        l402 = self.paywall.l402
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


def _challenge_headers() -> dict[str, str]:
    return {"Cache-Control": "no-store", "Access-Control-Expose-Headers": "WWW-Authenticate"}
