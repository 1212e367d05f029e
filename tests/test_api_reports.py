"""Integration: POST /api/report proofs, limits and duplicates over real HTTP."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import asyncpg
import coincurve
import httpx
import pytest

from satrank.api.app import create_app
from satrank.config import Settings
from satrank.db.reports import ReportLimits
from tests.api_seed import agent_hash, pubkey, seed
from tests.live_server import live_server
from tests.report_support import (
    SETTINGS_ENV,
    add_keyed_node,
    client,
    forged_pair,
    paid_token,
    signed_invoice,
)

SETTINGS = Settings.from_environ(SETTINGS_ENV)
pair = forged_pair
Api = tuple[httpx.Client, list[str], str]


@pytest.fixture
def api(db_dsn: str) -> Iterator[Api]:
    pks = asyncio.run(seed(db_dsn))
    app = create_app(SETTINGS, db_dsn,
                     report_limits=ReportLimits(per_token_per_hour=3, per_target_per_hour=4))
    with live_server(app) as url, httpx.Client(base_url=url, timeout=10) as http:
        yield http, pks, db_dsn


def _rows(dsn: str) -> list[asyncpg.Record]:
    async def fetch() -> list[asyncpg.Record]:
        conn = await asyncpg.connect(dsn)
        try:
            return await conn.fetch("SELECT * FROM reports ORDER BY id")
        finally:
            await conn.close()
    return asyncio.run(fetch())


def test_a_self_made_pair_is_stored_unverified(api: Api) -> None:
    """A preimage/hash pair without the target's invoice proves nothing: anyone can make
    one. It still gives standing (and takes a client's slot), never the verified weight."""
    http, pks, dsn = api
    preimage, payment_hash = pair()
    response = http.post("/api/report", json={
        "target": agent_hash(pks[0]), "outcome": "success", "amount_sat": 2100,
        "payment_hash": payment_hash, "preimage": preimage.upper()})
    assert response.status_code == 201
    data = response.json()["data"]
    assert data["verified"] is False and data["target"] == pks[0]
    [row] = _rows(dsn)
    assert row["target_pubkey"] == pks[0] and not row["verified"] and row["amount_sat"] == 2100
    assert row["payment_hash"] == bytes.fromhex(payment_hash)
    assert row["reporter_client"] is not None and len(row["reporter_client"]) == 32
    # No payment behind it, so nothing to count once: another client's copy is just
    # another unverified claim.
    again = http.post("/api/report", headers=client(7), json={
        "target": pks[0], "outcome": "success", "payment_hash": payment_hash,
        "preimage": preimage})
    assert again.status_code == 201 and again.json()["data"]["verified"] is False


@pytest.fixture
def keyed(api: Api) -> tuple[httpx.Client, coincurve.PrivateKey, str, str]:
    """(client, the target's key, the target's pubkey, dsn)."""
    http, pks, dsn = api
    key = coincurve.PrivateKey()
    return http, key, asyncio.run(add_keyed_node(dsn, key, pks[0])), dsn


def test_the_targets_signed_invoice_and_its_preimage_make_a_verified_report(
        keyed: tuple[httpx.Client, coincurve.PrivateKey, str, str]) -> None:
    http, key, target, dsn = keyed
    invoice, preimage = signed_invoice(key, amount_sat=2100)
    payment_hash = hashlib.sha256(bytes.fromhex(preimage)).hexdigest()
    # A payer shares its invoice, so its hash is no secret: naming it without the
    # preimage must not take the slot of the proven report.
    squat = http.post("/api/report", headers={**client(5), "Authorization": paid_token()[1]},
                      json={"target": target, "outcome": "failure",
                            "payment_hash": payment_hash})
    assert squat.status_code == 201 and squat.json()["data"]["verified"] is False
    response = http.post("/api/report", json={
        "target": agent_hash(target), "outcome": "success", "invoice": invoice,
        "preimage": preimage})
    assert response.status_code == 201, response.text
    assert response.json()["data"] == {**response.json()["data"], "verified": True,
                                       "target": target}
    [_, row] = _rows(dsn)
    assert row["verified"] and row["amount_sat"] == 2100
    assert row["payment_hash"] == bytes.fromhex(payment_hash)
    again = http.post("/api/report", headers=client(3), json={
        "target": target, "outcome": "success", "invoice": invoice, "preimage": preimage})
    assert again.status_code == 409  # one report per payment, whoever sends it


def test_anything_short_of_proof_is_refused_or_unverified(
        keyed: tuple[httpx.Client, coincurve.PrivateKey, str, str]) -> None:
    http, key, target, dsn = keyed
    other_invoice, other_preimage = signed_invoice(coincurve.PrivateKey())
    invoice, preimage = signed_invoice(key)
    old_invoice, old_preimage = signed_invoice(key, age_s=91 * 86_400)
    cases: list[tuple[dict[str, object], str]] = [
        ({"outcome": "success", "invoice": other_invoice, "preimage": other_preimage},
         "invoice"),  # signed by another node: the attacker's own key
        ({"outcome": "success", "invoice": invoice, "preimage": pair()[0]}, "preimage"),
        ({"outcome": "success", "invoice": invoice, "preimage": preimage,
          "payment_hash": pair()[1]}, "payment_hash"),
        ({"outcome": "failure", "invoice": invoice, "preimage": preimage}, "outcome"),
        ({"outcome": "success", "invoice": "lnbc1junk", "preimage": preimage}, "invoice"),
        ({"outcome": "success", "invoice": invoice + "q" * 5000, "preimage": preimage},
         "invoice"),
        ({"outcome": "success", "invoice": 12}, "invoice"),
        # older than the reports we keep: its report may have been pruned, so it could
        # count twice
        ({"outcome": "success", "invoice": old_invoice, "preimage": old_preimage}, "invoice"),
    ]
    for i, (body, field) in enumerate(cases):
        response = http.post("/api/report", headers=client(i), json={"target": target, **body})
        assert response.status_code == 422, (field, response.text)
        assert response.json()["error"]["details"]["field"] == field
        assert preimage not in response.text
    # The invoice without its preimage is no proof of payment (and gives no standing).
    bare = http.post("/api/report", json={"target": target, "outcome": "failure",
                                          "invoice": invoice})
    assert bare.status_code == 401
    assert _rows(dsn) == []


def test_report_needs_proof(api: Api) -> None:
    http, pks, dsn = api
    preimage, payment_hash = pair()
    no_proof = http.post("/api/report", json={"target": pks[0], "outcome": "success"})
    assert no_proof.status_code == 401
    assert no_proof.json()["error"]["code"] == "REPORT_PROOF_REQUIRED"
    hash_only = http.post("/api/report", json={
        "target": pks[0], "outcome": "success", "payment_hash": payment_hash})
    assert hash_only.status_code == 401
    wrong = http.post("/api/report", json={
        "target": pks[0], "outcome": "success", "payment_hash": "00" * 32,
        "preimage": preimage})
    assert wrong.status_code == 422 and wrong.json()["error"]["details"]["field"] == "preimage"
    assert preimage not in wrong.text
    lone = http.post("/api/report", json={
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
def test_report_validation(api: Api, body: dict[str, object], field: str) -> None:
    http, _, _ = api
    response = http.post("/api/report", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["details"]["field"] == field


def test_unknown_target_consumes_nothing(api: Api) -> None:
    http, _, dsn = api
    preimage, payment_hash = pair()
    response = http.post("/api/report", json={
        "target": pubkey(404), "outcome": "success", "payment_hash": payment_hash,
        "preimage": preimage})
    assert response.status_code == 404
    assert _rows(dsn) == []


def _forged(http: httpx.Client, target: str, headers: dict[str, str]) -> int:
    """Status of a "success" report backed by a self-made preimage/hash pair."""
    preimage, payment_hash = pair()
    return http.post("/api/report", headers=headers, json={
        "target": target, "outcome": "success", "payment_hash": payment_hash,
        "preimage": preimage}).status_code


def test_per_target_limit_holds_under_concurrency(api: Api) -> None:
    http, pks, dsn = api
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda i: _forged(http, pks[1], client(i)), range(12)))
    assert statuses.count(201) == 4 and statuses.count(429) == 8
    assert len(_rows(dsn)) == 4


def test_one_client_holds_one_slot_per_target_under_concurrency(api: Api) -> None:
    http, pks, dsn = api
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda _: _forged(http, pks[2], client(0)), range(12)))
    assert statuses.count(201) == 1 and statuses.count(429) == 11
    assert len(_rows(dsn)) == 1


