"""Prometheus request metrics (middleware/edge.py records them for every request).

Series are labelled by route *template* (`/api/agent/{id}`), never by the raw path, so
cardinality stays bounded; unmatched paths share the label "unmatched". Everything is
registered on prometheus_client's default REGISTRY, where other branches register theirs
(GET /metrics, routes/metrics.py, serves it).
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram
from starlette.types import Scope

from satrank.api.middleware.route_match import route_template

REQUESTS = Counter("satrank_http_requests_total", "HTTP requests answered by the api",
                   ["method", "route", "status"])
LATENCY = Histogram("satrank_http_request_duration_seconds",
                    "Time from request to the end of the response body",
                    ["method", "route", "status"],
                    buckets=(.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))


def route_label(scope: Scope) -> str:
    return route_template(scope) or "unmatched"


# The labelled children by (method, route, status): `labels()` validates and locks on every
# call; the set of keys is the set of series the registry already holds.
_series: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}


def observe_request(scope: Scope, status: int, seconds: float) -> None:
    """Count one answered HTTP request and its duration, by method, route and status."""
    key = (scope["method"], route_label(scope), status)
    series = _series.get(key)
    if series is None:
        labels = (key[0], key[1], str(status))
        series = _series[key] = (REQUESTS.labels(*labels), LATENCY.labels(*labels))
    series[0].inc()
    series[1].observe(seconds)
