"""The paywall's shared parts: the `PaywallGate` (started once the ledger and the
invoice issuer exist) and minting new tokens with their invoices, used by the L402
middleware (middleware/l402.py: 402 challenges) and by POST /api/deposit.

Minting needs the Lightning node; verification never does, so paid requests keep working
while the node is down and only new challenges answer 503 with Retry-After. New
challenges are limited per client (`clients.client_key`).
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
from collections.abc import Callable, Sequence
from typing import Any

from starlette.requests import Request
from starlette.types import Scope

from satrank.api import paywall_metrics as metrics
from satrank.api.clients import client_key
from satrank.api.errors import ApiError, retry_later
from satrank.api.lightning import InvoicesNotConfigured
from satrank.api.ratelimit import RateLimiter
from satrank.config import L402Settings, ProxyNetwork
from satrank.l402.gate import CreditLedger, PaywallGate
from satrank.l402.identifier import TOKEN_ID_SIZE
from satrank.l402.mint import Challenge, InvoiceIssuer, InvoiceUnavailable, mint_challenge

LND_RETRY_AFTER_S = 5


def _iso(unix: int) -> str:
    return dt.datetime.fromtimestamp(unix, dt.UTC).isoformat().replace("+00:00", "Z")


class Paywall:
    """What the middleware and the deposit routes share. `start` runs in the lifespan,
    once the ledger (database pool) and the invoice issuer exist."""

    def __init__(self, l402: L402Settings, *, trusted_proxies: Sequence[ProxyNetwork],
                 clock: Callable[[], float] = time.time) -> None:
        self.l402 = l402
        self.trusted_proxies = tuple(trusted_proxies)
        self.clock = clock
        self.mint_limiter = RateLimiter(rate_per_s=l402.challenge_rate_per_min / 60.0,
                                        burst=l402.challenge_burst)
        # One bucket for every client together: clients rotating addresses (each a fresh
        # per-client bucket) still cannot make this process ask LND for more invoices.
        self.global_mint_limiter = RateLimiter(rate_per_s=l402.mint_global_per_s,
                                               burst=l402.mint_global_burst, max_keys=1)
        self.token_limiter = RateLimiter(rate_per_s=l402.token_rate_per_s, burst=l402.token_burst)
        self._gate: PaywallGate | None = None
        self._issuer: InvoiceIssuer | None = None
        # This deployment's `satrank_node` caveat value: from GetInfo at start (app.py's
        # lifespan, with a readonly macaroon), else from the invoices our node issues (the
        # first challenge or deposit of the process); until then a token's binding is not
        # checked (DEPLOY.md, "Tokens are bound to one node").
        self.deployment: str | None = None

    def start(self, ledger: CreditLedger, issuer: InvoiceIssuer) -> None:
        l402 = self.l402
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
        """`routes.reports.TokenChecker`: the id of a valid SatRank L402 token in the request's
        Authorization header (signature, preimage and caveats checked), never debited."""
        return self.gate.valid_token_id(authorizations=request.headers.getlist("authorization"),
                                        now_unix=int(self.clock()), deployment=self.deployment)

    @property
    def gate(self) -> PaywallGate:
        if self._gate is None:
            raise RuntimeError("paywall used before the lifespan started it")
        return self._gate

    async def mint(self, scope: Scope, *, credits: int, amount_sat: int, memo: str) -> Challenge:
        """A new token + invoice, or ApiError 429 (per-client limit) / 503 (the limit of all
        clients together, or the node is unavailable or not configured)."""
        if self._issuer is None:
            raise RuntimeError("paywall used before the lifespan started it")
        now = self.clock()
        wait_s = self.mint_limiter.acquire(
            client_key(scope, trusted_proxies=self.trusted_proxies), now)
        if wait_s > 0:
            metrics.CHALLENGES_REFUSED.labels("rate_limited").inc()
            raise retry_later(429, "RATE_LIMITED",
                              "too many new invoices from this client; retry later", wait_s)
        wait_s = self.global_mint_limiter.acquire(None, now)
        if wait_s > 0:
            metrics.CHALLENGES_REFUSED.labels("global_limit").inc()
            raise retry_later(503, "MINTING_BUSY",
                              "too many new invoices are being requested right now; retry "
                              "later", wait_s)
        l402 = self.l402
        try:
            challenge = await mint_challenge(
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
        except InvoicesNotConfigured as exc:
            metrics.CHALLENGES_REFUSED.labels("lnd_not_configured").inc()
            raise ApiError(503, "LIGHTNING_NOT_CONFIGURED",
                           "this server cannot sell tokens: its Lightning node is not "
                           "configured (an operator must set the LND_* settings); tokens "
                           "bought earlier still work") from exc
        except InvoiceUnavailable as exc:
            metrics.CHALLENGES_REFUSED.labels("lnd_unavailable").inc()
            raise retry_later(503, "LIGHTNING_UNAVAILABLE",
                              "cannot create an invoice right now; retry later",
                              LND_RETRY_AFTER_S) from exc
        self.deployment = challenge.deployment
        return challenge


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
