"""Integration: the registry's catalogue routes over real HTTP and Postgres: paid
registration with input checked before the paywall, the free listing (filters, sorts,
keyset pages), the summary and paid stage detail, categories and /.well-known/l402.json."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from satrank.api.prices import ROUTE_PRICES
from satrank.config import DatabaseSettings
from satrank.db.pool import create_pool
from satrank.db.registry import (
    NewService,
    Observation,
    ServiceSummary,
    record_observations,
    register_service,
    store_summary,
)
from tests.l402_support import PreimageIssuer, serve_paid_app

CHALLENGE = re.compile(r'L402 macaroon="([^"]+)", invoice="([^"]+)"')


@dataclass
class Api:
    http: httpx.Client
    issuer: PreimageIssuer
    dsn: str

    def pay(self, response: httpx.Response) -> str:
        found = CHALLENGE.match(response.headers["www-authenticate"])
        assert found is not None
        mac, invoice = found.groups()
        return f"L402 {mac}:{self.issuer.pay(invoice).hex()}"


@pytest.fixture
def api(db_dsn: str) -> Iterator[Api]:
    issuer = PreimageIssuer()
    with serve_paid_app(db_dsn, issuer, {"RATE_LIMIT_AGENT_BURST": "1000"}) as base, \
            httpx.Client(base_url=base, timeout=10) as h:
        yield Api(h, issuer, db_dsn)


def _seed(dsn: str, rows: list[tuple[NewService, ServiceSummary | None]]) -> list[int]:
    async def run() -> list[int]:
        pool = await create_pool(dsn, DatabaseSettings(url=None, pool_min=1, pool_max=2))
        try:
            ids = []
            for service, summary in rows:
                service_id, _ = await register_service(pool, service)
                if summary is not None:
                    await store_summary(pool, service_id, summary)
                    await record_observations(pool, service_id, [
                        Observation("challenge", True, "OK", 40),
                        Observation("invoice", summary.p_success > 0.5, "OK", 2)])
                ids.append(service_id)
            return ids
        finally:
            await pool.close()
    return asyncio.run(run())


def _summary(p: float, latency: int, price: int) -> ServiceSummary:
    return ServiceSummary(price_sat=price, payee_pubkey="02" + "ab" * 32, p_success=p,
                          uptime=p, median_latency_ms=latency, verdict="SAFE", reasons=())


def _service(i: int, category: str = "ai", name: str = "") -> NewService:
    return NewService(url=f"https://s{i}.example/api", method="GET", host=f"s{i}.example",
                      category=category, name=name or f"service {i}")


REGISTRATION = {"url": "https://weather.example/v1/now", "category": "weather",
                "name": "Weather now", "description": "current weather by city"}


def test_registration_is_paid_and_then_listed(api: Api) -> None:
    challenged = api.http.post("/api/services", json=REGISTRATION)
    assert challenged.status_code == 402
    assert api.issuer.calls  # an invoice was minted for a body we would accept
    created = api.http.post("/api/services", json=REGISTRATION,
                            headers={"Authorization": api.pay(challenged)})
    assert created.status_code == 201
    service_id = created.json()["data"]["id"]
    shown = api.http.get(f"/api/services/{service_id}").json()["data"]
    assert (shown["url"], shown["method"], shown["category"]) == (
        REGISTRATION["url"], "GET", "weather")
    assert shown["verdict"] is None  # not checked yet


@pytest.mark.parametrize(("body", "field"), [
    ({"url": "http://weather.example/", "category": "ai"}, "url"),
    ({"url": "https://127.0.0.1/x", "category": "ai"}, "url"),
    ({"url": "https://169.254.169.254/latest", "category": "ai"}, "url"),
    ({"url": "https://user:pw@weather.example/", "category": "ai"}, "url"),
    ({"url": "https://intranet/", "category": "ai"}, "url"),
    ({"url": "https://weather.example/", "category": "casino"}, "category"),
    ({"url": "https://weather.example/", "category": "ai", "method": "TRACE"}, "method"),
    ({"url": "https://weather.example/", "category": "ai", "name": ""}, "name"),
    ({"url": "https://weather.example/", "category": "ai", "owner": "x"}, "owner"),
])
def test_bad_registrations_are_refused_before_any_invoice(
        api: Api, body: dict[str, str], field: str) -> None:
    response = api.http.post("/api/services", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["details"]["field"] == field
    assert api.issuer.calls == []


def test_a_listed_endpoint_is_refused_before_payment(api: Api) -> None:
    [service_id] = _seed(api.dsn, [(NewService(
        url=REGISTRATION["url"], method="GET", host="weather.example", category="weather"),
        None)])
    response = api.http.post("/api/services", json=REGISTRATION)
    assert response.status_code == 409
    assert response.json()["error"]["details"]["id"] == service_id
    assert api.issuer.calls == []


def test_listing_filters_and_sorts(api: Api) -> None:
    ids = _seed(api.dsn, [
        (_service(1, "ai", "fast translator"), _summary(0.9, 300, 50)),
        (_service(2, "ai", "slow translator"), _summary(0.6, 90, 5)),
        (_service(3, "data", "weather feed"), _summary(0.99, 900, 500)),
        (_service(4, "data", "new feed"), None),
    ])
    def listed(**params: str) -> list[int]:
        response = api.http.get("/api/services", params=params)
        assert response.status_code == 200, response.text
        return [s["id"] for s in response.json()["data"]]

    assert listed() == [ids[2], ids[0], ids[1], ids[3]]  # best p first, unscored last
    assert listed(sort_by="latency") == [ids[1], ids[0], ids[2], ids[3]]
    assert listed(sort_by="price") == [ids[1], ids[0], ids[2], ids[3]]
    assert listed(category="ai") == [ids[0], ids[1]]
    assert listed(q="TRANSLATOR", sort_by="price") == [ids[1], ids[0]]
    assert listed(max_price_sat="50") == [ids[0], ids[1]]
    assert listed(q="50%") == []  # LIKE wildcards are text, not patterns
    for bad in ({"sort_by": "rank"}, {"category": "casino"}, {"limit": "0"},
                {"max_price_sat": "-1"}, {"cursor": "!!"}):
        response = api.http.get("/api/services", params=bad)
        assert response.status_code == 400, bad
        assert response.json()["error"]["code"] == "INVALID_PARAMETER"


@pytest.mark.parametrize("sort", ["p", "latency", "price"])
def test_keyset_pages_reach_every_service_once(api: Api, sort: str) -> None:
    ids = _seed(api.dsn, [(_service(i), _summary(0.5 + (i % 4) / 10, 100 * (i % 3), i % 5)
                           if i % 6 else None) for i in range(1, 24)])
    seen: list[int] = []
    cursor = None
    while True:
        params = {"sort_by": sort, "limit": "5", **({"cursor": cursor} if cursor else {})}
        meta = api.http.get("/api/services", params=params).json()
        seen += [s["id"] for s in meta["data"]]
        cursor = meta["meta"]["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(ids) and len(seen) == len(ids)
    other = "price" if sort != "price" else "p"
    mixed = api.http.get("/api/services", params={"sort_by": other, "cursor": cursor or
                         api.http.get("/api/services", params={"sort_by": sort, "limit": "5"})
                         .json()["meta"]["next_cursor"]})
    assert mixed.status_code == 400  # a cursor only continues its own order


def test_summary_is_free_and_stage_detail_is_paid(api: Api) -> None:
    [service_id] = _seed(api.dsn, [(_service(1), _summary(0.9, 100, 10))])
    assert api.http.get(f"/api/services/{service_id}").json()["data"]["pSuccess"] == 0.9
    challenged = api.http.get(f"/api/services/{service_id}/stages")
    assert challenged.status_code == 402
    detail = api.http.get(f"/api/services/{service_id}/stages",
                          headers={"Authorization": api.pay(challenged)})
    assert detail.status_code == 200
    stages = [o["stage"] for o in detail.json()["data"]["observations"]]
    assert sorted(stages) == ["challenge", "invoice"]
    posteriors = {s["stage"]: s for s in detail.json()["data"]["stages"]}
    assert list(posteriors) == ["challenge", "invoice"]
    assert posteriors["challenge"]["nEff"] > 0.99 and 0.5 < posteriors["challenge"]["p"] < 1


def test_unknown_or_malformed_ids_are_refused_before_payment(api: Api) -> None:
    assert api.http.get("/api/services/999999").status_code == 404
    assert api.http.get("/api/services/999999/stages").status_code == 404
    assert api.http.get("/api/services/abc").status_code == 400
    assert api.http.get("/api/services/abc/stages").status_code == 400
    assert api.issuer.calls == []


def test_categories_count_every_category(api: Api) -> None:
    _seed(api.dsn, [(_service(1, "ai"), None), (_service(2, "ai"), None),
                    (_service(3, "news"), None)])
    counts = {c["category"]: c["count"]
              for c in api.http.get("/api/services/categories").json()["data"]}
    assert counts["ai"] == 2 and counts["news"] == 1 and counts["media"] == 0


def test_well_known_manifest_lists_exactly_the_priced_routes(api: Api) -> None:
    response = api.http.get("/.well-known/l402.json")
    assert response.status_code == 200
    manifest = response.json()
    listed = {(r["method"], r["path"]): (r["credits"], r["priceSat"])
              for r in manifest["resources"]}
    assert listed == {route: (credits, credits * manifest["payment"]["challengePriceSat"])
                      for route, credits in ROUTE_PRICES.items()}
    assert ("POST", "/api/services") in listed


def test_private_deployments_may_register_loopback_http_but_never_metadata(
        db_dsn: str) -> None:
    issuer = PreimageIssuer()
    with serve_paid_app(db_dsn, issuer, {"REGISTRY_ALLOW_PRIVATE": "true"}) as base, \
            httpx.Client(base_url=base, timeout=10) as http:
        local = http.post("/api/services", json={"url": "http://127.0.0.1:8080/x",
                                                 "category": "tools"})
        metadata = http.post("/api/services", json={"url": "http://169.254.169.254/x",
                                                    "category": "tools"})
    assert local.status_code == 402  # valid: only payment is missing
    assert metadata.status_code == 422
    assert metadata.json()["error"]["details"]["field"] == "url"
