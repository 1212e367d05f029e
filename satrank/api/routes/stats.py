"""GET /api/stats: network and oracle counters, cached briefly (they move slowly)."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from satrank.api.cache import STATS_TTL_S
from satrank.api.render import dumps, json_bytes, unix
from satrank.api.state import api_state
from satrank.db.stats import fetch_stats


def stats_document(row: dict[str, Any]) -> dict[str, Any]:
    verdicts = json.loads(row["verdicts"]) if row["verdicts"] else {}
    probed = int(row["nodes_probed_7d"])
    return {
        "nodes": {"active": row["nodes_active"], "all": row["nodes_all"],
                  "scored": row["nodes_scored"]},
        "channels": {"open": row["channels_open"],
                     "capacitySat": int(row["capacity_sat"]),
                     "capacityBtc": round(int(row["capacity_sat"]) / 1e8, 1)},
        "verdicts": {v: int(verdicts.get(v, 0))
                     for v in ("SAFE", "RISKY", "UNKNOWN", "INSUFFICIENT")},
        "probes": {"last24h": row["probes_24h"], "nodesProbed7d": probed,
                   "nodesReached7d": row["nodes_reached_7d"],
                   "reachableRate7d": round(row["nodes_reached_7d"] / probed, 3)
                   if probed else None},
        "reports": {"last30d": row["reports_30d"], "verified30d": row["reports_verified_30d"]},
        "graphSyncedAt": unix(row["graph_synced_at"]),
        "scoredAt": unix(row["scored_at"]),
    }


async def stats(request: Request) -> Response:
    state = api_state(request)
    body = state.caches.stats.get()
    if body is None:
        body = state.caches.stats.put(
            dumps({"data": stats_document(await fetch_stats(state.pool))}))
    return json_bytes(body, headers={"Cache-Control": f"public, max-age={int(STATS_TTL_S)}"})


routes = [Route("/api/stats", stats, methods=["GET"])]
