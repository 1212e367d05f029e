"""Integration: Postgres stopped under a live api. Every route that needs the database
answers 503 DATABASE_UNAVAILABLE with Retry-After (never a 500), the health check says
"down", and routes that need no database keep answering.

The test runs its own embedded Postgres (the session's server must keep running)."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from satrank.api.app import create_app
from satrank.config import Settings
from satrank.db.embedded import embedded_postgres, stop_embedded_postgres
from satrank.db.migrations import migrate_dsn
from tests.api_seed import OPERATOR, OPERATOR_SECRET, pubkey, seed
from tests.l402_support import PreimageIssuer
from tests.live_server import live_server

SETTINGS = Settings.from_environ({"L402_MACAROON_SECRET": "d" * 40,
                                  "OPERATOR_BYPASS_SECRET": OPERATOR_SECRET})


@pytest.fixture
def own_postgres() -> Iterator[tuple[Path, str]]:
    data_dir = Path(tempfile.mkdtemp(prefix="satrank-test-pgdown-"))
    try:
        with embedded_postgres(data_dir) as dsn:
            asyncio.run(migrate_dsn(dsn))
            asyncio.run(seed(dsn))
            yield data_dir, dsn
            stop_embedded_postgres(data_dir)  # a no-op when the test stopped it already
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def _report() -> dict[str, object]:
    preimage = secrets.token_bytes(32)
    return {"target": pubkey(2), "outcome": "success", "amount_sat": 1000,
            "payment_hash": hashlib.sha256(preimage).hexdigest(), "preimage": preimage.hex()}


NEEDS_DATABASE = [
    ("GET", "/api/stats", None),
    ("GET", "/api/agents/top", None),
    ("GET", "/api/agents/search?alias=acinq", None),
    ("GET", f"/api/agent/{pubkey(3)}", None),
    ("GET", f"/api/agent/{pubkey(3)}/verdict", None),
    ("GET", f"/api/profile/{pubkey(3)}", None),
    ("POST", "/api/verdicts", {"ids": [pubkey(3)]}),
    ("POST", "/api/report", None),
]


def test_every_route_answers_503_with_retry_after_while_postgres_is_down(
        own_postgres: tuple[Path, str]) -> None:
    data_dir, dsn = own_postgres
    issuer = PreimageIssuer()
    with live_server(create_app(SETTINGS, dsn, invoice_issuer=issuer)) as base, \
            httpx.Client(base_url=base, timeout=30, headers=OPERATOR) as http:
        assert http.get("/api/health").status_code == 200
        offer = httpx.post(f"{base}/api/deposit", json={"amount": 21}, timeout=30).json()["data"]
        token = f"L402 {offer['macaroon']}:{issuer.pay(offer['invoice']).hex()}"
        assert stop_embedded_postgres(data_dir)
        paid = httpx.get(f"{base}/api/profile/{pubkey(3)}", headers={"Authorization": token},
                         timeout=30)
        answers = {}
        for method, path, body in NEEDS_DATABASE:
            json = _report() if path == "/api/report" else body
            answers[path] = http.request(method, path, json=json)
        health = http.get("/api/health")
        free_of_db = [http.get("/api/deposit/tiers"), http.get("/api/openapi.json")]
        unpaid = httpx.get(f"{base}/api/profile/{pubkey(3)}", timeout=30)
    for path, response in answers.items():
        assert response.status_code == 503, (path, response.status_code, response.text)
        assert response.json()["error"]["code"] == "DATABASE_UNAVAILABLE", path
        assert int(response.headers["retry-after"]) > 0, path
        assert "Traceback" not in response.text
    assert health.status_code == 503 and health.json()["status"] == "down"
    assert int(health.headers["retry-after"]) > 0
    assert [r.status_code for r in free_of_db] == [200, 200]
    assert unpaid.status_code == 402  # new challenges need LND, not the database
    # a paid token's first use needs the ledger: 503, retry, nothing charged
    assert paid.status_code == 503 and paid.json()["error"]["code"] == "LEDGER_UNAVAILABLE"
    assert int(paid.headers["retry-after"]) > 0
