"""GET /api/health: can this api serve, and is the data behind it fresh?

status:
- "down" (503): the database is unreachable or its schema is not the one this code
  expects. Nothing useful can be served.
- "degraded" (200): the api serves, but something around it needs an operator: lnd
  unreachable, graph or scores stale, no probes in the last hour, Nostr outbox lagging,
  disk nearly full. Crawler problems never turn the api "down" (a load balancer must not
  pull a working api because the crawler stalled).
- "ok" (200): none of the above.

LND: the api checks GetInfo only when a readonly macaroon is configured
(`ApiLightning.info`) and then reports our node's pubkey and its active channel count;
otherwise lnd is reported "not_configured" (nothing to retry: the operator must set
LND_READONLY_MACAROON_PATH) and does not affect status. The GetInfo answer is cached for
LND_CHECK_TTL_S (api/cache) so health polling cannot load lnd.
"""

from __future__ import annotations

import asyncio
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from satrank import __version__
from satrank.api.errors import DATABASE_RETRY_AFTER_S
from satrank.api.state import ApiState, api_state
from satrank.db.health import Freshness, check_database, fetch_freshness
from satrank.db.migrations import latest_version, load_migrations
from satrank.lightning.errors import LightningError

GRAPH_STALE_S = 2 * 3600
SCORES_STALE_S = 2 * 3600
OUTBOX_LAG_S = 15 * 60
DISK_MIN_FREE_BYTES = 1 << 30
DISK_MIN_FREE_FRACTION = 0.05
LND_TIMEOUT_S = 3.0
NOT_CONFIGURED = "not_configured"


def _age_s(moment: datetime | None, now: datetime) -> int | None:
    return None if moment is None else max(0, int((now - moment).total_seconds()))


async def _lnd_status(state: ApiState) -> dict[str, Any]:
    lightning = state.lightning
    if lightning.info is None:
        return {"status": NOT_CONFIGURED,
                "detail": "not configured: set LND_TLS_CERT_PATH and "
                          "LND_READONLY_MACAROON_PATH to check our node"}
    cached = state.caches.lnd_check.get()
    if cached is not None:
        return cached
    try:
        info = await asyncio.wait_for(lightning.info.get_info(), LND_TIMEOUT_S)
    except (LightningError, TimeoutError) as exc:
        result: dict[str, Any] = {"status": "unreachable", "detail": type(exc).__name__}
    else:
        result = {"status": "ok" if info.synced_to_chain else "not_synced",
                  "pubkey": info.identity_pubkey, "alias": info.alias,
                  "activeChannels": info.num_active_channels, "peers": info.num_peers,
                  "blockHeight": info.block_height, "syncedToChain": info.synced_to_chain,
                  "syncedToGraph": info.synced_to_graph, "version": info.version}
    return state.caches.lnd_check.put(result)


def _disk(path: Path) -> dict[str, Any]:
    target = path if path.exists() else Path(".")
    usage = shutil.disk_usage(target)
    low = usage.free < DISK_MIN_FREE_BYTES or usage.free < usage.total * DISK_MIN_FREE_FRACTION
    return {"freeBytes": usage.free, "totalBytes": usage.total, "low": low}


def _freshness_checks(f: Freshness, nostr_enabled: bool) -> tuple[dict[str, Any], list[str]]:
    reasons: list[str] = []
    graph_age = _age_s(f.graph_synced_at, f.now)
    scores_age = _age_s(f.scores_computed_at, f.now)
    lag = int(f.outbox.oldest_pending_age_s)
    if graph_age is None:
        reasons.append("graph never synced")
    elif graph_age > GRAPH_STALE_S:
        reasons.append(f"graph is stale ({graph_age} s old)")
    if scores_age is None:
        reasons.append("no scores computed yet")
    elif scores_age > SCORES_STALE_S:
        reasons.append(f"scores are stale ({scores_age} s old)")
    if f.probes_last_hour == 0:
        reasons.append("no probes in the last hour")
    if nostr_enabled and lag > OUTBOX_LAG_S:
        reasons.append(f"nostr outbox lags {lag} s")
    checks = {
        "graph": {"ageSeconds": graph_age, "stale": graph_age is None or
                  graph_age > GRAPH_STALE_S, "staleAfterSeconds": GRAPH_STALE_S},
        "scoring": {"ageSeconds": scores_age, "stale": scores_age is None or
                    scores_age > SCORES_STALE_S, "staleAfterSeconds": SCORES_STALE_S},
        "probes": {"lastHour": f.probes_last_hour},
        "nostrOutbox": {"enabled": nostr_enabled, "pending": f.outbox.pending,
                        "lagSeconds": lag},
    }
    return checks, reasons


async def health(request: Request) -> JSONResponse:
    state = api_state(request)
    pool = state.pool
    expected = latest_version(load_migrations())
    db = await check_database(pool)
    down: list[str] = []
    if not db.reachable:
        down.append("database unreachable")
    elif db.schema_version != expected:
        down.append(f"schema version {db.schema_version}, expected {expected}")
    checks: dict[str, Any] = {"database": {
        "ok": db.reachable, "schemaVersion": db.schema_version,
        "expectedSchemaVersion": expected,
    }}
    degraded: list[str] = []
    if not down:
        fresh = await fetch_freshness(pool)
        if fresh is None:
            down.append("database query failed")
        else:
            more, degraded = _freshness_checks(fresh, bool(state.nostr.relays))
            checks.update(more)
    lnd = await _lnd_status(state)
    checks["lnd"] = lnd
    if lnd["status"] not in ("ok", NOT_CONFIGURED):
        degraded.append(f"lnd {lnd['status']}")
    checks["disk"] = _disk(state.data_dir)
    if checks["disk"]["low"]:
        degraded.append("disk space low")
    status = "down" if down else "degraded" if degraded else "ok"
    body = {"status": status, "version": __version__, "reasons": down + degraded,
            "checks": checks}
    headers = {"Cache-Control": "no-store"}
    if down:
        headers["Retry-After"] = str(DATABASE_RETRY_AFTER_S)
    return JSONResponse(body, status_code=503 if down else 200, headers=headers)


routes = [Route("/api/health", health, methods=["GET"])]
