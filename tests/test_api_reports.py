"""Integration: POST /api/report proofs, limits and duplicates over real HTTP."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import asyncpg
import httpx
import pytest

from satrank.api.app import create_app
from satrank.config import Settings
from satrank.db.reports import ReportLimits
from satrank.l402.caveats import minted_caveats
from satrank.l402.identifier import Identifier
from satrank.l402.mint import encode_macaroon, mint_macaroon
from tests.api_seed import agent_hash, pubkey, seed
from tests.l402_support import DEPLOYMENT
from tests.live_server import live_server

SECRET = "x" * 40
SETTINGS = Settings.from_environ({"L402_MACAROON_SECRET": SECRET})


def pair() -> tuple[str, str]:
    preimage = os.urandom(32)
    return preimage.hex(), hashlib.sha256(preimage).hexdigest()


@pytest.fixture
def api(db_dsn: str) -> Iterator[tuple[httpx.Client, list[str], str]]:
    pks = asyncio.run(seed(db_dsn))
    app = create_app(SETTINGS, db_dsn,
                     report_limits=ReportLimits(per_token_per_hour=3, per_target_per_hour=4))
    with live_server(app) as url, httpx.Client(base_url=url, timeout=10) as client:
        yield client, pks, db_dsn


def _rows(dsn: str) -> list[asyncpg.Record]:
    async def fetch() -> list[asyncpg.Record]:
        conn = await asyncpg.connect(dsn)
        try:
            return await conn.fetch("SELECT * FROM reports ORDER BY id")
        finally:
            await conn.close()
    return asyncio.run(fetch())


def test_verified_preimage_report_is_stored(api: tuple[httpx.Client, list[str], str]) -> None:
    client, pks, dsn = api
    preimage, payment_hash = pair()
    response = client.post("/api/report", json={
        "target": agent_hash(pks[0]), "outcome": "success", "amount_sat": 2100,
        "payment_hash": payment_hash, "preimage": preimage.upper()})
    assert response.status_code == 201
    data = response.json()["data"]
    assert data["verified"] is True and data["target"] == pks[0]
    [row] = _rows(dsn)
    assert row["target_pubkey"] == pks[0] and row["verified"] and row["amount_sat"] == 2100
    assert row["payment_hash"] == bytes.fromhex(payment_hash)
    duplicate = client.post("/api/report", json={
        "target": pks[0], "outcome": "failure", "payment_hash": payment_hash,
        "preimage": preimage})
    assert duplicate.status_code == 409
    assert duplicate.json()["error"]["code"] == "DUPLICATE_REPORT"


def test_report_needs_proof(api: tuple[httpx.Client, list[str], str]) -> None:
    client, pks, dsn = api
    preimage, payment_hash = pair()
    no_proof = client.post("/api/report", json={"target": pks[0], "outcome": "success"})
    assert no_proof.status_code == 401
    assert no_proof.json()["error"]["code"] == "REPORT_PROOF_REQUIRED"
    hash_only = client.post("/api/report", json={
        "target": pks[0], "outcome": "success", "payment_hash": payment_hash})
    assert hash_only.status_code == 401
    wrong = client.post("/api/report", json={
        "target": pks[0], "outcome": "success", "payment_hash": "00" * 32,
        "preimage": preimage})
    assert wrong.status_code == 422 and wrong.json()["error"]["details"]["field"] == "preimage"
    assert preimage not in wrong.text
    lone = client.post("/api/report", json={
        "target": pks[0], "outcome": "success", "preimage": preimage})
    assert lone.status_code == 422
    assert _rows(dsn) == []


@pytest.mark.parametrize("body, field", [
    ({"outcome": "success"}, "target"),
    ({"target": "nope", "outcome": "success"}, "target"),
    ({"target": pubkey(1), "outcome": "great"}, "outcome"),
    ({"target": pubkey(1), "outcome": "success", "amount_sat": 0}, "amount_sat"),
    ({"target": pubkey(1), "outcome": "success", "amount_sat": True}, "amount_sat"),
    ({"target": pubkey(1), "outcome": "success", "payment_hash": "xyz"}, "payment_hash"),
])
def test_report_validation(api: tuple[httpx.Client, list[str], str], body: dict[str, object],
                           field: str) -> None:
    client, _, _ = api
    response = client.post("/api/report", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["details"]["field"] == field


def test_unknown_target_consumes_nothing(api: tuple[httpx.Client, list[str], str]) -> None:
    client, _, dsn = api
    preimage, payment_hash = pair()
    response = client.post("/api/report", json={
        "target": pubkey(404), "outcome": "success", "payment_hash": payment_hash,
        "preimage": preimage})
    assert response.status_code == 404
    assert _rows(dsn) == []


def test_per_target_limit_holds_under_concurrency(
        api: tuple[httpx.Client, list[str], str]) -> None:
    client, pks, dsn = api

    def send(_: int) -> int:
        preimage, payment_hash = pair()
        return client.post("/api/report", json={
            "target": pks[1], "outcome": "failure", "payment_hash": payment_hash,
            "preimage": preimage}).status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(send, range(12)))
    assert statuses.count(201) == 4 and statuses.count(429) == 8
    assert len(_rows(dsn)) == 4


def _token(secret: str = SECRET, valid_until: int = 2_000_000_000) -> tuple[bytes, str]:
    """(token id, Authorization value) of a SatRank L402 token signed with `secret`, as
    a client holds it after paying its invoice."""
    preimage, token_id = os.urandom(32), os.urandom(32)
    ident = Identifier.new(hashlib.sha256(preimage).digest(), token_id)
    caveats = [c.encode() for c in minted_caveats(valid_until_unix=valid_until, credits=21,
                                                  deployment=DEPLOYMENT)]
    mac = encode_macaroon(mint_macaroon(ident, caveats, secret.encode()))
    return token_id, f"L402 {mac}:{preimage.hex()}"


def test_token_path_limits_and_duplicates(db_dsn: str) -> None:
    """The default checker is the paywall's verifier: a real token is proof, not debited."""
    pks = asyncio.run(seed(db_dsn))
    app = create_app(SETTINGS, db_dsn,
                     report_limits=ReportLimits(per_token_per_hour=3, per_target_per_hour=50))
    token_id, authorization = _token()
    token = {"Authorization": authorization}
    with live_server(app) as url, httpx.Client(base_url=url, timeout=10) as client:
        first = client.post("/api/report", headers=token,
                            json={"target": pks[0], "outcome": "timeout"})
        again = client.post("/api/report", headers=token,
                            json={"target": pks[0], "outcome": "success"})
        others = [client.post("/api/report", headers=token,
                              json={"target": pk, "outcome": "success"}).status_code
                  for pk in pks[1:4]]
    assert first.status_code == 201 and first.json()["data"]["verified"] is False
    assert again.status_code == 409
    assert others == [201, 201, 429]
    rows = _rows(db_dsn)
    assert len(rows) == 3 and all(r["reporter_token_id"] == token_id for r in rows)

    async def debited() -> object:
        conn = await asyncpg.connect(db_dsn)
        try:
            return await conn.fetchval("SELECT count(*) FROM l402_tokens")
        finally:
            await conn.close()

    assert asyncio.run(debited()) == 0


def test_tokens_that_are_not_ours_or_expired_are_no_proof(db_dsn: str) -> None:
    pks = asyncio.run(seed(db_dsn))
    _, good = _token()
    mac, preimage = good.removeprefix("L402 ").split(":")
    cases = {
        "other secret": _token(secret="y" * 40)[1],
        "expired": _token(valid_until=1_000_000_000)[1],
        "wrong preimage": f"L402 {mac}:{'00' * 32}",
        "junk": "L402 deposit:x",
    }
    with live_server(create_app(SETTINGS, db_dsn)) as url, \
            httpx.Client(base_url=url, timeout=10) as client:
        for name, authorization in cases.items():
            response = client.post("/api/report", headers={"Authorization": authorization},
                                   json={"target": pks[0], "outcome": "success"})
            assert response.status_code == 401, name
            assert response.json()["error"]["code"] == "REPORT_PROOF_REQUIRED"
    assert _rows(db_dsn) == []
