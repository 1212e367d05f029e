"""GET /api/profile/{id} (paid, 1 credit): the full evidence behind a node's score.

The price is applied by the L402 middleware (api/prices.py) before this handler runs;
nothing here grants or checks payment. Postgres renders the document in one statement;
documents are cached per node until newer data arrives (api/profile_cache.py).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from satrank.api.errors import ApiError
from satrank.api.ids import parse_node_id
from satrank.api.profile_cache import ProfileCache
from satrank.api.render import json_bytes


async def profile(request: Request) -> Response:
    kind, value = parse_node_id(request.path_params["id"])
    cache: ProfileCache = request.app.state.profile_cache
    body = await cache.get(request.app.state.pool, kind, value)
    if body is None:
        raise ApiError(404, "NOT_FOUND", "no node with this id in the graph",
                       details={"resource": "agent"})
    return json_bytes(body, headers={"Cache-Control": "private, no-store"})


routes = [Route("/api/profile/{id}", profile, methods=["GET"])]
