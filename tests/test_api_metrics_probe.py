"""Integration: /metrics (route-template labels, pool gauges, access) and POST /api/probe."""

from __future__ import annotations

import asyncio

import asyncpg
import httpx
from starlette.requests import Request

from satrank.api.app import create_app
from satrank.api.lightning_services import ApiLightning
from satrank.api.metrics import _client_is_loopback
from satrank.config import Settings
from satrank.lightning.backend import ProbeOutcome
from tests.api_seed import OPERATOR, OPERATOR_SECRET, agent_hash, pubkey, seed
from tests.live_server import live_server
from tests.stand_in_lightning import StandInLightning

SETTINGS = Settings.from_environ({"L402_MACAROON_SECRET": "x" * 40, "API_KEY": "k" * 20,
                                  "TRUST_PROXY": "true",
                                  "OPERATOR_BYPASS_SECRET": OPERATOR_SECRET})


def test_metrics_count_by_route_template(db_dsn: str) -> None:
    pks = asyncio.run(seed(db_dsn))
    with live_server(create_app(SETTINGS, db_dsn)) as url:
        httpx.get(f"{url}/api/agent/{pks[0]}", timeout=10)
        httpx.get(f"{url}/api/agent/{pks[1]}", timeout=10)
        httpx.get(f"{url}/api/agent/bad", timeout=10)
        httpx.get(f"{url}/api/unknown-path", timeout=10)
        text = httpx.get(f"{url}/metrics", timeout=10).text
        proxied = httpx.get(f"{url}/metrics", headers={"X-Forwarded-For": "203.0.113.9"},
                            timeout=10)
        keyed = httpx.get(f"{url}/metrics", timeout=10, headers={
            "X-Forwarded-For": "203.0.113.9", "X-API-Key": "k" * 20})
        wrong_key = httpx.get(f"{url}/metrics", timeout=10, headers={
            "X-Forwarded-For": "203.0.113.9", "X-API-Key": "k" * 19 + "j"})
    line = 'satrank_http_requests_total{method="GET",route="/api/agent/{id}",status="200"}'
    assert any(x.startswith(line) and float(x.split()[-1]) >= 2 for x in text.splitlines())
    assert 'route="/api/agent/{id}",status="400"' in text
    assert 'route="unmatched",status="404"' in text
    assert pks[0] not in text
    assert "satrank_http_request_duration_seconds_bucket" in text
    assert "satrank_db_pool_max_connections 10.0" in text
    assert proxied.status_code == 403 and proxied.json()["error"]["code"] == "FORBIDDEN"
    assert keyed.status_code == 200 and wrong_key.status_code == 403


def test_loopback_rule_without_proxy() -> None:
    app = create_app(Settings.from_environ({"L402_MACAROON_SECRET": "x" * 40}), "unused")

    def request(peer: str, xff: str | None = None) -> Request:
        headers = [(b"x-forwarded-for", xff.encode())] if xff else []
        return Request({"type": "http", "app": app, "client": (peer, 1), "headers": headers})

    assert _client_is_loopback(request("127.0.0.1"))
    assert _client_is_loopback(request("::1"))
    # without TRUST_PROXY a forwarded header is the client's own claim: ignored
    assert _client_is_loopback(request("127.0.0.1", "203.0.113.9"))
    assert not _client_is_loopback(request("198.51.100.7"))


def test_probe_records_and_answers(db_dsn: str) -> None:
    pks = asyncio.run(seed(db_dsn))
    backend = StandInLightning()
    app = create_app(SETTINGS, db_dsn, lightning=ApiLightning(probe=backend))  # type: ignore[arg-type]
    with live_server(app) as url, \
            httpx.Client(base_url=url, timeout=30, headers=OPERATOR) as client:
        one = client.post("/api/probe", json={"target": agent_hash(pks[3])})
        backend.outcome = ProbeOutcome.FAILED_AT_TARGET
        two = client.post("/api/probe", json={"target": pks[3],
                                              "amounts_sat": [5000, 1000, 5000]})
        unknown = client.post("/api/probe", json={"target": pubkey(900)})
        bad = client.post("/api/probe", json={"target": pks[3], "amounts_sat": [0]})
    assert one.status_code == 200
    probe = one.json()["data"]["probes"][0]
    assert probe["reachable"] is True and probe["amountSat"] == 100_000
    assert probe["hopCount"] == 2 and probe["hops"][1]["pubkey"] == pks[3]
    assert [p["amountSat"] for p in two.json()["data"]["probes"]] == [1000, 5000]
    assert two.json()["data"]["probes"][0]["outcome"] == "failed_at_target"
    assert backend.probes[0][:3] == (pks[3], 100_000, 505)
    assert unknown.status_code == 404 and bad.status_code == 422

    async def stored() -> list[asyncpg.Record]:
        conn = await asyncpg.connect(db_dsn)
        try:
            return await conn.fetch("SELECT * FROM probes WHERE source = 'api' ORDER BY id")
        finally:
            await conn.close()

    rows = asyncio.run(stored())
    assert [(r["amount_sat"], r["outcome"]) for r in rows] == [
        (100_000, "reached"), (1000, "failed_at_target"), (5000, "failed_at_target")]
    assert rows[0]["id"] == probe["probeId"] and rows[0]["hop_count"] == 2


def test_probe_without_backend_is_unavailable(db_dsn: str) -> None:
    pks = asyncio.run(seed(db_dsn))
    with live_server(create_app(SETTINGS, db_dsn)) as url:
        response = httpx.post(f"{url}/api/probe", json={"target": pks[0]}, timeout=10,
                              headers=OPERATOR)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "PROBE_UNAVAILABLE"
    assert response.headers["retry-after"] == "3600"
