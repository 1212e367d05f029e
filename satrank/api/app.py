"""The api's composition root: `create_app(settings, dsn)` wires every part;
`app_from_environ` is the uvicorn factory each worker process of `satrank serve` calls."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware

from satrank.api.cache import ApiCaches
from satrank.api.clients import client_ip
from satrank.api.errors import (
    DATABASE_EXCEPTIONS,
    ApiError,
    handle_api_error,
    handle_database_error,
    handle_http_exception,
    handle_unexpected,
)
from satrank.api.free_limits import FreeRouteLimits
from satrank.api.intent_input import our_pubkey
from satrank.api.ledger import CreditLeases
from satrank.api.lightning import (
    ApiLightning,
    UnconfiguredInvoiceIssuer,
    node_deployment,
    open_api_lightning,
    open_invoice_issuer,
)
from satrank.api.middleware.access_log import AccessLog
from satrank.api.middleware.body_guard import BodyGuardMiddleware
from satrank.api.middleware.edge import EdgeMiddleware
from satrank.api.middleware.interest import InterestBuffer
from satrank.api.middleware.l402 import L402Middleware
from satrank.api.paywall import Paywall
from satrank.api.prices import ROUTE_PRICES
from satrank.api.probe_flights import ProbeFlights
from satrank.api.probing import REQUEST_BUDGET_S
from satrank.api.routes import (
    deposit,
    docs,
    health,
    intent,
    metrics,
    nodes,
    nostr_json,
    openapi,
    probe,
    profile,
    reports,
    services,
    stats,
    verdicts,
    well_known_l402,
)
from satrank.api.state import ApiState, Resources, TokenChecker
from satrank.collector import freeze_startup_objects
from satrank.config import Settings, load_settings
from satrank.db.pool import create_pool
from satrank.db.reports import ReportLimits
from satrank.db.tokens import TokenStore
from satrank.l402.mint import InvoiceIssuer
from satrank.logs import redactor

# Input checks the paywall runs before asking for payment (middleware/l402.py).
INPUT_CHECKS = {
    ("GET", "/api/profile/{id}"): profile.check_input,
    ("POST", "/api/verdicts"): verdicts.check_input,
    ("POST", "/api/probe"): probe.check_input,
    ("POST", "/api/services"): services.check_registration,
    ("GET", "/api/services/{id}/stages"): services.check_stages,
    ("POST", "/api/intent"): intent.check_input,
}

LEDGER_POOL_SIZE = 3  # two lease batches in flight + the sweeper's returns
# How long a start waits for GetInfo to learn which node's tokens it accepts (else it
# learns it from its first minted invoice, as without a readonly macaroon).
GET_INFO_AT_START_S = 5.0


def create_app(
    settings: Settings,
    dsn: str,
    *,
    invoice_issuer: InvoiceIssuer | None = None,
    lightning: ApiLightning | None = None,
    report_token_checker: TokenChecker | None = None,
    report_limits: ReportLimits | None = None,
    caches: ApiCaches | None = None,
    probe_flights: ProbeFlights | None = None,
    freeze_gc: bool = False,
) -> Starlette:
    """The Starlette app; its lifespan opens the database pool and closes it on shutdown.

    `lightning`: the backends this process may use (health GetInfo, /api/probe); the
    caller owns and closes them; None: opened from the LND settings at startup.
    `report_token_checker`: how POST /api/report recognises
    a valid L402 token without debiting it (None: the paywall's verifier).
    Invoices for 402 challenges come from `invoice_issuer`, or from LND's invoice
    macaroon when None. `report_limits`, `caches` and `probe_flights`: defaults unless a
    test needs others. `freeze_gc` (`satrank serve`): once started, everything alive is
    moved out of the cyclic collector's reach (satrank/collector.py: a worker's full
    collections then walk only what requests created, not every start-up object with
    the event loop stopped, which showed in the api's p99).
    """
    paywall = Paywall(settings.l402, trusted_proxies=settings.api.trusted_proxies)
    interest = InterestBuffer()
    resources = Resources()
    state = ApiState(
        api=settings.api,
        api_key=settings.l402.api_key,
        nostr=settings.nostr,
        data_dir=settings.data_dir,
        probe_fee_limit_sat=settings.crawler.probe_fee_limit_sat,
        resources=resources,
        paywall=paywall,
        caches=caches or ApiCaches.build(),
        free_limits=FreeRouteLimits(settings.api.free_rate,
                                    trusted_proxies=settings.api.trusted_proxies),
        report_limits=report_limits or ReportLimits(),
        report_token_checker=report_token_checker or paywall.valid_token_id,
        probe_flights=probe_flights or ProbeFlights(budget_s=REQUEST_BUDGET_S),
        registry_allow_private=settings.registry.allow_private,
        score_half_life_s=settings.crawler.half_life_days * 86_400,
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        pool = await create_pool(dsn, settings.database)
        # The ledger's own connections: paid requests' debits never queue behind route
        # queries waiting for the main pool.
        ledger_pool = await create_pool(dsn, dataclasses.replace(
            settings.database, pool_min=1, pool_max=LEDGER_POOL_SIZE))
        lnd_issuer = (None if invoice_issuer is not None
                      else await open_invoice_issuer(settings.lnd))
        issuer = invoice_issuer or lnd_issuer or UnconfiguredInvoiceIssuer()
        ledger = CreditLeases(TokenStore(ledger_pool),
                              max_lease=settings.l402.lease_max_credits)
        ledger.start()
        paywall.start(ledger, issuer)
        own_lightning = open_api_lightning(settings.lnd) if lightning is None else None
        resources.open(pool, lightning or own_lightning or ApiLightning())
        info = resources.lightning.info
        if info is not None and paywall.deployment is None:
            paywall.deployment = await node_deployment(info, timeout_s=GET_INFO_AT_START_S)
        interest_task = asyncio.create_task(interest.run(pool))
        snapshot_task = asyncio.create_task(state.caches.intent.run(
            pool, lambda: our_pubkey(paywall.deployment)))
        if freeze_gc:
            freeze_startup_objects()
        try:
            yield
        finally:
            for task in (interest_task, snapshot_task):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await state.probe_flights.close()  # before the backends they use close
            if own_lightning is not None:
                await own_lightning.close()
            if lnd_issuer is not None:
                await lnd_issuer.close()
            await ledger.close()  # held credits go back before the pool closes
            await ledger_pool.close()
            await pool.close()

    app = Starlette(
        routes=[
            *health.routes,
            *stats.routes,
            *nodes.routes,
            *profile.routes,
            *verdicts.routes,
            *probe.routes,
            *intent.routes,
            *reports.routes,
            *openapi.routes,
            *docs.routes,
            *metrics.routes,
            *deposit.routes,
            *nostr_json.routes,
            *services.routes,
            *well_known_l402.routes,
        ],
        middleware=[
            Middleware(EdgeMiddleware, interest=interest, access_log=AccessLog(
                log_client_ips=settings.api.log_client_ips,
                client_ip_of=functools.partial(
                    client_ip, trusted_proxies=settings.api.trusted_proxies),
                redact=redactor(settings))),
            Middleware(BodyGuardMiddleware),
            Middleware(L402Middleware, paywall=paywall, prices=ROUTE_PRICES,
                       checks=INPUT_CHECKS),
        ],
        exception_handlers={
            ApiError: handle_api_error,
            HTTPException: handle_http_exception,
            **dict.fromkeys(DATABASE_EXCEPTIONS, handle_database_error),
            Exception: handle_unexpected,
        },
        lifespan=lifespan,
    )
    app.state.api = state  # read through state.api_state(request)
    return app


# Set by `satrank serve` for its uvicorn workers: the DSN the parent resolved (with the
# embedded Postgres, a socket the parent started and keeps running until it exits).
SERVE_DSN_ENV = "SATRANK_SERVE_DSN"


def app_from_environ(environ: Mapping[str, str] | None = None) -> Starlette:
    """The app of one uvicorn worker: settings from the environment (as the parent read
    them), the database at `SATRANK_SERVE_DSN`, logging configured like the parent's."""
    env = os.environ if environ is None else environ
    dsn = env.get(SERVE_DSN_ENV)
    if not dsn:
        raise RuntimeError(f"{SERVE_DSN_ENV} is not set: start the api with `satrank serve`")
    settings = load_settings(env)
    if not logging.getLogger().handlers:  # a spawned worker starts with none
        from satrank.logs import batch_writes_per_tick, configure_logging, install_redaction

        configure_logging(settings.log_level)
        install_redaction(settings)
        batch_writes_per_tick()
    return create_app(settings, dsn, freeze_gc=True)

