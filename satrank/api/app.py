"""The api's composition root: `create_app(settings, dsn)` wires every part."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware

from satrank.api import (
    agents,
    docs,
    health,
    metrics,
    openapi,
    probe,
    profile,
    reports,
    stats,
    verdicts,
)
from satrank.api.access_log import AccessLogMiddleware
from satrank.api.deposit import routes as deposit_routes
from satrank.api.errors import (
    ApiError,
    handle_api_error,
    handle_http_exception,
    handle_unexpected,
)
from satrank.api.free_limits import FreeRouteLimits
from satrank.api.guards import BodyGuardMiddleware
from satrank.api.invoices import UnconfiguredInvoiceIssuer, open_invoice_issuer
from satrank.api.leaderboard import AgentCache, DataVersion, LeaderboardCache
from satrank.api.lightning_services import ApiLightning, open_api_lightning
from satrank.api.metrics import MetricsMiddleware
from satrank.api.nostr_json import routes as nostr_json_routes
from satrank.api.paywall import L402Middleware, Paywall
from satrank.api.prices import ROUTE_PRICES
from satrank.api.reports import TokenChecker
from satrank.api.request_id import RequestIdMiddleware
from satrank.config import Settings
from satrank.db.pool import create_pool
from satrank.db.reports import ReportLimits
from satrank.db.tokens import TokenLedger
from satrank.l402.mint import InvoiceIssuer


def create_app(
    settings: Settings,
    dsn: str,
    *,
    invoice_issuer: InvoiceIssuer | None = None,
    lightning: ApiLightning | None = None,
    report_token_checker: TokenChecker | None = None,
) -> Starlette:
    """The Starlette app; its lifespan opens the database pool and closes it on shutdown.

    `lightning`: the backends this process may use (health GetInfo, /api/probe); the
    caller owns and closes them; None: opened from the LND settings at startup.
    `report_token_checker`: how POST /api/report recognises
    a valid L402 token without debiting it (None: only preimage-verified reports).
    Invoices for 402 challenges come from `invoice_issuer`, or from LND's invoice
    macaroon when None.
    """
    paywall = Paywall(settings)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.pool = await create_pool(dsn, settings.database)
        lnd_issuer = None if invoice_issuer is not None else await open_invoice_issuer(settings)
        issuer = invoice_issuer or lnd_issuer or UnconfiguredInvoiceIssuer()
        paywall.start(TokenLedger(app.state.pool), issuer)
        own_lightning = open_api_lightning(settings) if lightning is None else None
        app.state.lightning = lightning or own_lightning
        try:
            yield
        finally:
            if own_lightning is not None:
                await own_lightning.close()
            if lnd_issuer is not None:
                await lnd_issuer.close()
            await app.state.pool.close()

    app = Starlette(
        routes=[
            *health.routes,
            *stats.routes,
            *agents.routes,
            *profile.routes,
            *verdicts.routes,
            *probe.routes,
            *reports.routes,
            *openapi.routes,
            *docs.routes,
            *metrics.routes,
            *deposit_routes,
            *nostr_json_routes,
        ],
        middleware=[
            Middleware(MetricsMiddleware),
            Middleware(RequestIdMiddleware),
            Middleware(AccessLogMiddleware, log_client_ips=settings.log_client_ips),
            Middleware(BodyGuardMiddleware),
            Middleware(L402Middleware, paywall=paywall, prices=ROUTE_PRICES),
        ],
        exception_handlers={
            ApiError: handle_api_error,
            HTTPException: handle_http_exception,
            Exception: handle_unexpected,
        },
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.paywall = paywall
    app.state.lightning = lightning or ApiLightning()  # replaced at startup (lifespan)
    app.state.report_token_checker = report_token_checker
    app.state.report_limits = ReportLimits()
    app.state.data_version = DataVersion()
    app.state.leaderboard = LeaderboardCache(app.state.data_version)
    app.state.agent_cache = AgentCache(app.state.data_version)
    app.state.probe_slots = asyncio.Semaphore(probe.PROBE_SLOTS)
    app.state.free_limits = FreeRouteLimits(settings)
    return app
