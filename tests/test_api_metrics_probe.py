"""Integration: /metrics (route-template labels, pool gauges, access) and POST /api/probe."""

from __future__ import annotations

import asyncio

import asyncpg
import httpx
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest

from satrank.api.admin import client_is_loopback
from satrank.api.app import create_app
from satrank.api.middleware import metrics
from satrank.config import Settings
from satrank.lightning.lnd import LndClient
from tests.api_seed import OPERATOR, OPERATOR_SECRET, agent_hash, pubkey, seed
from tests.l402_support import PreimageIssuer
from tests.live_server import live_server
from tests.simnet_api import (
    describe_simnet_graph,
    insert_graph_nodes,
    probe_targets,
    simnet_settings,
)
from tests.simnet_fixture import SimnetHandle

BASE = {"L402_MACAROON_SECRET": "x" * 40, "API_KEY": "k" * 20, "TRUST_PROXY": "true",
        "OPERATOR_BYPASS_SECRET": OPERATOR_SECRET}
SETTINGS = Settings.from_environ(BASE)


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


def test_request_series_read_as_prometheus_client_would_write_them() -> None:
    """Requests are counted in plain numbers and read out by a collector: the exposition
    is the one prometheus_client's Counter and Histogram give for the same requests."""
    reference = CollectorRegistry()
    names = ["method", "route", "status"]
    counter = Counter("satrank_http_requests_total", "HTTP requests answered by the api",
                      names, registry=reference)
    histogram = Histogram("satrank_http_request_duration_seconds",
                          "Time from request to the end of the response body", names,
                          buckets=metrics.BUCKETS, registry=reference)

    def ours(text: str) -> list[str]:
        return [line for line in text.splitlines() if "_created" not in line and (
            'route="/test/metrics/{x}"' in line or line.startswith("# ") and (
                "satrank_http_request" in line))]

    scope = {"type": "http", "method": "GET", "path": "/nowhere", "headers": [],
             "route": type("R", (), {"path": "/test/metrics/{x}"})()}
    for seconds in (0.0004, 0.001, 0.0011, 0.05, 0.3, 2.5, 10.0, 11.0):
        for status in (200, 404):
            metrics.observe_request(scope, status, seconds)
            counter.labels("GET", "/test/metrics/{x}", str(status)).inc()
            histogram.labels("GET", "/test/metrics/{x}", str(status)).observe(seconds)
    assert ours(generate_latest(REGISTRY).decode()) == ours(
        generate_latest(reference).decode())


def test_answers_before_routing_are_labelled_by_route_template(db_dsn: str) -> None:
    """The paywall's 402 and the body guard's 413 leave before the router has run."""
    with live_server(create_app(SETTINGS, db_dsn, invoice_issuer=PreimageIssuer())) as url:
        assert httpx.get(f"{url}/api/profile/{pubkey(1)}", timeout=10).status_code == 402
        big = httpx.post(f"{url}/api/verdicts", content=b"[" + b" " * 20_000 + b"]",
                         headers={"Content-Type": "application/json"}, timeout=10)
        assert big.status_code == 413
        text = httpx.get(f"{url}/metrics", timeout=10).text
    assert 'method="GET",route="/api/profile/{id}",status="402"' in text
    assert 'method="POST",route="/api/verdicts",status="413"' in text


def test_loopback_rule_without_proxy() -> None:
    def loopback(peer: str, xff: str | None = None) -> bool:
        headers = [(b"x-forwarded-for", xff.encode())] if xff else []
        scope = {"type": "http", "client": (peer, 1), "headers": headers}
        return client_is_loopback(scope, trusted_proxies=())

    assert loopback("127.0.0.1")
    assert loopback("::1")
    # without TRUST_PROXY a forwarded header is the client's own claim: ignored
    assert loopback("127.0.0.1", "203.0.113.9")
    assert not loopback("198.51.100.7")


