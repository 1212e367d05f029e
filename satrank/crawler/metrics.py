"""Crawler metrics (prometheus-client, default registry, names prefixed satrank_crawler_)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, start_http_server

# The publisher is imported only when it runs (crawler/jobs.py), but the alert rules read
# its outbox series: registered from the start, they read 0 until it publishes.
from satrank.config import LOOPBACK
from satrank.nostr import metrics as _nostr_metrics  # noqa: F401

SYNC_SECONDS = Histogram("satrank_crawler_graph_sync_seconds", "DescribeGraph + DB merge",
                         buckets=(0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600))
SCORING_SECONDS = Histogram("satrank_crawler_scoring_seconds", "load + score + store",
                            buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60))
GRAPH_NODES = Gauge("satrank_crawler_graph_nodes", "active nodes after the last sync")
GRAPH_CHANNELS = Gauge("satrank_crawler_graph_channels", "open channels after the last sync")
PROBES = Counter("satrank_crawler_probes_total", "probes sent", ["outcome", "tier"])
PROBE_SECONDS = Histogram("satrank_crawler_probe_seconds", "probe payment latency",
                          buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120))
QUEUE_OPEN = Gauge("satrank_crawler_probe_queue_open",
                   "probe queue rows not done yet, after the last plan")
VANTAGE_PROBES = Counter("satrank_crawler_vantage_probes_total",
                         "probes sent and stored by this process's workers", ["vantage"])
LAST_SUCCESS = Gauge("satrank_crawler_last_success_timestamp_seconds",
                     "unix time of the last successful phase", ["phase"])
# Per job of crawler/jobs.py, labelled `phase` with the job's name (as the alert rules
# expect); FAILURES also counts `lnd_connect`, LAST_SUCCESS also the scoring phase.
# One per stage the registry job reached; `reason` is OK or a fixed code (docs/registry.md).
REGISTRY_STAGES = Counter("satrank_registry_stages_total", "registry stage checks",
                          ["stage", "reason"])
REGISTRY_SPENT_SAT = Counter("satrank_registry_paid_sat_total",
                             "sat the registry paid services (payments that succeeded)")
FAILURES = Counter("satrank_crawler_failures_total", "failed job runs", ["phase"])
JOB_RUNS = Counter("satrank_crawler_job_runs_total", "job runs started", ["phase"])
JOB_SECONDS = Histogram("satrank_crawler_job_seconds", "duration of one job run", ["phase"],
                        buckets=(0.1, 0.5, 1, 5, 10, 30, 60, 120, 300, 600, 1800))
IS_LEADER = Gauge("satrank_crawler_is_leader", "1 while this process holds the leader lock")


def start_metrics_server(port: int, host: str = LOOPBACK) -> None:
    """Serve /metrics on `host`: loopback unless the operator says otherwise (a container
    publishing the port on the host's loopback); never meant to be public."""
    start_http_server(port, addr=host)
