"""Prometheus metrics of the Nostr publisher (default registry, `satrank_nostr_` prefix)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

OUTBOX_DEPTH = Gauge(
    "satrank_nostr_outbox_depth", "Outbox rows not yet delivered to every relay"
)
OUTBOX_OLDEST_AGE = Gauge(
    "satrank_nostr_outbox_oldest_pending_seconds", "Age of the oldest undelivered outbox row"
)
EVENTS_SIGNED = Counter("satrank_nostr_events_signed_total", "Events signed for publishing")
EVENTS_PUBLISHED = Counter(
    "satrank_nostr_events_published_total", "Events a relay accepted", ["relay"]
)
EVENTS_FAILED = Counter(
    "satrank_nostr_events_failed_total",
    "Events a relay refused (rejected: final) or did not confirm (failed: retried)",
    ["relay", "outcome"],
)
RELAY_CONNECT_FAILURES = Counter(
    "satrank_nostr_relay_connect_failures_total", "Failed or lost relay connections", ["relay"]
)
LAST_PUBLISH = Gauge(
    "satrank_nostr_last_publish_timestamp_seconds",
    "Unix time of the last event a relay accepted",
    ["relay"],
)
