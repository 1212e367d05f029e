"""Prometheus request metrics (middleware/edge.py records them for every request).

Series are labelled by route *template* (`/api/agent/{id}`), never by the raw path, so
cardinality stays bounded; unmatched paths share the label "unmatched". Everything is
registered on prometheus_client's default REGISTRY, where other branches register theirs
(GET /metrics, routes/metrics.py, serves it).

A request adds to plain numbers of this module (count, sum, one bucket) and a collector
turns them into the two families when the registry is read: prometheus_client's own
`Counter.inc` and `Histogram.observe` take a lock each (three per request, ~3 µs of a
cached answer's ~110). Requests are counted on the event loop and /metrics is rendered
on it, so the numbers need no lock; each worker process has its own registry.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass, field

from prometheus_client import REGISTRY
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import Scope

from satrank.api.middleware.route_match import route_template

REQUESTS_NAME = "satrank_http_requests"
LATENCY_NAME = "satrank_http_request_duration_seconds"
LABELS = ("method", "route", "status")
BUCKETS = (.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10)


def route_label(scope: Scope) -> str:
    return route_template(scope) or "unmatched"


@dataclass
class _Series:
    count: int = 0
    total_s: float = 0.0
    # one slot per bucket bound and one above the last (+Inf), not cumulative
    buckets: list[int] = field(default_factory=lambda: [0] * (len(BUCKETS) + 1))


_series: dict[tuple[str, str, int], _Series] = {}


def observe_request(scope: Scope, status: int, seconds: float) -> None:
    """Count one answered HTTP request and its duration, by method, route and status."""
    key = (scope["method"], route_label(scope), status)
    series = _series.get(key)
    if series is None:
        series = _series[key] = _Series()
    series.count += 1
    series.total_s += seconds
    series.buckets[bisect.bisect_left(BUCKETS, seconds)] += 1  # le: seconds <= bound


class RequestMetrics(Collector):
    """The counter and histogram families of the requests counted so far."""

    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily(REQUESTS_NAME, "HTTP requests answered by the api",
                                       labels=LABELS)
        latency = HistogramMetricFamily(
            LATENCY_NAME, "Time from request to the end of the response body", labels=LABELS)
        bounds = [*(str(float(b)) for b in BUCKETS), "+Inf"]
        for (method, route, status), series in list(_series.items()):
            labels = [method, route, str(status)]
            requests.add_metric(labels, series.count)
            cumulative, running = [], 0
            for bound, n in zip(bounds, series.buckets, strict=True):
                running += n
                cumulative.append((bound, running))
            latency.add_metric(labels, cumulative, series.total_s)
        yield requests
        yield latency


REGISTRY.register(RequestMetrics())
