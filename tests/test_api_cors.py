"""Integration: a browser agent's CORS preflights over real HTTP, against the real app's
middleware stack (paywall included), so a page's script can pay a 402 and send
`Authorization` back."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from satrank.api.app import create_app
from satrank.api.middleware.body_guard import BodyGuardMiddleware
from satrank.api.middleware.edge import EdgeMiddleware
from satrank.api.middleware.l402 import L402Middleware
from tests.l402_support import PreimageIssuer, serve_paid_app, settings_for

ORIGIN = "https://agent.example"
PROFILE = "/api/profile/02" + "ab" * 32


@pytest.fixture
def http(db_dsn: str) -> Iterator[httpx.Client]:
    with serve_paid_app(db_dsn, PreimageIssuer()) as base, \
            httpx.Client(base_url=base, timeout=30) as client:
        yield client


def _preflight(http: httpx.Client, path: str, method: str, headers: str) -> httpx.Response:
    return http.options(path, headers={"Origin": ORIGIN,
                                       "Access-Control-Request-Method": method,
                                       "Access-Control-Request-Headers": headers})


@pytest.mark.parametrize(("path", "method", "headers"), [
    (PROFILE, "GET", "authorization"),
    ("/api/verdicts", "POST", "authorization, content-type"),
    ("/api/deposit", "POST", "content-type"),
    ("/api/health", "GET", "x-request-id"),
])
def test_preflights_of_the_public_api_are_allowed(http: httpx.Client, path: str, method: str,
                                                  headers: str) -> None:
    response = _preflight(http, path, method, headers)
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == "*"
    assert method in response.headers["access-control-allow-methods"]
    allowed = response.headers["access-control-allow-headers"].lower()
    for header in headers.split(", "):
        assert header in allowed
    assert "access-control-allow-credentials" not in response.headers


def test_an_unusual_preflight_gets_no_plain_text_refusal(http: httpx.Client) -> None:
    """The preflight passes; the real request then answers in the error envelope."""
    preflight = _preflight(http, "/api/health", "DELETE", "x-custom-thing")
    assert preflight.status_code == 200
    real = http.delete("/api/health", headers={"Origin": ORIGIN})
    assert real.status_code == 405 and real.json()["error"]["code"] == "METHOD_NOT_ALLOWED"
    assert real.headers["access-control-allow-origin"] == "*"


def test_a_cross_origin_402_exposes_the_challenge(http: httpx.Client) -> None:
    response = http.get(PROFILE, headers={"Origin": ORIGIN})
    assert response.status_code == 402
    assert response.headers["access-control-allow-origin"] == "*"
    exposed = response.headers["access-control-expose-headers"].lower()
    assert "www-authenticate" in exposed and "x-request-id" in exposed


def test_metrics_stay_closed_to_browsers(http: httpx.Client) -> None:
    """/metrics is open to loopback without a key: a web page must not read it."""
    response = http.get("/metrics", headers={"Origin": ORIGIN})
    assert "access-control-allow-origin" not in response.headers
    preflight = _preflight(http, "/metrics", "GET", "x-api-key")
    assert "access-control-allow-origin" not in preflight.headers


def test_one_outer_layer_does_the_per_request_jobs(db_dsn: str) -> None:
    """Request id, CORS, metrics, the access line and interest notes are one pure ASGI layer
    in front of the body guard and the paywall: every layer costs every request a
    coroutine and a `send` wrapper (bench/RESULTS.md, issue 20)."""
    app = create_app(settings_for(), db_dsn, invoice_issuer=PreimageIssuer())
    assert [m.cls for m in app.user_middleware] == [
        EdgeMiddleware, BodyGuardMiddleware, L402Middleware]


def test_every_answer_carries_the_request_id_and_varies_by_origin(http: httpx.Client) -> None:
    """From the preflight, the paywall's 402 and a route's answer alike."""
    preflight = _preflight(http, PROFILE, "GET", "authorization")
    challenge = http.get(PROFILE, headers={"Origin": ORIGIN, "X-Request-Id": "trace-1"})
    plain = http.get("/api/health")
    assert challenge.headers["x-request-id"] == "trace-1"
    assert len(preflight.headers["x-request-id"]) == len(plain.headers["x-request-id"]) == 16
    assert "Origin" in challenge.headers["vary"] and "Origin" in plain.headers["vary"]
    assert "access-control-allow-origin" not in plain.headers
    assert http.get("/metrics").headers.get("vary") is None  # not a public path
