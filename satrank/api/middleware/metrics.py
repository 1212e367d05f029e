"""Prometheus request metrics as pure ASGI middleware.

Series are labelled by route *template* (`/api/agent/{id}`), never by the raw path, so
cardinality stays bounded; unmatched paths share the label "unmatched". Everything is
registered on prometheus_client's default REGISTRY, where other branches register theirs
(GET /metrics, routes/metrics.py, serves it).
"""

from __future__ import annotations

import time

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from satrank.api.middleware.route_match import route_template

REQUESTS = Counter("satrank_http_requests_total", "HTTP requests answered by the api",
                   ["method", "route", "status"])
LATENCY = Histogram("satrank_http_request_duration_seconds",
                    "Time from request to the end of the response body",
                    ["method", "route", "status"],
                    buckets=(.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))


def route_label(scope: Scope) -> str:
    return route_template(scope) or "unmatched"


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
