"""Free node routes: summary, verdict (with ETag), leaderboard, alias search.

The public paths keep the earlier SatRank's word "agent" for a Lightning node.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from satrank.api.body import query_int
from satrank.api.cursors import decode_cursor
from satrank.api.errors import ApiError
from satrank.api.ids import node_not_found, parse_node_id
from satrank.api.quote import Basis, parse_basis
from satrank.api.render import (
    bayesian_block,
    dumps,
    json_bytes,
    leaderboard_item,
    node_block,
    verdict_block,
)
from satrank.api.rendered import RenderedResponse, conditional
from satrank.api.state import api_state
from satrank.db.nodes import SORT_AXES, NodeSummary, SortAxis, search_nodes

VERDICT_MAX_AGE_S = 30
_VERDICT_CACHING = f"public, max-age={VERDICT_MAX_AGE_S}"
MAX_OFFSET = 10_000
DEFAULT_SORT: SortAxis = "rank"
DEFAULT_LIMIT = 20
MAX_ALIAS_LEN = 64


async def _node_or_404(request: Request) -> NodeSummary:
    state = api_state(request)
    state.free_limits.check(request, "node")
    kind, value = parse_node_id(request.path_params["id"])
    node = await state.caches.nodes.get(state.pool, kind, value)
    if node is None:
        raise node_not_found()
    return node


def _summary_body(n: NodeSummary, basis: Basis | None = None) -> bytes:
    return dumps({"data": {
        "agent": node_block(n), "rank": n.rank, "bayesian": bayesian_block(n, basis),
    }})


async def node_summary(request: Request) -> Response:
    """`amount_sat` and `fee_budget` (tight, normal or sat) ask for the figures of another
    payment than the default one; they are validated before the lookup."""
    # no query string (the default payment): nothing to parse
    basis = parse_basis(request.query_params) if request.scope["query_string"] else None
    n = await _node_or_404(request)
    if basis is not None:
        return json_bytes(_summary_body(n, basis))
    return RenderedResponse(api_state(request).caches.nodes.body("summary", n, _summary_body))


def _verdict_body(n: NodeSummary) -> bytes:
    return dumps({"data": verdict_block(n)})


async def node_verdict(request: Request) -> Response:
    n = await _node_or_404(request)
    return conditional(request.scope, api_state(request).caches.nodes.body(
        "verdict", n, _verdict_body), _VERDICT_CACHING)


def _sort_axis(request: Request) -> SortAxis:
    raw = request.query_params.get("sort_by", DEFAULT_SORT)
    if raw not in SORT_AXES:
        raise ApiError(400, "INVALID_PARAMETER", "sort_by must be one of " + ", ".join(SORT_AXES),
                       details={"field": "sort_by"})
    return raw


async def leaderboard(request: Request) -> Response:
    """A page by `cursor` (keyset: reaches every node, however deep) or by `offset`, with
    its ETag (If-None-Match gets a 304)."""
    state = api_state(request)
    if not request.scope["query_string"]:  # the default page: nothing to parse
        return conditional(request.scope, await state.caches.leaderboard.page(
            state.pool, DEFAULT_SORT, DEFAULT_LIMIT, 0))
    sort = _sort_axis(request)
    limit = query_int(request, "limit", DEFAULT_LIMIT, 1, 100)
    offset = query_int(request, "offset", 0, 0, MAX_OFFSET)
    cursor = request.query_params.get("cursor")
    after = None
    if cursor is not None:
        if offset:
            raise ApiError(400, "INVALID_PARAMETER", "give cursor or offset, not both",
                           details={"field": "cursor"})
        after = decode_cursor(sort, cursor)
    return conditional(request.scope, await state.caches.leaderboard.page(
        state.pool, sort, limit, offset, after))


async def node_search(request: Request) -> Response:
    state = api_state(request)
    state.free_limits.check(request, "search")
    alias = request.query_params.get("alias", "")
    if not 1 <= len(alias.strip()) <= MAX_ALIAS_LEN or "\x00" in alias:
        raise ApiError(400, "INVALID_PARAMETER",
                       f"alias must be 1 to {MAX_ALIAS_LEN} characters",
                       details={"field": "alias"})
    limit = query_int(request, "limit", 20, 1, 50)
    rows = await search_nodes(state.pool, alias.strip(), limit)
    return json_bytes(dumps({
        "data": [leaderboard_item(n) for n in rows],
        "meta": {"count": len(rows), "limit": limit},
    }))


routes = [
    Route("/api/agent/{id}", node_summary, methods=["GET"]),
    Route("/api/agent/{id}/verdict", node_verdict, methods=["GET"]),
    Route("/api/agents/top", leaderboard, methods=["GET"]),
    Route("/api/agents/search", node_search, methods=["GET"]),
]
