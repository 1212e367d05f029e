"""Rate limits of the free routes (per client IP, per route group) over real HTTP, and the
bucket key of a client address."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from starlette.requests import Request

from satrank.api.app import create_app
from satrank.api.clients import address_key
from satrank.api.errors import ApiError
from satrank.api.free_limits import FreeRouteLimits
from satrank.config import Settings
from tests.api_seed import seed
from tests.live_server import live_server

# refill of one request per 10 minutes: nothing refills during a test
LIMITED = {"L402_MACAROON_SECRET": "x" * 40, "TRUST_PROXY": "true",
           "RATE_LIMIT_AGENT_PER_MIN": "0.1", "RATE_LIMIT_AGENT_BURST": "3",
           "RATE_LIMIT_SEARCH_PER_MIN": "0.1", "RATE_LIMIT_SEARCH_BURST": "2"}


def test_free_routes_refuse_past_the_burst(db_dsn: str) -> None:
    pks = asyncio.run(seed(db_dsn))
    app = create_app(Settings.from_environ(LIMITED), db_dsn)
    with live_server(app) as url, httpx.Client(base_url=url, timeout=10) as client:
        served = [client.get(f"/api/agent/{pks[0]}"),
                  client.get(f"/api/agent/{pks[1]}/verdict"),
                  client.get("/api/agent/" + "0" * 10)]  # a bad id still spends a unit
        refused = client.get(f"/api/agent/{pks[0]}/verdict")
        other_client = client.get(f"/api/agent/{pks[0]}",
                                  headers={"X-Forwarded-For": "198.51.100.7"})
        searches = [client.get("/api/agents/search", params={"alias": "acinq"})
                    for _ in range(3)]
        leaderboard = [client.get("/api/agents/top") for _ in range(5)]
    assert [r.status_code for r in served] == [200, 200, 400]
    assert refused.status_code == 429
    body = refused.json()
    assert body["error"]["code"] == "RATE_LIMITED"
    assert body["error"]["details"] == {"limit": "agent"}
    assert body["requestId"] == refused.headers["x-request-id"]
    assert 1 <= int(refused.headers["retry-after"]) <= 600
    assert other_client.status_code == 200  # buckets are per client address
    # the search bucket is its own: agent reads did not spend it
    assert [r.status_code for r in searches] == [200, 200, 429]
    assert [r.status_code for r in leaderboard] == [200] * 5  # not a rate-limited route


def test_defaults_serve_a_burst_of_agent_reads(db_dsn: str) -> None:
    pks = asyncio.run(seed(db_dsn))
    settings = Settings.from_environ({"L402_MACAROON_SECRET": "x" * 40})
    assert settings.api.free_rate.agent_burst == 60 and settings.api.free_rate.agent_per_min == 600
    with live_server(create_app(settings, db_dsn)) as url, \
            httpx.Client(base_url=url, timeout=10) as client:
        codes = {client.get(f"/api/agent/{pks[i % 5]}").status_code for i in range(60)}
    assert codes == {200}


def test_bucket_refills_with_the_clock() -> None:
    now = [1000.0]
    settings = Settings.from_environ({**LIMITED, "RATE_LIMIT_AGENT_PER_MIN": "60",
                                      "RATE_LIMIT_AGENT_BURST": "1"})
    limits = FreeRouteLimits(settings.api.free_rate,
                             trusted_proxies=settings.api.trusted_proxies, clock=lambda: now[0])
    request = Request({"type": "http", "client": ("203.0.113.5", 1), "headers": []})
    limits.check(request, "node")
    with pytest.raises(ApiError) as refused:
        limits.check(request, "node")
    assert refused.value.status == 429 and refused.value.headers == {"Retry-After": "1"}
    now[0] += 1.0
    limits.check(request, "node")


@pytest.mark.parametrize(("address", "key"), [
    ("203.0.113.5", "203.0.113.5"),
    ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
    ("2001:db8:1:2:ffff:1:2:3", "2001:db8:1:2::/64"),
    ("::ffff:198.51.100.7", "198.51.100.7"),
    ("unknown", "unknown"),
])
def test_address_key(address: str, key: str) -> None:
    assert address_key(address) == key
