"""The crawler process: leader lock, then the jobs of `jobs.crawler_jobs` on their intervals.

`run_once` is `satrank crawl --once`; `run_forever` is `satrank crawl`. How a job is
scheduled, counted and backed off, and how to add one, is in `crawler/jobs.py`. Failures
(LND down, slow or locked, Postgres gone) are counted in `satrank_crawler_failures_total`
and retried after a back-off; the last good graph and scores stay in Postgres.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np

from satrank.config import Settings
from satrank.crawler.cycle import (
    GraphSource,
    probe_phase,
    score_phase,
    sync_phase,
)
from satrank.crawler.jobs import (
    Connect,
    ConnectVantage,
    Job,
    JobContext,
    LightningLink,
    crawler_jobs,
)
from satrank.crawler.leader import wait_for_leadership
from satrank.crawler.metrics import FAILURES, IS_LEADER, JOB_RUNS, JOB_SECONDS, LAST_SUCCESS
from satrank.crawler.payer import vantage_channels
from satrank.crawler.probes import ProbeSender
from satrank.crawler.worker import Vantage
from satrank.db.errors import DatabaseError
from satrank.db.locks import LeaderLock
from satrank.db.pool import Pool, create_pool
from satrank.lightning.errors import LightningError

_log = logging.getLogger(__name__)
_T = TypeVar("_T")
BACKOFF_START_S = 1.0
MIN_PAUSE_S = 0.5  # a lane never spins: at least this between two runs
LOCK_CHECK_S = 1.0  # how often the leader makes sure its lock session is alive
# Failures of the outside world: one warning line. Anything else is a bug in the job,
# logged with its traceback; either way only that job backs off, the others go on.
EXPECTED_FAILURES = (LightningError, OSError, DatabaseError, TimeoutError)


class LeadershipLost(Exception):
    """The leader lock's session died (Postgres restarted, or the connection was cut)."""


@dataclass
class CycleSummary:
    timings_s: dict[str, float] = field(default_factory=dict)
    details: dict[str, object] = field(default_factory=dict)

    def lines(self) -> list[str]:
        out = [f"{phase}: {seconds:.3f} s" for phase, seconds in self.timings_s.items()]
        out += [f"{key}: {value}" for key, value in self.details.items()]
        return out


async def _timed(summary: CycleSummary, phase: str, work: Awaitable[_T]) -> _T:
    started = time.perf_counter()
    result = await work
    summary.timings_s[phase] = time.perf_counter() - started
    return result


async def run_once(pool: Pool, source: GraphSource, sender: ProbeSender,
                   settings: Settings, *, n_probes: int, seed: int | None = None,
                   vantages: Sequence[Vantage] = ()) -> CycleSummary:
    """Graph sync -> score -> one probe round of n_probes through the queue, sent by the
    oracle and every vantage in `vantages` -> rescore if a probe was planned (without new
    evidence a second pass would compute the same scores again)."""
    s = CycleSummary()
    cs = settings.crawler
    sync = await _timed(s, "graph_sync", sync_phase(pool, source))
    s.details["graph"] = sync
    oracle = (await source.get_info()).identity_pubkey
    channels = await _timed(s, "list_channels", vantage_channels(
        [(oracle, source), *((v.pubkey, v.sender) for v in vantages if v.pubkey)]))
    publish = settings.nostr.publishing
    stored = await _timed(s, "scoring", score_phase(pool, cs, enqueue_nostr=publish,
                                                    payer_channels=channels))
    rng = np.random.default_rng(seed)
    probes = await _timed(s, "probe_round",
                          probe_phase(pool, sender, cs, n_probes=n_probes, rng=rng,
                                      oracle_pubkey=oracle, vantages=vantages))
    s.details["probes"] = probes
    if probes.planned:
        stored = await _timed(s, "rescoring", score_phase(pool, cs, enqueue_nostr=publish,
                                                          payer_channels=channels))
    s.details["scores"] = stored
    return s


