"""uvicorn factories for bench/api.py: the trivial baseline and the SatRank api."""

from __future__ import annotations

import os

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from satrank.api.app import create_app
from satrank.config import Settings


async def _trivial(request: Request) -> JSONResponse:
    return JSONResponse({"ok": True})


def trivial() -> Starlette:
    """The baseline: one Starlette JSON route, no middleware, no database."""
    return Starlette(routes=[Route("/trivial", _trivial)])


def satrank() -> Starlette:
    """The real app (no paywall until the l402 branch is merged) on BENCH_DSN."""
    settings = Settings.from_environ({"L402_MACAROON_SECRET": "b" * 40,
                                      "DB_POOL_MAX": os.environ.get("BENCH_POOL_MAX", "10")})
    return create_app(settings, os.environ["BENCH_DSN"])
