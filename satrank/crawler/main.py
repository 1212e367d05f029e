"""Composition root of `satrank crawl`: LND clients, metrics server, signals, the loop."""

from __future__ import annotations

import asyncio
import logging
import signal

from satrank.config import Settings
from satrank.crawler.cycle import GraphSource
from satrank.crawler.leader import wait_for_leadership
from satrank.crawler.metrics import start_metrics_server
from satrank.crawler.probes import ProbeSender
from satrank.crawler.service import run_forever, run_once
from satrank.db.locks import LeaderLock
from satrank.db.pool import create_pool
from satrank.lightning.lnd import open_lnd

_log = logging.getLogger(__name__)
# `crawl --once` waits this long for the leader lock (a crawler killed a moment ago may
# still hold it until Postgres reaps its session), then gives up rather than run beside
# a live crawler: the graph merges assume a single writer.
ONCE_LOCK_WAIT_S = 30.0


class CrawlerBusy(Exception):
    """Another crawler holds the leader lock."""


async def _connect(settings: Settings) -> tuple[GraphSource, ProbeSender]:
    # readonly macaroon for the graph, the pay macaroon for probes (DESIGN §5)
    return open_lnd(settings.lnd, "readonly"), open_lnd(settings.lnd, "pay")


async def crawl_once(settings: Settings, dsn: str, *, n_probes: int) -> list[str]:
    """One leader-locked cycle; raises `CrawlerBusy` if another crawler keeps the lock."""
    lock = LeaderLock(dsn)
    gave_up = asyncio.Event()
    asyncio.get_running_loop().call_later(ONCE_LOCK_WAIT_S, gave_up.set)
    try:
        if not await wait_for_leadership(lock, stop=gave_up):
            raise CrawlerBusy("another crawler is the leader; not running --once beside it")
        source, sender = await _connect(settings)
        pool = await create_pool(dsn, settings.database)
        try:
            summary = await run_once(pool, source, sender, settings, n_probes=n_probes)
        finally:
            await pool.close()
            for client in (source, sender):
                close = getattr(client, "close", None)
                if close is not None:
                    await close()
    finally:
        await lock.release()
    return summary.lines()


async def crawl_forever(settings: Settings, dsn: str) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    start_metrics_server(settings.crawler.metrics_port, settings.crawler.metrics_host)
    _log.info("crawler metrics on %s:%d", settings.crawler.metrics_host,
              settings.crawler.metrics_port)
    await run_forever(dsn, settings, lambda: _connect(settings), stop=stop)
