"""Integration: the crawler's jobs keep the Nostr outbox bounded on a real Postgres: no row
is queued while publishing is off, and the `nostr_prune` job deletes finished rows."""

from __future__ import annotations

import asyncio

import asyncpg

from satrank.config import Settings
from satrank.crawler.cycle import GraphSource
from satrank.crawler.jobs import Job, JobContext, LightningLink, crawler_jobs
from satrank.crawler.probes import ProbeSender
from satrank.db.nostr_outbox import enqueue_changed_score_events
from satrank.db.pool import create_pool
from satrank.lightning.backend import DeferredGraph, NodeStatus
from tests.nostr_rows import sample_rows, write_scores
from tests.scoring_graphs import small_graph

BASE = {"L402_MACAROON_SECRET": "s" * 40}
GRAPH = small_graph(5, [(0, 1, 2_000_000), (1, 2, 1_000_000), (2, 3, 500_000),
                        (3, 4, 300_000)])


class StaticGraph:
    """LND's graph answers for one fixed graph: what the graph_sync job reads."""

    async def get_info(self) -> NodeStatus:
        return NodeStatus("02" + "11" * 32, "oracle", 800_000, "00" * 32, True, True, 1, 1,
                          "test")

    async def describe_graph_deferred(self) -> DeferredGraph:
        return DeferredGraph.of(GRAPH)


async def _static_lnd() -> tuple[GraphSource, ProbeSender]:
    return StaticGraph(), None  # type: ignore[return-value]  # the sync job sends no probe


def _job(settings: Settings, name: str) -> Job:
    return next(job for job in crawler_jobs(settings) if job.name == name)


async def _run_job(dsn: str, settings: Settings, name: str, times: int = 1) -> object:
    pool = await create_pool(dsn, settings.database)
    try:
        ctx = JobContext(pool, settings, LightningLink(_static_lnd), asyncio.Event())
        result: object = None
        for _ in range(times):
            result = await _job(settings, name).run(ctx)
        return result
    finally:
        await pool.close()


async def _count(dsn: str, sql: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return int(await conn.fetchval(sql))
    finally:
        await conn.close()


async def test_scoring_passes_queue_nothing_while_publishing_is_off(db_dsn: str) -> None:
    settings = Settings.from_environ(BASE)  # no NOSTR_RELAYS, no key
    assert not settings.nostr.publishing
    await _run_job(db_dsn, settings, "graph_sync", times=3)
    assert await _count(db_dsn, "SELECT count(*) FROM scores") == 5
    assert await _count(db_dsn, "SELECT count(*) FROM nostr_outbox") == 0
    assert await _count(db_dsn, "SELECT count(*) FROM nostr_publish_state") == 0


async def test_scoring_queues_events_when_publishing_is_on(db_dsn: str) -> None:
    settings = Settings.from_environ({**BASE, "NOSTR_RELAYS": "wss://relay.example",
                                      "NOSTR_PRIVATE_KEY": "ab" * 32})
    await _run_job(db_dsn, settings, "graph_sync", times=2)
    assert await _count(db_dsn, "SELECT count(*) FROM nostr_outbox") == 5


async def test_prune_job_deletes_superseded_rows_left_by_rescoring(db_dsn: str) -> None:
    """What the demo did before: one row per node per scoring pass, none ever delivered."""
    rows = sample_rows(20)
    conn = await asyncpg.connect(db_dsn)
    try:
        for rescore in range(6):
            await write_scores(conn, [r.changed(rank=rescore) for r in rows])
            await enqueue_changed_score_events(conn)
        assert await conn.fetchval("SELECT count(*) FROM nostr_outbox") == 120
    finally:
        await conn.close()
    deleted = await _run_job(db_dsn, Settings.from_environ(BASE), "nostr_prune")
    assert deleted == 100
    assert await _count(db_dsn, "SELECT count(*) FROM nostr_outbox WHERE done_at IS NULL") == 20
    assert await _count(db_dsn, "SELECT count(*) FROM nostr_outbox") == 20
