"""Integration: the credit ledger on real Postgres: lazy creation and atomic debits."""

from __future__ import annotations

import asyncio
import secrets

from satrank.config import DatabaseSettings
from satrank.db.pool import create_pool
from satrank.db.tokens import debit_credits, token_usage


async def _debits(dsn: str, n: int, credits: int, cost: int = 1) -> tuple[list[int | None], int]:
    pool = await create_pool(dsn, DatabaseSettings(url=None, pool_min=1, pool_max=20))
    token_id, payment_hash = secrets.token_bytes(32), secrets.token_bytes(32)
    try:
        results = await asyncio.gather(*(
            debit_credits(pool, token_id=token_id, payment_hash=payment_hash,
                          credits_total=credits, valid_until_unix=2_000_000_000, cost=cost)
            for _ in range(n)))
        usage = await token_usage(pool, token_id)
        assert usage is not None and usage.credits_total == credits
        return list(results), usage.credits_used
    finally:
        await pool.close()


def test_first_use_creates_the_row_and_debits(db_dsn: str) -> None:
    results, used = asyncio.run(_debits(db_dsn, 1, 21))
    assert results == [20] and used == 1


def test_concurrent_first_use_debits_exactly_the_credits(db_dsn: str) -> None:
    results, used = asyncio.run(_debits(db_dsn, 60, 21))
    granted = sorted(r for r in results if r is not None)
    assert granted == list(range(21)) and results.count(None) == 39 and used == 21


def test_cost_larger_than_remaining_is_refused(db_dsn: str) -> None:
    results, used = asyncio.run(_debits(db_dsn, 3, 12, cost=5))
    assert sorted(r for r in results if r is not None) == [2, 7]
    assert results.count(None) == 1 and used == 10


def test_narrowed_total_caps_an_existing_row(db_dsn: str) -> None:
    async def run() -> tuple[int | None, int | None]:
        pool = await create_pool(db_dsn, DatabaseSettings(url=None, pool_min=1, pool_max=2))
        token_id, payment_hash = secrets.token_bytes(32), secrets.token_bytes(32)

        async def debit(credits_total: int) -> int | None:
            return await debit_credits(pool, token_id=token_id, payment_hash=payment_hash,
                                       credits_total=credits_total,
                                       valid_until_unix=2_000_000_000, cost=1)

        try:
            await debit(21)
            return await debit(2), await debit(2)
        finally:
            await pool.close()

    assert asyncio.run(run()) == (0, None)