async def _oracle_peers(handle: SimnetHandle) -> list[str]:
    lnd_dir = handle.oracle_dir
    async with LndClient.connect(handle.oracle_host, (lnd_dir / "tls.cert").read_bytes(),
                                 (lnd_dir / "pay.macaroon").read_bytes()) as pay:
        return [c.remote_pubkey for c in await pay.list_channels(active_only=True)]


def test_probe_against_simnet_records_and_answers(db_dsn: str, simnet: SimnetHandle) -> None:
    """POST /api/probe through the app's own pay-macaroon backend (opened from the LND
    settings) to simnet over gRPC + TLS: a reachable peer, offline and cut-off nodes."""
    graph = asyncio.run(describe_simnet_graph(simnet))
    asyncio.run(insert_graph_nodes(db_dsn, graph))
    targets = probe_targets(graph)
    peer = asyncio.run(_oracle_peers(simnet))[0]
    app = create_app(simnet_settings(simnet, BASE), db_dsn)
    with live_server(app) as url, \
            httpx.Client(base_url=url, timeout=60, headers=OPERATOR) as client:
        reached = client.post("/api/probe", json={"target": agent_hash(peer),
                                                  "amounts_sat": [2000, 1000, 2000]})
        offline = client.post("/api/probe", json={"target": targets.offline[0],
                                                  "amount_sat": 1000})
        cut_off = client.post("/api/probe", json={"target": targets.cut_off[0],
                                                  "amount_sat": 1000})
        unknown = client.post("/api/probe", json={"target": pubkey(900)})
        bad = client.post("/api/probe", json={"target": peer, "amounts_sat": [0]})
    assert reached.status_code == 200, reached.text
    data = reached.json()["data"]
    assert data["target"]["publicKey"] == peer
    probes = data["probes"]
    assert [p["amountSat"] for p in probes] == [1000, 2000]
    for p in probes:
        assert p["outcome"] == "reached" and p["reachable"] is True
        assert p["failureCode"] == "INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS"
        assert p["hops"][-1]["pubkey"] == peer and p["hopCount"] == len(p["hops"]) >= 1
    assert offline.status_code == 200, offline.text
    gone = offline.json()["data"]["probes"][0]
    assert gone["reachable"] is False
    assert gone["outcome"] in ("failed_at_target", "failed_in_route", "no_route")
    if gone["outcome"] == "failed_at_target":
        assert gone["failureCode"] == "UNKNOWN_NEXT_PEER"
    no_route = cut_off.json()["data"]["probes"][0]
    assert (no_route["outcome"], no_route["hopCount"]) == ("no_route", 0)
    assert unknown.status_code == 404 and bad.status_code == 422

    async def stored() -> list[asyncpg.Record]:
        conn = await asyncpg.connect(db_dsn)
        try:
            return await conn.fetch("SELECT * FROM probes ORDER BY id")
        finally:
            await conn.close()

    rows = asyncio.run(stored())
    assert [(r["target_pubkey"], r["amount_sat"], r["outcome"], r["source"]) for r in rows] == [
        (peer, 1000, "reached", "api"), (peer, 2000, "reached", "api"),
        (targets.offline[0], 1000, gone["outcome"], "api"),
        (targets.cut_off[0], 1000, "no_route", "api")]
    assert [r["hop_count"] for r in rows[:2]] == [p["hopCount"] for p in probes]
    assert rows[0]["failure_code"] == probes[0]["failureCode"]


def test_probe_without_backend_says_not_configured(db_dsn: str) -> None:
    pks = asyncio.run(seed(db_dsn))
    with live_server(create_app(SETTINGS, db_dsn)) as url:
        response = httpx.post(f"{url}/api/probe", json={"target": pks[0]}, timeout=10,
                              headers=OPERATOR)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "LIGHTNING_NOT_CONFIGURED"
    assert "not configured" in response.json()["error"]["message"]
    assert "retry-after" not in response.headers
