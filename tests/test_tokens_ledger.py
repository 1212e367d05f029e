"""Integration: the credit ledger's statements on real Postgres: lazy creation, atomic
lease grants, returns of unspent credits."""

from __future__ import annotations

import asyncio
import hashlib
import random
import secrets
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg
import pytest

from satrank.config import DatabaseSettings
from satrank.db.pool import create_pool
from satrank.db.tokens import (
    CreditReturn,
    LeaseGrant,
    LeaseRequest,
    TokenUsage,
    lease_credits,
    return_credits,
    token_usage,
)

T = TypeVar("T")
TTL_S = 30.0


def _request(token_id: bytes, want: int, cap: int = 21, minted: int = 21) -> LeaseRequest:
    return LeaseRequest(token_id, hashlib.sha256(token_id).digest(), cap, 2_000_000_000, want,
                        minted)


def _with_pool(dsn: str, body: Callable[[asyncpg.Pool], Awaitable[T]], size: int = 2) -> T:
    async def run() -> T:
        pool = await create_pool(dsn, DatabaseSettings(url=None, pool_min=1, pool_max=size))
        try:
            return await body(pool)
        finally:
            await pool.close()

    return asyncio.run(run())


async def _lease(pool: asyncpg.Pool, request: LeaseRequest, ttl_s: float = TTL_S) -> LeaseGrant:
    grant = (await lease_credits(pool, [request], ttl_s=ttl_s))[0]
    assert grant is not None
    return grant


async def _usage(pool: asyncpg.Pool, token_id: bytes) -> TokenUsage:
    usage = await token_usage(pool, token_id)
    assert usage is not None
    return usage


def test_first_use_creates_the_row_with_the_grant_used(db_dsn: str) -> None:
    async def body(pool: asyncpg.Pool) -> tuple[LeaseGrant, TokenUsage]:
        token_id = secrets.token_bytes(32)
        return await _lease(pool, _request(token_id, 5)), await _usage(pool, token_id)

    grant, usage = _with_pool(db_dsn, body)
    assert grant == LeaseGrant(granted=5, remaining=16, leased=5)
    assert (usage.credits_total, usage.credits_used, usage.credits_leased) == (21, 5, 5)


def test_concurrent_statements_grant_exactly_the_credits(db_dsn: str) -> None:
    """60 statements at once on a new token (first use racing first use): the grants add
    up to the 21 credits exactly, and the row says so."""
    async def body(pool: asyncpg.Pool) -> tuple[list[int], TokenUsage]:
        token_id = secrets.token_bytes(32)
        grants = await asyncio.gather(*(_lease(pool, _request(token_id, 1 + i % 3))
                                        for i in range(60)))
        return [g.granted for g in grants], await _usage(pool, token_id)

    granted, usage = _with_pool(db_dsn, body, size=20)
    assert sum(granted) == 21 and usage.credits_used == 21 and usage.credits_leased == 21
    assert all(0 <= g <= 3 for g in granted)


def test_a_grant_is_cut_to_what_is_left(db_dsn: str) -> None:
    async def body(pool: asyncpg.Pool) -> list[LeaseGrant]:
        token_id = secrets.token_bytes(32)
        return [await _lease(pool, _request(token_id, want)) for want in (15, 10, 4)]

    assert _with_pool(db_dsn, body) == [LeaseGrant(15, 6, 15), LeaseGrant(6, 0, 21),
                                        LeaseGrant(0, 0, 21)]


def test_a_narrowed_caveat_caps_an_existing_row(db_dsn: str) -> None:
    async def body(pool: asyncpg.Pool) -> list[int]:
        token_id = secrets.token_bytes(32)
        await _lease(pool, _request(token_id, 1))
        narrowed = [await _lease(pool, _request(token_id, 1, cap=2)) for _ in range(2)]
        return [g.granted for g in narrowed]

    assert _with_pool(db_dsn, body) == [1, 0]


def test_one_statement_serves_several_tokens(db_dsn: str) -> None:
    async def body(pool: asyncpg.Pool) -> list[LeaseGrant | None]:
        known, new = secrets.token_bytes(32), secrets.token_bytes(32)
        await _lease(pool, _request(known, 18))
        return await lease_credits(pool, [_request(known, 5), _request(new, 4, cap=10)],
                                   ttl_s=TTL_S)

    assert _with_pool(db_dsn, body) == [LeaseGrant(3, 0, 21), LeaseGrant(4, 6, 4)]


def test_a_batch_may_not_name_a_token_twice(db_dsn: str) -> None:
    token_id = secrets.token_bytes(32)

    async def body(pool: asyncpg.Pool) -> object:
        return await lease_credits(pool, [_request(token_id, 1)] * 2, ttl_s=TTL_S)

    with pytest.raises(ValueError, match="one lease request per token"):
        _with_pool(db_dsn, body)


