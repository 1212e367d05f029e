"""GET /api/profile/{id} (paid, 1 credit): the full evidence behind a node's score.

The price is applied by the L402 middleware (api/prices.py) before this handler runs;
nothing here grants or checks payment. Postgres renders the document in one statement;
documents are cached per node until newer data arrives (api/cache/profile.py).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from satrank.api.ids import node_not_found, parse_node_id
from satrank.api.render import json_bytes
from satrank.api.state import api_state


async def check_input(request: Request) -> None:
    """Run by the paywall before payment: an invalid id is a 400, never a 402."""
    parse_node_id(request.path_params["id"])


async def profile(request: Request) -> Response:
    kind, value = parse_node_id(request.path_params["id"])
    state = api_state(request)
    body = await state.caches.profiles.get(state.pool, kind, value)
    if body is None:
        raise node_not_found()
    return json_bytes(body, headers={"Cache-Control": "private, no-store"})


routes = [Route("/api/profile/{id}", profile, methods=["GET"])]