async def run_job(job: Job, ctx: JobContext, backoff: dict[str, float]) -> float:
    """One run of `job`, counted; on failure, how long to wait before retrying (else 0)."""
    JOB_RUNS.labels(job.name).inc()
    started = time.perf_counter()
    try:
        result = await job.run(ctx)
    except Exception as exc:
        FAILURES.labels(job.name).inc()
        wait = min(ctx.settings.crawler.lnd_backoff_max_s,
                   backoff.get(job.name, BACKOFF_START_S / 2) * 2)
        backoff[job.name] = wait
        if isinstance(exc, EXPECTED_FAILURES):
            _log.warning("%s failed (%s: %s); retrying in %.0f s", job.name,
                         type(exc).__name__, exc, wait)
        else:
            _log.exception("%s failed with a bug; retrying in %.0f s", job.name, wait)
        return wait
    finally:
        JOB_SECONDS.labels(job.name).observe(time.perf_counter() - started)
    LAST_SUCCESS.labels(job.name).set(time.time())
    backoff.pop(job.name, None)
    _log.debug("%s done: %s", job.name, result)
    return 0.0


async def run_lane(jobs: Sequence[Job], ctx: JobContext) -> None:
    """Run `jobs` one at a time until `ctx.stop`: each when due, in table order when
    several are due, the next run `interval_s` (or the back-off) after a run ends."""
    next_at = {job.name: 0.0 for job in jobs}
    backoff: dict[str, float] = {}
    while not ctx.stop.is_set():
        now = time.monotonic()
        due = next((job for job in jobs if now >= next_at[job.name]), None)
        if due is not None:
            wait = await run_job(due, ctx, backoff)
            next_at[due.name] = time.monotonic() + (wait or due.interval_s)
        await _sleep(ctx.stop, max(MIN_PAUSE_S, min(next_at.values()) - time.monotonic()))


def _start_lanes(jobs: Sequence[Job], ctx: JobContext) -> list[asyncio.Task[None]]:
    lanes: dict[str, list[Job]] = {}
    for job in jobs:
        lanes.setdefault(job.lane or f"job:{job.name}", []).append(job)
    return [asyncio.create_task(run_lane(lane, ctx), name=f"crawler {name}")
            for name, lane in lanes.items()]


async def run_forever(dsn: str, settings: Settings, connect: Connect, *,
                      stop: asyncio.Event, jobs: Sequence[Job] | None = None,
                      connect_vantage: ConnectVantage | None = None) -> None:
    """Run the jobs (the table of `crawler_jobs` unless given) until `stop`: those not
    `leader_only` at once, the others once this process holds the leader lock. Raises
    `LeadershipLost` when the lock's session dies, after the running jobs end: the process
    then exits non-zero, so its supervisor (systemd `Restart=on-failure`) starts it again
    and it queues for the lock like a standby (a standby may have taken over meanwhile)."""
    table = crawler_jobs(settings) if jobs is None else list(jobs)
    lock = LeaderLock(dsn)
    halt = asyncio.Event()  # ends every lane: set on the way out, whatever the reason
    lanes: list[asyncio.Task[None]] = []
    ctx: JobContext | None = None

    async def context() -> JobContext:
        nonlocal ctx
        if ctx is None:
            pool = await create_pool(dsn, settings.database)
            link = LightningLink(connect) if connect_vantage is None else \
                LightningLink(connect, connect_vantage)
            ctx = JobContext(pool, settings, link, halt)
        return ctx

    try:
        anywhere = [job for job in table if not job.leader_only]
        if anywhere:
            lanes += _start_lanes(anywhere, await context())
        if not await wait_for_leadership(lock, stop=stop):
            return
        lanes += _start_lanes([job for job in table if job.leader_only], await context())
        while not stop.is_set():
            if not await lock.is_held():
                _log.error("lost the leader lock session: stopping this crawler")
                raise LeadershipLost("the leader lock's Postgres session ended")
            await _sleep(stop, LOCK_CHECK_S)
    finally:
        halt.set()
        for lane in await asyncio.gather(*lanes, return_exceptions=True):
            if isinstance(lane, BaseException):
                _log.error("a crawler lane ended with %r", lane)
        if ctx is not None:
            await ctx.pool.close()
        IS_LEADER.set(0)
        await lock.release()


async def run_without_leadership(dsn: str, settings: Settings, link: LightningLink,
                                 jobs: Sequence[Job], *, stop: asyncio.Event) -> None:
    """Run `jobs` until `stop` without ever taking the leader lock: a probe worker on a
    vantage machine (`satrank crawl --probe-worker`) beside the leading crawler."""
    pool = await create_pool(dsn, settings.database)
    try:
        await asyncio.gather(*_start_lanes(jobs, JobContext(pool, settings, link, stop)))
    finally:
        await pool.close()


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        pass
