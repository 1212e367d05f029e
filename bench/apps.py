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


OPERATOR_TOKEN = "bench-operator-token-0123456789"


def satrank() -> Starlette:
    """The real app on BENCH_DSN, paywall included: paid routes are reached with the
    operator bypass (X-Operator-Token), so the paywall's check runs but no ledger debit.
    The free routes' per-IP limits are set out of reach (wrk is one client) but still run."""
    settings = Settings.from_environ({"L402_MACAROON_SECRET": "b" * 40,
                                      "OPERATOR_BYPASS_SECRET": OPERATOR_TOKEN,
                                      "RATE_LIMIT_AGENT_PER_MIN": "1e9",
                                      "RATE_LIMIT_AGENT_BURST": "1000000000",
                                      "RATE_LIMIT_SEARCH_PER_MIN": "1e9",
                                      "RATE_LIMIT_SEARCH_BURST": "1000000000",
                                      "DB_POOL_MAX": os.environ.get("BENCH_POOL_MAX", "10")})
    return create_app(settings, os.environ["BENCH_DSN"])
