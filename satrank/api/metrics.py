"""Prometheus: request metrics middleware and the GET /metrics route.

Series are labelled by route *template* (`/api/agent/{id}`), never by the raw path, so
cardinality stays bounded; unmatched paths share the label "unmatched". Everything is
registered on prometheus_client's default REGISTRY, where other branches register theirs.
/metrics is free from loopback and needs `X-API-Key` from anywhere else.
"""

from __future__ import annotations

import hmac
import ipaddress
import time

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from satrank.api.client_ip import client_ip
from satrank.api.errors import ApiError

REQUESTS = Counter("satrank_http_requests_total", "HTTP requests answered by the api",
                   ["method", "route", "status"])
LATENCY = Histogram("satrank_http_request_duration_seconds",
                    "Time from request to the end of the response body",
                    ["method", "route", "status"],
                    buckets=(.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))
POOL_SIZE = Gauge("satrank_db_pool_connections", "Connections open in the api's pool")
POOL_IDLE = Gauge("satrank_db_pool_idle_connections", "Idle connections in the api's pool")
POOL_MAX = Gauge("satrank_db_pool_max_connections", "Configured maximum pool size")


def route_label(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"


class MetricsMiddleware:
    """Pure ASGI: times every HTTP request and counts it by method, route and status."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            labels = (scope["method"], route_label(scope), str(status))
            REQUESTS.labels(*labels).inc()
            LATENCY.labels(*labels).observe(time.perf_counter() - started)


def _client_is_loopback(request: Request) -> bool:
    """Is the client (`client_ip`: the TCP peer, or behind our own proxy the address it
    forwarded) on this machine? Prometheus scrapes from here."""
    address = client_ip(request.scope, request.app.state.settings)
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def _api_key_ok(request: Request) -> bool:
    key = request.app.state.settings.l402.api_key
    sent = request.headers.get("x-api-key")
    if key is None or sent is None:
        return False
    return hmac.compare_digest(sent.encode(), key.reveal().encode())


async def metrics(request: Request) -> Response:
    if not (_client_is_loopback(request) or _api_key_ok(request)):
        raise ApiError(403, "FORBIDDEN", "/metrics needs X-API-Key from non-loopback clients")
    pool = request.app.state.pool
    POOL_SIZE.set(pool.get_size())
    POOL_IDLE.set(pool.get_idle_size())
    POOL_MAX.set(pool.get_max_size())
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


routes = [Route("/metrics", metrics, methods=["GET"])]
