"""The api's composition root: `create_app(settings, dsn)` wires every part."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.routing import Route

from satrank.api.access_log import AccessLogMiddleware
from satrank.api.errors import (
    ApiError,
    handle_api_error,
    handle_http_exception,
    handle_unexpected,
)
from satrank.api.health import health
from satrank.api.nostr_json import routes as nostr_json_routes
from satrank.api.request_id import RequestIdMiddleware
from satrank.config import Settings
from satrank.db.pool import create_pool


def create_app(settings: Settings, dsn: str) -> Starlette:
    """The Starlette app; its lifespan opens the database pool and closes it on shutdown."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.pool = await create_pool(dsn, settings.database)
        try:
            yield
        finally:
            await app.state.pool.close()

    app = Starlette(
        routes=[
            Route("/api/health", health, methods=["GET"]),
            *nostr_json_routes,
        ],
        middleware=[
            Middleware(RequestIdMiddleware),
            Middleware(AccessLogMiddleware, log_client_ips=settings.log_client_ips),
        ],
        exception_handlers={
            ApiError: handle_api_error,
            HTTPException: handle_http_exception,
            Exception: handle_unexpected,
        },
        lifespan=lifespan,
    )
    app.state.settings = settings
    return app
