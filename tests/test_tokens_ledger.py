"""Integration: the credit ledger on real Postgres: lazy creation and atomic debits."""

from __future__ import annotations

import asyncio
import hashlib
import secrets

from satrank.config import DatabaseSettings
from satrank.db.pool import create_pool
from satrank.db.tokens import (
    Debit,
    TokenLedger,
    debit_batch,
    debit_credits,
    refund_credits,
    token_usage,
)


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


def _debit(token_id: bytes, cost: int, credits: int = 10) -> Debit:
    return Debit(token_id, hashlib.sha256(token_id).digest(), credits, 2_000_000_000, cost)


def test_a_batch_grants_in_arrival_order_per_token(db_dsn: str) -> None:
    """One statement, two tokens (one new, one known), mixed costs: each token serves the
    prefix of its requests whose running cost fits, exactly as one-by-one debits would."""
    async def run() -> tuple[list[int | None], list[int | None], int, int]:
        pool = await create_pool(db_dsn, DatabaseSettings(url=None, pool_min=1, pool_max=2))
        a, b = secrets.token_bytes(32), secrets.token_bytes(32)
        try:
            first = await debit_batch(pool, [_debit(b, 4)])
            mixed = await debit_batch(pool, [
                _debit(a, 3), _debit(b, 5), _debit(a, 5), _debit(a, 1), _debit(b, 1),
                _debit(a, 1), _debit(b, 1), _debit(a, 0)])
            usage_a, usage_b = await token_usage(pool, a), await token_usage(pool, b)
            assert usage_a is not None and usage_b is not None
            return first, mixed, usage_a.credits_used, usage_b.credits_used
        finally:
            await pool.close()

    first, mixed, used_a, used_b = asyncio.run(run())
    assert first == [6]
    # a: 3 -> 7 left, +5 -> 2 left, +1 -> 1 left, +1 -> 0 left, +0 -> 0 left
    # b: 4 used; +5 -> 1 left, +1 -> 0 left, +1 refused (running sum 7 > 6)
    assert mixed == [7, 1, 2, 1, 0, 0, None, 0]
    assert (used_a, used_b) == (10, 10)


def test_batched_ledger_serves_exactly_the_credits_across_batches(db_dsn: str) -> None:
    """300 concurrent debits through three batching ledgers (as three api processes would
    hold), in batches of 7, so statements race on the row, first use included: exactly
    the 21 credits are granted, each credit count once."""
    async def run() -> tuple[list[int | None], int]:
        pool = await create_pool(db_dsn, DatabaseSettings(url=None, pool_min=1, pool_max=4))
        ledgers = [TokenLedger(pool, max_batch=7) for _ in range(3)]
        token_id = secrets.token_bytes(32)
        d = _debit(token_id, 1, credits=21)
        try:
            results = await asyncio.gather(*(
                ledgers[i % 3].debit(token_id=token_id, payment_hash=d.payment_hash,
                                     credits_total=21, valid_until_unix=d.valid_until_unix,
                                     cost=1)
                for i in range(300)))
            usage = await token_usage(pool, token_id)
            assert usage is not None
            return list(results), usage.credits_used
        finally:
            await pool.close()

    results, used = asyncio.run(run())
    assert sorted(r for r in results if r is not None) == list(range(21))
    assert results.count(None) == 279 and used == 21


def test_refund_gives_back_and_never_goes_below_zero(db_dsn: str) -> None:
    async def run() -> list[int]:
        pool = await create_pool(db_dsn, DatabaseSettings(url=None, pool_min=1, pool_max=2))
        token_id = secrets.token_bytes(32)
        try:
            await debit_batch(pool, [_debit(token_id, 5, credits=21)])
            seen = []
            for cost in (3, 5):
                await refund_credits(pool, token_id=token_id, cost=cost)
                usage = await token_usage(pool, token_id)
                assert usage is not None
                seen.append(usage.credits_used)
            return seen
        finally:
            await pool.close()

    assert asyncio.run(run()) == [2, 2]
