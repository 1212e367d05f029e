"""Composition root of `satrank crawl`: LND clients, metrics server, signals, the loop."""

from __future__ import annotations

import asyncio
import logging
import signal

from satrank.config import Settings
from satrank.crawler.cycle import GraphSource
from satrank.crawler.jobs import ConnectVantage, LightningLink, probe_worker_job
from satrank.crawler.leader import wait_for_leadership
from satrank.crawler.metrics import start_metrics_server
from satrank.crawler.probes import ProbeSender
from satrank.crawler.service import run_forever, run_once, run_without_leadership
from satrank.crawler.worker import Vantage
from satrank.db.locks import LeaderLock
from satrank.db.pool import create_pool
from satrank.lightning.errors import LightningError
from satrank.lightning.lnd import open_lnd, open_vantage

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


def _vantage_connector(settings: Settings) -> ConnectVantage:
    """Opens LND_VANTAGE_<NAME>_* by name: its pubkey (GetInfo) and its client."""
    nodes = {node.name: node for node in settings.lnd.vantages}

    async def connect(name: str) -> tuple[str, ProbeSender]:
        if name not in nodes:
            raise LightningError(f"no LND_VANTAGE_{name.upper()}_* settings")
        client = open_vantage(nodes[name], rpc_timeout_s=settings.lnd.rpc_timeout_s)
        try:
            return (await client.get_info()).identity_pubkey, client
        except LightningError:
            await client.close()
            raise

    return connect


async def _close(*clients: object) -> None:
    for client in clients:
        close = getattr(client, "close", None)
        if close is not None:
            await close()


async def crawl_once(settings: Settings, dsn: str, *, n_probes: int) -> list[str]:
    """One leader-locked cycle; raises `CrawlerBusy` if another crawler keeps the lock."""
    lock = LeaderLock(dsn)
    gave_up = asyncio.Event()
    asyncio.get_running_loop().call_later(ONCE_LOCK_WAIT_S, gave_up.set)
    try:
        if not await wait_for_leadership(lock, stop=gave_up):
            raise CrawlerBusy("another crawler is the leader; not running --once beside it")
        source, sender = await _connect(settings)
        connect_vantage = _vantage_connector(settings)
        vantages: list[Vantage] = []
        pool = await create_pool(dsn, settings.database)
        try:
            for node in settings.lnd.vantages:
                try:
                    pubkey, client = await connect_vantage(node.name)
                except (LightningError, OSError) as exc:
                    # one vantage down must not stop the cycle: the others probe
                    _log.warning("vantage %s unavailable, probing without it: %s",
                                 node.name, exc)
                    continue
                vantages.append(Vantage(node.name, pubkey, client))
            summary = await run_once(pool, source, sender, settings, n_probes=n_probes,
                                     vantages=vantages)
        finally:
            await pool.close()
            await _close(source, sender, *(v.sender for v in vantages))
    finally:
        await lock.release()
    return summary.lines()


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def crawl_forever(settings: Settings, dsn: str) -> None:
    stop = _stop_on_signals()
    start_metrics_server(settings.crawler.metrics_port, settings.crawler.metrics_host)
    _log.info("crawler metrics on %s:%d", settings.crawler.metrics_host,
              settings.crawler.metrics_port)
    await run_forever(dsn, settings, lambda: _connect(settings), stop=stop,
                      connect_vantage=_vantage_connector(settings))


async def probe_worker_forever(settings: Settings, dsn: str, vantage: str) -> None:
    """`satrank crawl --probe-worker <vantage>`: only that vantage's probe worker, no
    leader lock, no graph sync or scoring (the leading crawler plans and scores)."""
    stop = _stop_on_signals()
    start_metrics_server(settings.crawler.metrics_port, settings.crawler.metrics_host)
    link = LightningLink(lambda: _connect(settings), _vantage_connector(settings))
    _log.info("probe worker for the vantage %s", vantage)
    await run_without_leadership(dsn, settings, link,
                                 [probe_worker_job(vantage, leader_only=False)], stop=stop)
