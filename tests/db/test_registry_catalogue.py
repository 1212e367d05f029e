"""Integration: claiming due registry endpoints across processes, and the observation prune."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

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
