"""Integration: a paid route that fails on our side (5xx) keeps no credits (real HTTP, Postgres).

The invoice side is the `PreimageIssuer` test double: LND is beside the point here.
"""

from __future__ import annotations

import hashlib

import httpx
from prometheus_client import REGISTRY
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.l402_support import (
    PreimageIssuer,
    ledger_usage,
    paid_app,
    settings_for,
    wait_for_credits_used,
)
from tests.live_server import live_server
from tests.test_paywall import CHALLENGE, PROFILE


async def broken_verdicts(request: Request) -> Response:
    raise RuntimeError("a bug in a paid route")


def _refunded() -> float:
    return REGISTRY.get_sample_value("satrank_l402_credits_refunded_total") or 0.0


def test_5xx_answers_and_crashes_refund_their_credits(db_dsn: str) -> None:
    issuer = PreimageIssuer()
    app = paid_app(db_dsn, issuer, settings_for())
    app.router.routes.insert(0, Route("/api/verdicts", broken_verdicts, methods=["POST"]))
    before = _refunded()
    with live_server(app) as base, httpx.Client(base_url=base, timeout=30) as http:
        challenge = http.get(PROFILE)
        mac, invoice = CHALLENGE.match(challenge.headers.get_list("www-authenticate")[0]).groups()
        preimage = issuer.pay(invoice)
        payment_hash = hashlib.sha256(preimage).digest()
        auth = {"Authorization": f"L402 {mac}:{preimage.hex()}"}

        first = http.get(PROFILE, headers=auth)
        assert first.status_code == 200 and first.headers["x-l402-credits-left"] == "20"
        # no probe backend configured: 503 LIGHTNING_NOT_CONFIGURED, 5 credits given back
        probe = http.post("/api/probe", json={"target": "02" + "ab" * 32}, headers=auth)
        assert probe.status_code == 503
        assert probe.json()["error"]["code"] == "LIGHTNING_NOT_CONFIGURED"
        assert probe.headers["x-l402-credits-left"] == "20"
        wait_for_credits_used(db_dsn, payment_hash, 1)
        # the route raises: 500 INTERNAL_ERROR, its credit given back
        crash = http.post("/api/verdicts", json={"ids": ["02" + "ab" * 32]}, headers=auth)
        assert crash.status_code == 500
        assert crash.json()["error"]["code"] == "INTERNAL_ERROR"
        wait_for_credits_used(db_dsn, payment_hash, 1)
        # input the route rejects is refused before the paywall: nothing debited
        bad = http.post("/api/probe", json={"target": "nothex"}, headers=auth)
        assert bad.status_code == 422 and "x-l402-credits-left" not in bad.headers
        last = http.get(PROFILE, headers=auth)
        assert last.status_code == 200 and last.json()["creditsLeft"] == 19
    # the api stopped: every credit it held and did not spend is back in Postgres
    usage = ledger_usage(db_dsn, payment_hash)
    assert usage is not None and (usage.credits_used, usage.credits_leased) == (2, 0)
    assert _refunded() - before == 6
