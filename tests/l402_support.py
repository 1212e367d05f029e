"""Shared pieces of the unit-level paywall tests, where LND is beside the point: a
stand-in for LND's AddInvoice and a paid app. Tests of the flow with real invoices and
real L402 clients run on simnet (tests/l402_simnet.py).

`PreimageIssuer` is a test double of the Lightning node (not of our code): it makes a real
random preimage per invoice and returns its real sha256 as the payment hash, so "paying"
means learning the preimage, exactly as with LND.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from satrank.api.app import create_app
from satrank.config import DatabaseSettings, Settings
from satrank.db.pool import create_pool
from satrank.db.tokens import TokenUsage, token_usage_by_payment_hash
from satrank.l402.mint import InvoiceUnavailable, IssuedInvoice
from tests.live_server import live_server

SECRET = "s" * 40
OPERATOR_SECRET = "operator-secret-0123456789"
BASE_ENV = {
    "L402_MACAROON_SECRET": SECRET,
    "OPERATOR_BYPASS_SECRET": OPERATOR_SECRET,
    "L402_CHALLENGE_RATE_PER_MIN": "600000",
    "L402_CHALLENGE_BURST": "100000",
    "L402_MINT_GLOBAL_PER_S": "100000",
    "L402_MINT_GLOBAL_BURST": "100000",
    "L402_TOKEN_RATE_PER_S": "100000",
    "L402_TOKEN_BURST": "100000",
    "DB_POOL_MAX": "20",
}


# The `satrank_node` caveat of PreimageIssuer's invoices (a regtest node of ours).
DEPLOYMENT = "bcrt:02" + "5a" * 32

_HEX_TO_BECH32 = str.maketrans("0123456789abcdef", "qpzry9x8gf2tvdw0")


class PreimageIssuer:
    def __init__(self) -> None:
        self._preimages: dict[str, bytes] = {}
        self.available = True
        self.calls: list[tuple[int, str, int]] = []

    async def create_invoice(self, amount_sat: int, memo: str, expiry_s: int) -> IssuedInvoice:
        self.calls.append((amount_sat, memo, expiry_s))
        if not self.available:
            raise InvoiceUnavailable("node down")
        preimage = secrets.token_bytes(32)
        payment_hash = hashlib.sha256(preimage).digest()
        # BOLT11-shaped (clients read the amount from the human-readable part), not signed
        data = payment_hash.hex().translate(_HEX_TO_BECH32)
        invoice = f"lnbcrt{amount_sat * 10}n1{data}"
        self._preimages[invoice] = preimage
        return IssuedInvoice(invoice, payment_hash, DEPLOYMENT)

    def pay(self, invoice: str) -> bytes:
        """The preimage a payer learns by paying `invoice`."""
        return self._preimages[invoice]


CHALLENGE = re.compile(r'^L402 macaroon="([A-Za-z0-9+/]+=*)", invoice="([^"]+)"$')


def paid_authorization(challenge: httpx.Response, issuer: PreimageIssuer) -> dict[str, str]:
    """The Authorization header of a client that paid the invoice of this 402 answer."""
    assert challenge.status_code == 402, challenge.text
    found = CHALLENGE.match(challenge.headers.get_list("www-authenticate")[0])
    assert found is not None
    mac, invoice = found.groups()
    return {"Authorization": f"L402 {mac}:{issuer.pay(invoice).hex()}"}


def settings_for(**overrides: str) -> Settings:
    return Settings.from_environ({**BASE_ENV, **overrides})


async def paid_profile(request: Request) -> JSONResponse:
    """Stands in for the api branch's profile route: echoes what the paywall granted."""
    grant = getattr(request.state, "l402", None)
    return JSONResponse({
        "id": request.path_params["id"],
        "creditsLeft": grant.credits_left if grant else None,
        "operator": bool(getattr(request.state, "operator", False)),
    })


async def free_ping(request: Request) -> JSONResponse:
    return JSONResponse({"ok": True})


def paid_app(dsn: str, issuer: PreimageIssuer, settings: Settings) -> Starlette:
    app = create_app(settings, dsn, invoice_issuer=issuer)
    # In front of the real profile route: these tests are about the paywall, not the body.
    app.router.routes.insert(0, Route("/api/profile/{id}", paid_profile, methods=["GET"]))
    app.router.routes.append(Route("/api/ping", free_ping, methods=["GET"]))
    return app


@contextmanager
def serve_paid_app(dsn: str, issuer: PreimageIssuer,
                   env: Mapping[str, str] | None = None) -> Iterator[str]:
    with live_server(paid_app(dsn, issuer, settings_for(**(env or {})))) as base:
        yield base


def ledger_usage(dsn: str, payment_hash: bytes) -> TokenUsage | None:
    """The ledger row of the token `payment_hash` paid for, read from outside the api."""
    async def fetch() -> TokenUsage | None:
        pool = await create_pool(dsn, DatabaseSettings(url=None, pool_min=1, pool_max=1))
        try:
            return await token_usage_by_payment_hash(pool, payment_hash)
        finally:
            await pool.close()

    return asyncio.run(fetch())


def wait_for_credits_used(dsn: str, payment_hash: bytes, used: int,
                          timeout_s: float = 15.0) -> TokenUsage:
    """Wait for the ledger row to count `used` credits. A running api holds leased credits
    (satrank/api/ledger.py) and gives back the unspent ones once the token is idle for a
    second, so the row is exact only then."""
    deadline = time.monotonic() + timeout_s
    while True:
        usage = ledger_usage(dsn, payment_hash)
        if usage is not None and usage.credits_used == used:
            return usage
        assert time.monotonic() < deadline, f"the ledger still says {usage}, not {used} used"
        time.sleep(0.1)