def test_one_client_cannot_starve_honest_reporters(
        keyed: tuple[httpx.Client, coincurve.PrivateKey, str, str]) -> None:
    """60 forged reports from one client take one slot of the target's hourly cap; honest
    clients still report, and a proven report never competes with unverified ones."""
    http, key, target, dsn = keyed
    attacker = [_forged(http, target, client(0)) for _ in range(60)]
    assert attacker.count(201) == 1 and attacker.count(429) == 59
    honest = [_forged(http, target, client(i)) for i in range(1, 5)]
    assert honest == [201, 201, 201, 429]  # the cap of 4 is 4 clients, not one
    invoice, preimage = signed_invoice(key)
    proven = http.post("/api/report", headers=client(9), json={
        "target": target, "outcome": "success", "invoice": invoice, "preimage": preimage})
    assert proven.status_code == 201 and proven.json()["data"]["verified"] is True
    assert len(_rows(dsn)) == 5


def test_a_client_is_limited_per_hour_across_targets(db_dsn: str) -> None:
    pks = asyncio.run(seed(db_dsn))
    app = create_app(SETTINGS, db_dsn, report_limits=ReportLimits(per_client_per_hour=3))
    with live_server(app) as url, httpx.Client(base_url=url, timeout=10) as http:
        statuses = [_forged(http, pk, client(1)) for pk in pks[:5]]
        other = _forged(http, pks[4], client(2))
    assert statuses == [201, 201, 201, 429, 429]
    assert other == 201  # another client is not limited


