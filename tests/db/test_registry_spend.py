"""Integration: the registry's spend ledger holds the daily budget in Postgres, whatever
the number of processes reserving at once, and across restarts."""

from __future__ import annotations

import asyncio
import secrets

import asyncpg

from satrank.config import DatabaseSettings
from satrank.db.pool import create_pool
from satrank.db.registry import NewService, register_service
from satrank.db.registry_spend import reserve_payment, settle_payment, spent_today

SETTINGS = DatabaseSettings(url=None, pool_min=1, pool_max=8)


async def _service(pool: asyncpg.Pool) -> int:
    service_id, _ = await register_service(pool, NewService(
        url="https://paid.example/x", method="GET", host="paid.example", category="ai"))
    return service_id


async def test_concurrent_reservations_from_two_processes_never_pass_the_budget(
        db_dsn: str) -> None:
    # two pools: two crawler processes, each with its own connections
    pools = [await create_pool(db_dsn, SETTINGS) for _ in range(2)]
    try:
        service_id = await _service(pools[0])

        async def reserve(pool: asyncpg.Pool) -> bool:
            return await reserve_payment(pool, service_id=service_id,
                                         payment_hash=secrets.token_bytes(32), amount_sat=7,
                                         budget_sat=100)

        granted = await asyncio.gather(*(reserve(pools[i % 2]) for i in range(40)))
        assert sum(granted) == 14  # 14 x 7 = 98 <= 100 < 105
        assert await spent_today(pools[1]) == 98
        rows = await pools[0].fetchval("SELECT sum(amount_sat) FROM registry_payments")
        assert rows == 98  # every granted payment has its ledger row, no refused one does
    finally:
        for pool in pools:
            await pool.close()


async def test_the_budget_survives_a_restart_and_failed_payments_give_back(
        db_dsn: str) -> None:
    pool = await create_pool(db_dsn, SETTINGS)
    first, second = secrets.token_bytes(32), secrets.token_bytes(32)
    try:
        service_id = await _service(pool)
        assert await reserve_payment(pool, service_id=service_id, payment_hash=first,
                                     amount_sat=60, budget_sat=100)
    finally:
        await pool.close()
    pool = await create_pool(db_dsn, SETTINGS)  # a new process: nothing in memory
    try:
        assert not await reserve_payment(pool, service_id=service_id, payment_hash=second,
                                         amount_sat=60, budget_sat=100)
        await settle_payment(pool, first, succeeded=False)
        assert await spent_today(pool) == 0
        assert await reserve_payment(pool, service_id=service_id, payment_hash=second,
                                     amount_sat=60, budget_sat=100)
        await settle_payment(pool, second, succeeded=True)
        await settle_payment(pool, second, succeeded=False)  # already closed: no refund
        assert await spent_today(pool) == 60
    finally:
        await pool.close()


async def test_an_invoice_is_never_reserved_twice_and_zero_budget_pays_nothing(
        db_dsn: str) -> None:
    pool = await create_pool(db_dsn, SETTINGS)
    payment_hash = secrets.token_bytes(32)
    try:
        service_id = await _service(pool)
        assert not await reserve_payment(pool, service_id=service_id,
                                         payment_hash=payment_hash, amount_sat=1, budget_sat=0)
        assert await reserve_payment(pool, service_id=service_id, payment_hash=payment_hash,
                                     amount_sat=5, budget_sat=100)
        assert not await reserve_payment(pool, service_id=service_id,
                                         payment_hash=payment_hash, amount_sat=5,
                                         budget_sat=100)
        assert await spent_today(pool) == 5  # the refused duplicate added nothing
    finally:
        await pool.close()
