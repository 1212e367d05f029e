"""Free agent routes: summary, verdict (with ETag), leaderboard, alias search."""

from __future__ import annotations

import hashlib

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from satrank.api.body import query_int
from satrank.api.errors import ApiError
from satrank.api.free_limits import FreeRouteLimits
from satrank.api.ids import parse_node_id
from satrank.api.leaderboard import AgentCache, LeaderboardCache
from satrank.api.render import (
    agent_block,
    bayesian_block,
    dumps,
    json_bytes,
    leaderboard_item,
    verdict_block,
)
from satrank.db.nodes import SORT_AXES, SortAxis
from satrank.db.nodes import NodeSummary as AgentSummary
from satrank.db.nodes import search_nodes as search_agents

VERDICT_MAX_AGE_S = 30
MAX_OFFSET = 10_000
MAX_ALIAS_LEN = 64


async def _agent_or_404(request: Request) -> AgentSummary:
    limits: FreeRouteLimits = request.app.state.free_limits
    limits.check(request, "agent")
    kind, value = parse_node_id(request.path_params["id"])
    cache: AgentCache = request.app.state.agent_cache
    agent = await cache.get(request.app.state.pool, kind, value)
    if agent is None:
        raise ApiError(404, "NOT_FOUND", "no node with this id in the graph",
                       details={"resource": "agent"})
    return agent


async def agent_summary(request: Request) -> Response:
    a = await _agent_or_404(request)
    return json_bytes(dumps({"data": {
        "agent": agent_block(a), "rank": a.rank, "bayesian": bayesian_block(a),
    }}))


def _etag_matches(header: str, etag: str) -> bool:
    """Weak comparison (RFC 9110 §13.1.2) against an If-None-Match list."""
    if header.strip() == "*":
        return True
    bare = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == bare for tag in header.split(","))


async def agent_verdict(request: Request) -> Response:
    a = await _agent_or_404(request)
    body = dumps({"data": verdict_block(a)})
    etag = 'W/"' + hashlib.sha256(body).hexdigest()[:16] + '"'
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={VERDICT_MAX_AGE_S}"}
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None and _etag_matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    return json_bytes(body, headers=headers)


def _sort_axis(request: Request) -> SortAxis:
    raw = request.query_params.get("sort_by", "rank")
    if raw not in SORT_AXES:
        raise ApiError(400, "INVALID_PARAMETER", "sort_by must be one of " + ", ".join(SORT_AXES),
                       details={"field": "sort_by"})
    return raw


async def agents_top(request: Request) -> Response:
    sort = _sort_axis(request)
    limit = query_int(request, "limit", 20, 1, 100)
    offset = query_int(request, "offset", 0, 0, MAX_OFFSET)
    cache: LeaderboardCache = request.app.state.leaderboard
    return json_bytes(await cache.page(request.app.state.pool, sort, limit, offset))


async def agents_search(request: Request) -> Response:
    limits: FreeRouteLimits = request.app.state.free_limits
    limits.check(request, "search")
    alias = request.query_params.get("alias", "")
    if not 1 <= len(alias.strip()) <= MAX_ALIAS_LEN or "\x00" in alias:
        raise ApiError(400, "INVALID_PARAMETER",
                       f"alias must be 1 to {MAX_ALIAS_LEN} characters",
                       details={"field": "alias"})
    limit = query_int(request, "limit", 20, 1, 50)
    rows = await search_agents(request.app.state.pool, alias.strip(), limit)
    return json_bytes(dumps({
        "data": [leaderboard_item(a) for a in rows],
        "meta": {"count": len(rows), "limit": limit},
    }))


routes = [
    Route("/api/agent/{id}", agent_summary, methods=["GET"]),
    Route("/api/agent/{id}/verdict", agent_verdict, methods=["GET"]),
    Route("/api/agents/top", agents_top, methods=["GET"]),
    Route("/api/agents/search", agents_search, methods=["GET"]),
]
