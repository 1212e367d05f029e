"""GET /metrics: everything on prometheus_client's default REGISTRY, plus the api's pool
gauges. Free from loopback, `X-API-Key` from anywhere else (admin.py)."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Gauge, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from satrank.api.admin import admin_allowed
from satrank.api.errors import ApiError
from satrank.api.state import api_state

POOL_SIZE = Gauge("satrank_db_pool_connections", "Connections open in the api's pool")
POOL_IDLE = Gauge("satrank_db_pool_idle_connections", "Idle connections in the api's pool")
POOL_MAX = Gauge("satrank_db_pool_max_connections", "Configured maximum pool size")


async def metrics(request: Request) -> Response:
    state = api_state(request)
    if not admin_allowed(request.scope, api_key=state.api_key,
                         trusted_proxies=state.api.trusted_proxies):
        raise ApiError(403, "FORBIDDEN", "/metrics needs X-API-Key from non-loopback clients")
    pool = state.pool
    POOL_SIZE.set(pool.get_size())
    POOL_IDLE.set(pool.get_idle_size())
    POOL_MAX.set(pool.get_max_size())
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


routes = [Route("/metrics", metrics, methods=["GET"])]
