"""Integration: claiming due registry endpoints across processes, and the observation prune."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from datetime import UTC, datetime, timedelta

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from satrank.config import DatabaseSettings, RegistrySettings
from satrank.crawler.registry import run_registry_round
from satrank.db.pool import create_pool
from satrank.db.registry import (
    NewService,
    Observation,
    claim_due,
    record_observations,
    register_service,
)
from tests.live_server import live_server

SETTINGS = DatabaseSettings(url=None, pool_min=1, pool_max=4)


async def test_two_processes_claiming_at_once_split_the_due_endpoints(db_dsn: str) -> None:
    pools = [await create_pool(db_dsn, SETTINGS) for _ in range(2)]
    try:
        for i in range(30):
            await register_service(pools[0], NewService(
                url=f"https://s{i}.example/", method="GET", host=f"s{i}.example",
                category="ai"))
        claimed = await asyncio.gather(*(claim_due(pools[i % 2], 10, 3600) for i in range(4)))
        ids = [s.id for batch in claimed for s in batch]
        assert len(ids) == len(set(ids)) == 30  # every endpoint once, none twice
        assert await claim_due(pools[0], 10, 3600) == []  # not due again before recheck
    finally:
        for pool in pools:
            await pool.close()


async def test_a_round_deletes_observations_scoring_no_longer_reads(db_dsn: str) -> None:
    pool = await create_pool(db_dsn, SETTINGS)
    try:
        service_id, _ = await register_service(pool, NewService(
            url="https://s.example/", method="GET", host="s.example", category="ai"))
        await record_observations(pool, service_id, [Observation("challenge", True, "OK", 5)] * 2)
        await pool.execute("UPDATE registry_observations SET observed_at = $1 WHERE id = "
                           "(SELECT min(id) FROM registry_observations)",
                           datetime.now(UTC) - timedelta(days=36))
        await pool.execute("UPDATE registry_services SET next_check_at = now() + interval '1h'")
        await run_registry_round(pool, RegistrySettings(), half_life_s=7 * 86_400)
        assert await pool.fetchval("SELECT count(*) FROM registry_observations") == 1
    finally:
        await pool.close()


async def test_a_publishing_round_queues_a_kind_30385_assertion_that_replaces_the_last(
        db_dsn: str) -> None:
    async def plain(_request: Request) -> JSONResponse:
        return JSONResponse({"data": "not L402"})

    pool = await create_pool(db_dsn, SETTINGS)
    settings = RegistrySettings(allow_private=True, host_gap_s=0, recheck_s=0)
    try:
        with live_server(Starlette(routes=[Route("/free", plain)])) as base:
            await register_service(pool, NewService(url=f"{base}/free", method="GET",
                                                    host="127.0.0.1", category="ai"))
            for _ in range(2):  # the second check changes p: a new version
                await run_registry_round(pool, settings, half_life_s=7 * 86_400,
                                         publish_nostr=True)
            await run_registry_round(pool, dataclasses.replace(settings, recheck_s=3600),
                                     half_life_s=7 * 86_400, publish_nostr=True)
            await run_registry_round(pool, settings, half_life_s=7 * 86_400,
                                     publish_nostr=True)  # nothing due: nothing queued
        rows = await pool.fetch("SELECT kind, subject, content, superseded_by FROM nostr_outbox "
                                "ORDER BY id")
    finally:
        await pool.close()
    assert [(r["kind"], r["subject"]) for r in rows] == [(30385, f"{base}/free")] * 3
    assert rows[0]["superseded_by"] is not None and rows[-1]["superseded_by"] is None
    tags = dict(json.loads(rows[-1]["content"])["tags"])
    assert (tags["d"], tags["k"], tags["verdict"]) == (f"{base}/free", "web", "RISKY")
    assert tags["p_success"] == "0.20"  # three NOT_402 over the uniform prior: 1/5
    assert "payee" not in tags and "price_sat" not in tags
