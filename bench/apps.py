"""The uvicorn factory of bench/api.py's anchor: a trivial Starlette endpoint."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


async def _trivial(request: Request) -> JSONResponse:
    return JSONResponse({"ok": True})


def trivial() -> Starlette:
    """The baseline: one Starlette JSON route, no middleware, no database."""
    return Starlette(routes=[Route("/trivial", _trivial)])