def test_returns_give_back_unspent_credits_and_leave_the_leased_count(db_dsn: str) -> None:
    async def body(pool: asyncpg.Pool) -> list[tuple[int, int]]:
        token_id = secrets.token_bytes(32)
        await _lease(pool, _request(token_id, 8))
        await _lease(pool, _request(token_id, 4))  # another holder
        seen = []
        # the first holder spent 5 of its 8: two returns of one token merge into one row
        await return_credits(pool, [CreditReturn(token_id, 2, 5), CreditReturn(token_id, 1, 3)])
        usage = await _usage(pool, token_id)
        seen.append((usage.credits_used, usage.credits_leased))
        await return_credits(pool, [CreditReturn(token_id, 4, 4)])  # the other spent none
        usage = await _usage(pool, token_id)
        seen.append((usage.credits_used, usage.credits_leased))
        await return_credits(pool, [CreditReturn(token_id, 0, 9)])  # more than is leased
        usage = await _usage(pool, token_id)
        seen.append((usage.credits_used, usage.credits_leased))
        return seen

    assert _with_pool(db_dsn, body) == [(9, 4), (5, 0), (5, 0)]


def test_leases_of_a_holder_presumed_dead_are_not_reported(db_dsn: str) -> None:
    """`leased` tells a dry process whether others may still hold credits; after the TTL
    their holder is presumed dead and a new grant starts the count again."""
    async def body(pool: asyncpg.Pool) -> tuple[LeaseGrant, LeaseGrant, LeaseGrant]:
        token_id = secrets.token_bytes(32)
        await _lease(pool, _request(token_id, 20), ttl_s=0.3)
        fresh = await _lease(pool, _request(token_id, 0), ttl_s=0.3)
        await asyncio.sleep(0.5)
        stale = await _lease(pool, _request(token_id, 0), ttl_s=0.3)
        regrant = await _lease(pool, _request(token_id, 3), ttl_s=0.3)
        return fresh, stale, regrant

    fresh, stale, regrant = _with_pool(db_dsn, body)
    assert fresh == LeaseGrant(0, 1, 20)
    assert stale == LeaseGrant(0, 1, 0)
    assert regrant == LeaseGrant(1, 0, 1)


def test_a_grant_racing_a_return_counts_the_row_it_writes(db_dsn: str) -> None:
    """One holder gives back all 5 credits while another asks for them, 200 times, on
    two connections. Whatever the interleaving, the grant is computed from the row the
    UPDATE writes: never more than the credits (a grant computed from a row read earlier
    in the statement once added 5 to the pre-return row: 10 of 5 used)."""
    async def body(pool: asyncpg.Pool) -> list[tuple[int, int]]:
        outcomes = []
        for _ in range(200):
            token_id = secrets.token_bytes(32)
            await _lease(pool, _request(token_id, 5, cap=5))

            async def give_back(token_id: bytes = token_id) -> None:
                await asyncio.sleep(random.random() * 0.002)
                await return_credits(pool, [CreditReturn(token_id, 5, 5)])

            async def ask(token_id: bytes = token_id) -> LeaseGrant:
                await asyncio.sleep(random.random() * 0.002)
                return await _lease(pool, _request(token_id, 16, cap=5))

            grant, _ = await asyncio.gather(ask(), give_back())
            outcomes.append((grant.granted, (await _usage(pool, token_id)).credits_used))
        return outcomes

    outcomes = _with_pool(db_dsn, body, size=3)
    assert all(used == granted for granted, used in outcomes)  # the return came first or not
    assert {granted for granted, _ in outcomes} <= {0, 5}


def test_a_return_is_applied_once_however_often_it_is_sent(db_dsn: str) -> None:
    """A return retried after an unknown outcome, sequentially or racing its first copy,
    gives its credits back once; a different return id is a different return."""
    async def body(pool: asyncpg.Pool) -> list[int]:
        token_id = secrets.token_bytes(32)
        await _lease(pool, _request(token_id, 12))
        ret = CreditReturn(token_id, 2, 0)
        seen = []
        await return_credits(pool, [ret])
        await return_credits(pool, [ret])
        seen.append((await _usage(pool, token_id)).credits_used)
        racing = CreditReturn(token_id, 3, 0)
        await asyncio.gather(*(return_credits(pool, [racing]) for _ in range(4)))
        seen.append((await _usage(pool, token_id)).credits_used)
        await return_credits(pool, [CreditReturn(token_id, 2, 0)])
        seen.append((await _usage(pool, token_id)).credits_used)
        return seen

    assert _with_pool(db_dsn, body, size=4) == [10, 7, 5]


def test_first_use_by_a_narrowed_copy_stores_the_minted_credits(db_dsn: str) -> None:
    async def body(pool: asyncpg.Pool) -> tuple[LeaseGrant, LeaseGrant, TokenUsage]:
        token_id = secrets.token_bytes(32)
        child = await _lease(pool, _request(token_id, 5, cap=2))
        parent = await _lease(pool, _request(token_id, 30))
        return child, parent, await _usage(pool, token_id)

    child, parent, usage = _with_pool(db_dsn, body)
    assert child == LeaseGrant(granted=2, remaining=0, leased=2)
    assert parent.granted == 19
    assert (usage.credits_total, usage.credits_used) == (21, 21)