def test_token_path_limits_and_duplicates(db_dsn: str) -> None:
    """The default checker is the paywall's verifier: a real token is proof, not debited."""
    pks = asyncio.run(seed(db_dsn))
    app = create_app(SETTINGS, db_dsn,
                     report_limits=ReportLimits(per_token_per_hour=3, per_target_per_hour=50))
    token_id, authorization = paid_token()
    token = {"Authorization": authorization}
    with live_server(app) as url, httpx.Client(base_url=url, timeout=10) as http:
        first = http.post("/api/report", headers=token,
                            json={"target": pks[0], "outcome": "timeout"})
        again = http.post("/api/report", headers=token,
                            json={"target": pks[0], "outcome": "success"})
        others = [http.post("/api/report", headers=token,
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
    _, good = paid_token()
    mac, preimage = good.removeprefix("L402 ").split(":")
    cases = {
        "other secret": paid_token(secret="y" * 40)[1],
        "expired": paid_token(valid_until=1_000_000_000)[1],
        "wrong preimage": f"L402 {mac}:{'00' * 32}",
        "junk": "L402 deposit:x",
    }
    with live_server(create_app(SETTINGS, db_dsn)) as url, \
            httpx.Client(base_url=url, timeout=10) as http:
        for name, authorization in cases.items():
            response = http.post("/api/report", headers={"Authorization": authorization},
                                   json={"target": pks[0], "outcome": "success"})
            assert response.status_code == 401, name
            assert response.json()["error"]["code"] == "REPORT_PROOF_REQUIRED"
    assert _rows(db_dsn) == []
