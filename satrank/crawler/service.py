"""The crawler process: leader lock, then sync / score / probe on their intervals.

`run_once` is `satrank crawl --once`; `run_forever` is `satrank crawl`. Lightning failures
(down, slow, locked) back off exponentially up to `lnd_backoff_max_s` and are counted in
`satrank_crawler_failures_total`; the last good graph and scores stay in Postgres.
The leader also runs the Nostr publisher (`nostr.publisher.run_publisher`) as its own
task when NOSTR_RELAYS is set: it drains the outbox that `store_scores` fills, so a standby
never publishes, and a slow relay never delays a sync or a probe round.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from satrank.config import CrawlerSettings, Settings
from satrank.crawler.cycle import GraphSource, probe_phase, score_phase, sync_phase
from satrank.crawler.leader import wait_for_leadership
from satrank.crawler.metrics import FAILURES, IS_LEADER
from satrank.crawler.probes import ProbeSender
from satrank.db.errors import DatabaseError
from satrank.db.locks import LeaderLock
from satrank.db.pool import Pool, create_pool
from satrank.lightning.errors import LightningError
from satrank.nostr.publisher import run_publisher

_log = logging.getLogger(__name__)
BACKOFF_START_S = 1.0


@dataclass
class CycleSummary:
    timings_s: dict[str, float] = field(default_factory=dict)
    details: dict[str, object] = field(default_factory=dict)

    def lines(self) -> list[str]:
        out = [f"{phase}: {seconds:.3f} s" for phase, seconds in self.timings_s.items()]
        out += [f"{key}: {value}" for key, value in self.details.items()]
        return out


async def _timed(summary: CycleSummary, phase: str, work: Awaitable[object]) -> object:
    started = time.perf_counter()
    result = await work
    summary.timings_s[phase] = time.perf_counter() - started
    return result


async def run_once(pool: Pool, source: GraphSource, sender: ProbeSender,
                   settings: Settings, *, n_probes: int, seed: int | None = None
                   ) -> CycleSummary:
    """Graph sync -> score -> one probe round of n_probes -> rescore."""
    s = CycleSummary()
    cs = settings.crawler
    sync = await _timed(s, "graph_sync", sync_phase(pool, source))
    s.details["graph"] = sync
    await _timed(s, "scoring", score_phase(pool, cs))
    rng = np.random.default_rng(seed)
    probes = await _timed(s, "probe_round",
                          probe_phase(pool, sender, cs, n_probes=n_probes, rng=rng))
    s.details["probes"] = probes
    stored = await _timed(s, "rescoring", score_phase(pool, cs))
    s.details["scores"] = stored
    return s


async def _guarded(phase: str, work: Callable[[], Awaitable[object]], backoff: dict[str, float],
                   max_backoff_s: float) -> float:
    """Run one phase; on failure log, count and return how long to wait before retrying."""
    try:
        await work()
    except (LightningError, OSError, DatabaseError, TimeoutError) as exc:
        FAILURES.labels(phase).inc()
        wait = min(max_backoff_s, backoff.get(phase, BACKOFF_START_S / 2) * 2)
        backoff[phase] = wait
        _log.warning("%s failed (%s: %s); retrying in %.0f s", phase, type(exc).__name__,
                     exc, wait)
        return wait
    backoff.pop(phase, None)
    return 0.0


async def run_forever(dsn: str, settings: Settings,
                      connect: Callable[[], Awaitable[tuple[GraphSource, ProbeSender]]], *,
                      stop: asyncio.Event) -> None:
    """Wait for leadership, then loop until `stop`; gives the lock up if its session dies."""
    lock = LeaderLock(dsn)
    cs = settings.crawler
    try:
        if not await wait_for_leadership(lock, stop=stop):
            return
        pool = await create_pool(dsn, settings.database)
        publisher_stop = asyncio.Event()
        publisher = (asyncio.create_task(run_publisher(pool, settings.nostr,
                                                       stop=publisher_stop))
                     if settings.nostr.relays else None)
        source: GraphSource | None = None
        sender: ProbeSender | None = None
        backoff: dict[str, float] = {}
        next_sync = next_probe = 0.0
        rng = np.random.default_rng()
        try:
            while not stop.is_set():
                if not await lock.is_held():
                    _log.error("lost the leader lock session: stopping this crawler")
                    return
                if source is None or sender is None:
                    try:
                        source, sender = await connect()
                    except (LightningError, OSError) as exc:
                        FAILURES.labels("lnd_connect").inc()
                        _log.warning("cannot open LND: %s", exc)
                        await _sleep(stop, min(cs.lnd_backoff_max_s, 5.0))
                        continue
                now = time.monotonic()
                wait = 0.0
                if now >= next_sync:
                    wait = await _guarded("graph_sync", partial(_sync_and_score, pool, source,
                                                                cs), backoff,
                                          cs.lnd_backoff_max_s)
                    next_sync = time.monotonic() + (wait or cs.graph_interval_s)
                elif now >= next_probe and cs.probes_per_round > 0:
                    wait = await _guarded("probes", partial(_probe_and_score, pool, sender, cs,
                                                            rng), backoff,
                                          cs.lnd_backoff_max_s)
                    next_probe = time.monotonic() + (wait or cs.probe_interval_s)
                await _sleep(stop, max(0.5, min(next_sync, next_probe) - time.monotonic()))
        finally:
            publisher_stop.set()
            if publisher is not None:
                await _finish_publisher(publisher)
            await pool.close()
    finally:
        IS_LEADER.set(0)
        await lock.release()


async def _finish_publisher(task: asyncio.Task[None]) -> None:
    """Wait for the publisher to stop; a crash in it is logged, never raised into the loop."""
    try:
        await task
    except Exception:
        _log.exception("nostr publisher ended with an error")


async def _sync_and_score(pool: Pool, source: GraphSource,
                          cs: CrawlerSettings) -> None:
    await sync_phase(pool, source)
    await score_phase(pool, cs)


async def _probe_and_score(pool: Pool, sender: ProbeSender, cs: CrawlerSettings,
                           rng: np.random.Generator) -> None:
    await probe_phase(pool, sender, cs, n_probes=cs.probes_per_round, rng=rng)
    await score_phase(pool, cs)


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        pass
