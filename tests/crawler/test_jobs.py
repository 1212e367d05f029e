"""Integration: the crawler's job table run by `service.run_forever` on a real Postgres
(leader lock, pool): order, lanes, back-off, per-job metrics, standby jobs."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import asyncpg
from prometheus_client import REGISTRY

from satrank.config import Settings
from satrank.crawler.cycle import GraphSource
from satrank.crawler.jobs import LIGHTNING_LANE, Job, JobContext, crawler_jobs
from satrank.crawler.probes import ProbeSender
from satrank.crawler.service import run_forever
from satrank.db.locks import LeaderLock
from satrank.lightning.errors import LightningError

BASE = {"L402_MACAROON_SECRET": "s" * 40, "CRAWL_LND_BACKOFF_MAX_S": "1"}
SETTINGS = Settings.from_environ(BASE)


async def _no_lnd() -> tuple[GraphSource, ProbeSender]:
    raise OSError("no LND in this test")


def _metric(name: str, job: str) -> float:
    return REGISTRY.get_sample_value(name, {"phase": job}) or 0.0


def _recorder(log: list[tuple[str, str, float]], name: str, seconds: float = 0.0
              ) -> Callable[[JobContext], Awaitable[object]]:
    async def run(ctx: JobContext) -> object:
        log.append((name, "start", time.monotonic()))
        await asyncio.sleep(seconds)
        log.append((name, "end", time.monotonic()))
        return None
    return run


async def _run_until(dsn: str, jobs: list[Job], done: Callable[[], bool],
                     timeout_s: float = 20.0) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(run_forever(dsn, SETTINGS, _no_lnd, stop=stop, jobs=jobs))
    deadline = time.monotonic() + timeout_s
    while not done():
        assert not task.done(), task.exception()
        assert time.monotonic() < deadline, "the jobs never got there"
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(task, timeout_s)


def test_the_table_keeps_todays_jobs_in_todays_order() -> None:
    jobs = crawler_jobs(SETTINGS)
    assert [(j.name, j.interval_s, j.leader_only, j.lane) for j in jobs] == [
        ("graph_sync", 600.0, True, LIGHTNING_LANE), ("probes", 60.0, True, LIGHTNING_LANE),
        ("probe_worker_oracle", 5.0, True, "vantage:oracle"),
        ("report_retention", 3600.0, True, None),
        ("nostr_prune", 600.0, True, None), ("registry", 600.0, True, None)]
    # one probe worker per vantage node, each in its own lane: they probe side by side
    two = Settings.from_environ({**BASE, **{f"LND_VANTAGE_EAST_{k}": "/x" for k in (
        "HOST", "TLS_CERT", "MACAROON")}})
    assert [(j.name, j.lane) for j in crawler_jobs(two) if "worker" in j.name] == [
        ("probe_worker_oracle", "vantage:oracle"), ("probe_worker_east", "vantage:east")]
    quiet = Settings.from_environ({**BASE, "CRAWL_PROBES_PER_ROUND": "0",
                                   "NOSTR_RELAYS": "wss://relay.example",
                                   "NOSTR_PRIVATE_KEY": "ab" * 32})
    assert [(j.name, j.lane) for j in crawler_jobs(quiet)] == [
        ("graph_sync", LIGHTNING_LANE), ("nostr_publisher", None), ("report_retention", None),
        ("nostr_prune", None), ("registry", None)]


async def test_a_lane_runs_one_job_at_a_time_in_table_order(db_dsn: str) -> None:
    log: list[tuple[str, str, float]] = []
    jobs = [Job("lane_first", 60.0, True, _recorder(log, "first", 0.3), lane="t"),
            Job("lane_second", 60.0, True, _recorder(log, "second", 0.1), lane="t"),
            Job("beside", 60.0, True, _recorder(log, "beside", 0.1))]
    await _run_until(db_dsn, jobs, lambda: sum(e == "end" for _, e, _ in log) == 3)
    lane = [(name, event) for name, event, _ in log if name != "beside"]
    assert lane == [("first", "start"), ("first", "end"), ("second", "start"),
                    ("second", "end")]
    beside_start = next(t for name, e, t in log if (name, e) == ("beside", "start"))
    first_end = next(t for name, e, t in log if (name, e) == ("first", "end"))
    assert beside_start < first_end  # its own lane: it did not wait for the other one


async def test_a_failing_job_backs_off_and_is_counted(db_dsn: str) -> None:
    calls: list[float] = []

    async def flaky(ctx: JobContext) -> object:
        calls.append(time.monotonic())
        if len(calls) <= 2:
            raise LightningError("LND is down")
        return None

    async def buggy(ctx: JobContext) -> object:
        raise KeyError("a bug")

    before = {m: _metric(m, "flaky") for m in ("satrank_crawler_failures_total",
                                               "satrank_crawler_job_runs_total")}
    buggy_failures = _metric("satrank_crawler_failures_total", "buggy")
    jobs = [Job("flaky", 60.0, True, flaky), Job("buggy", 60.0, True, buggy)]
    await _run_until(db_dsn, jobs, lambda: len(calls) == 3)
    assert _metric("satrank_crawler_failures_total", "flaky") - before[
        "satrank_crawler_failures_total"] == 2
    assert _metric("satrank_crawler_job_runs_total", "flaky") - before[
        "satrank_crawler_job_runs_total"] == 3
    assert _metric("satrank_crawler_job_seconds_count", "flaky") >= 3
    assert _metric("satrank_crawler_last_success_timestamp_seconds", "flaky") > time.time() - 60
    # back-off of 1 s then 1 s (CRAWL_LND_BACKOFF_MAX_S=1), far below the 60 s interval
    gaps = [b - a for a, b in zip(calls, calls[1:], strict=False)]
    assert all(0.9 < gap < 3.0 for gap in gaps), gaps
    # a bug in another job was counted and did not stop the flaky one from recovering
    assert _metric("satrank_crawler_failures_total", "buggy") > buggy_failures


async def test_jobs_not_leader_only_run_on_a_standby(db_dsn: str) -> None:
    log: list[tuple[str, str, float]] = []
    jobs = [Job("leader_job", 60.0, True, _recorder(log, "leader")),
            Job("everywhere_job", 0.5, False, _recorder(log, "everywhere"))]
    holder = LeaderLock(db_dsn)
    assert await holder.try_acquire()
    stop = asyncio.Event()
    task = asyncio.create_task(run_forever(db_dsn, SETTINGS, _no_lnd, stop=stop, jobs=jobs))
    try:
        while sum(name == "everywhere" and e == "end" for name, e, _ in log) < 2:
            assert not task.done()
            await asyncio.sleep(0.05)
        assert all(name == "everywhere" for name, _, _ in log)  # standby: no leader job
        await holder.release()
        while not any(name == "leader" for name, _, _ in log):
            assert not task.done()
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)
        await holder.release()


async def test_a_job_needing_lnd_fails_while_lnd_cannot_be_opened(db_dsn: str) -> None:
    async def needs_lnd(ctx: JobContext) -> object:
        return await ctx.lightning.clients()

    connects = _metric("satrank_crawler_failures_total", "lnd_connect")
    failures = _metric("satrank_crawler_failures_total", "needs_lnd")
    await _run_until(db_dsn, [Job("needs_lnd", 60.0, True, needs_lnd)],
                     lambda: _metric("satrank_crawler_failures_total", "needs_lnd") > failures)
    assert _metric("satrank_crawler_failures_total", "lnd_connect") > connects


async def test_the_table_prunes_reports_past_their_retention(db_dsn: str) -> None:
    conn = await asyncpg.connect(db_dsn)
    try:
        await conn.executemany(
            "INSERT INTO reports (target_pubkey, outcome, created_at) "
            "VALUES ($1, 'success', now() - make_interval(days => $2))",
            [("02" + "11" * 32, days) for days in (1, 89, 91, 400)])
        runs = _metric("satrank_crawler_job_runs_total", "report_retention")
        [prune] = [j for j in crawler_jobs(SETTINGS) if j.name == "report_retention"]
        await _run_until(db_dsn, [prune], lambda: _metric(
            "satrank_crawler_job_runs_total", "report_retention") > runs)
        kept = await conn.fetch("SELECT created_at > now() - interval '90 days' AS young "
                                "FROM reports")
        assert [r["young"] for r in kept] == [True, True]
    finally:
        await conn.close()
