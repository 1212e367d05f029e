"""Registered L402 endpoints as the registry job leaves them, for api and client tests:
observations of every stage written through db/registry, scored and summarised by the
job's own functions (registry/report.py). The live job against loopback services is
tests/registry/test_registry_job.py."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from satrank.config import DatabaseSettings
from satrank.db.pool import create_pool
from satrank.db.registry import (
    NewService,
    Observation,
    record_observations,
    register_service,
    store_summary,
)
from satrank.registry.report import score_service, summary_of

HALF_LIFE_S = 7 * 86_400.0


def register_endpoint(dsn: str, url: str, payee: str, **options: Any) -> int:
    """`add_endpoint` from synchronous tests."""
    return asyncio.run(add_endpoint(dsn, url, payee, **options))


async def add_endpoint(dsn: str, url: str, payee: str, *, checks: int = 20,
                       delivers: bool = True, price_sat: int = 10, category: str = "ai",
                       name: str | None = None, latency_ms: int = 40) -> int:
    """Register `url` and record `checks` checks of every stage (the invoice for
    `price_sat` to `payee`; delivery failing unless `delivers`); its id."""
    pool = await create_pool(dsn, DatabaseSettings(url=None, pool_min=1, pool_max=2))
    try:
        host = url.split("/")[2]
        service_id, _ = await register_service(pool, NewService(
            url=url, method="GET", host=host, category=category, name=name))
        for _ in range(checks):
            await record_observations(pool, service_id, [
                Observation("challenge", True, "OK", latency_ms),
                Observation("invoice", True, "OK", 2, price_sat=price_sat,
                            payee_pubkey=payee),
                Observation("payment", True, "OK", 300),
                Observation("delivery", delivers, "OK" if delivers else "NOT_DELIVERED",
                            50)])
        score = await score_service(pool, service_id, now=datetime.now(UTC),
                                    half_life_s=HALF_LIFE_S)
        await store_summary(pool, service_id, summary_of(score, payee))
        return service_id
    finally:
        await pool.close()
