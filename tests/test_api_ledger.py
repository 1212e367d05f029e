"""Integration: credit leases on real Postgres. Several `CreditLeases` on one database
stand for several api processes; their clock is a parameter so idle returns are tested
without waiting."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import asyncpg

from satrank.api.ledger import IDLE_RETURN_S, CreditLeases
from satrank.config import DatabaseSettings
from satrank.db.pool import create_pool
from satrank.db.tokens import CreditReturn, TokenStore, TokenUsage, token_usage
from satrank.l402.gate import Debit, LedgerUnavailable, Shortfall

T = TypeVar("T")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _debit(token_id: bytes, cost: int = 1, credits: int = 21, minted: int | None = None,
           ) -> Debit:
    return Debit(token_id, hashlib.sha256(token_id).digest(), credits, 2_000_000_000, cost,
                 minted or credits)


async def _serve(leases: CreditLeases, debit: Debit) -> int | Shortfall:
    """One paid request as the middleware runs it: debit, then (if granted) the route
    runs and finishes at once."""
    left = await leases.debit(debit)
    if isinstance(left, int):
        leases.release(debit.token_id, debit.credits_total)
    return left


def _with_pool(dsn: str, body: Callable[[asyncpg.Pool], Awaitable[T]]) -> T:
    async def run() -> T:
        pool = await create_pool(dsn, DatabaseSettings(url=None, pool_min=1, pool_max=8))
        try:
            return await body(pool)
        finally:
            await pool.close()

    return asyncio.run(run())


async def _usage(pool: asyncpg.Pool, token_id: bytes) -> TokenUsage:
    usage = await token_usage(pool, token_id)
    assert usage is not None
    return usage


def test_one_process_serves_exactly_the_credits_to_200_concurrent_requests(db_dsn: str,
                                                                         ) -> None:
    async def body(pool: asyncpg.Pool) -> tuple[list[int | Shortfall], TokenUsage]:
        leases = CreditLeases(TokenStore(pool))
        token_id = secrets.token_bytes(32)
        results = await asyncio.gather(*(_serve(leases, _debit(token_id)) for _ in range(200)))
        await leases.close()
        return list(results), await _usage(pool, token_id)

    results, usage = _with_pool(db_dsn, body)
    served = sorted(r for r in results if isinstance(r, int))
    assert served == list(range(21))  # each credit once, credits-left counts down exactly
    assert results.count(Shortfall.EXHAUSTED) == 179
    assert (usage.credits_used, usage.credits_leased) == (21, 0)


def test_three_processes_never_serve_more_than_the_credits(db_dsn: str) -> None:
    """300 concurrent requests spread over three processes: at most 21 are served; those
    refused while another process held credits hear HELD_ELSEWHERE, not EXHAUSTED; once
    the holders give back what they did not spend, exactly the rest can be served."""
    async def body(pool: asyncpg.Pool) -> tuple[list[int | Shortfall], int, TokenUsage]:
        processes = [CreditLeases(TokenStore(pool)) for _ in range(3)]
        token_id = secrets.token_bytes(32)
        results = await asyncio.gather(*(_serve(processes[i % 3], _debit(token_id))
                                         for i in range(300)))
        for process in processes:
            await process.close()
        later = CreditLeases(TokenStore(pool))
        more = 0
        while isinstance(await _serve(later, _debit(token_id)), int):
            more += 1
        await later.close()
        return list(results), more, await _usage(pool, token_id)

    results, more, usage = _with_pool(db_dsn, body)
    served = sum(isinstance(r, int) for r in results)
    assert 1 <= served <= 21 and served + more == 21
    assert all(isinstance(r, int) or r in Shortfall for r in results)
    assert (usage.credits_used, usage.credits_leased) == (21, 0)


def test_leases_grow_with_traffic_and_idle_credits_go_back(db_dsn: str) -> None:
    async def body(pool: asyncpg.Pool) -> list[tuple[int, int]]:
        clock = Clock()
        leases = CreditLeases(TokenStore(pool), max_lease=8, clock=clock)
        token_id = secrets.token_bytes(32)
        seen = []
        for _ in range(30):  # a busy client: a request every 10 ms
            await _serve(leases, _debit(token_id, credits=1000))
            clock.now += 0.01
        await leases.leases_done()
        usage = await _usage(pool, token_id)
        seen.append((usage.credits_used, usage.credits_leased))
        await leases.sweep()  # not idle, credits in hand: kept
        usage = await _usage(pool, token_id)
        seen.append((usage.credits_used, usage.credits_leased))
        clock.now += IDLE_RETURN_S
        await leases.sweep()
        usage = await _usage(pool, token_id)
        seen.append((usage.credits_used, usage.credits_leased))
        return seen

    (used, leased), kept, returned = _with_pool(db_dsn, body)
    # grants 1, 2, 4, 8, 8, ... (capped), the next asked for when half the last is spent:
    # a few credits ahead of the 30 requests, never more than two leases' worth
    assert 30 < used <= 30 + 2 * 8 and leased == used and kept == (used, leased)
    assert returned == (30, 0)


def test_without_leasing_every_request_is_in_postgres_at_once(db_dsn: str) -> None:
    async def body(pool: asyncpg.Pool) -> list[int]:
        clock = Clock()
        leases = CreditLeases(TokenStore(pool), max_lease=1, clock=clock)
        token_id = secrets.token_bytes(32)
        used = []
        for _ in range(5):
            await _serve(leases, _debit(token_id))
            clock.now += 0.01
            used.append((await _usage(pool, token_id)).credits_used)
        return used

    assert _with_pool(db_dsn, body) == [1, 2, 3, 4, 5]


def test_a_dry_process_says_held_elsewhere_until_the_holder_gives_back(db_dsn: str) -> None:
    async def body(pool: asyncpg.Pool) -> list[int | Shortfall]:
        clock = Clock()
        holder = CreditLeases(TokenStore(pool), clock=clock)
        other = CreditLeases(TokenStore(pool), clock=clock)
        token_id = secrets.token_bytes(32)
        await asyncio.gather(*(_serve(holder, _debit(token_id)) for _ in range(21)))
        holder.refund(_debit(token_id))  # one request failed on our side: 1 credit in hand
        busy = await _serve(other, _debit(token_id))
        clock.now += IDLE_RETURN_S
        await holder.sweep()
        return [busy, await _serve(other, _debit(token_id)), await _serve(other, _debit(token_id))]

    assert _with_pool(db_dsn, body) == [Shortfall.HELD_ELSEWHERE, 0, Shortfall.EXHAUSTED]


def test_a_killed_holder_loses_its_credits_and_never_serves_twice(db_dsn: str) -> None:
    """A process that dies holding credits (no close, no sweep): they stay counted as
    used; the others say HELD_ELSEWHERE until the lease TTL, then EXHAUSTED."""
    async def body(pool: asyncpg.Pool) -> tuple[int, list[Shortfall | int], TokenUsage]:
        token_id = secrets.token_bytes(32)
        doomed = CreditLeases(TokenStore(pool), ttl_s=0.5)
        served = sum(isinstance(r, int) for r in await asyncio.gather(
            *(_serve(doomed, _debit(token_id, credits=5)) for _ in range(5))))
        doomed.refund(_debit(token_id, credits=5))  # holds a credit, then "dies"
        served -= 1
        survivor = CreditLeases(TokenStore(pool), ttl_s=0.5)
        answers = [await _serve(survivor, _debit(token_id, credits=5))]
        await asyncio.sleep(0.7)
        answers.append(await _serve(survivor, _debit(token_id, credits=5)))
        return served, answers, await _usage(pool, token_id)

    served, answers, usage = _with_pool(db_dsn, body)
    assert served == 4
    assert answers == [Shortfall.HELD_ELSEWHERE, Shortfall.EXHAUSTED]
    assert usage.credits_used == 5  # 4 served + 1 lost with the holder; none twice


def test_a_refund_reaches_postgres_and_close_gives_back_everything(db_dsn: str) -> None:
    async def body(pool: asyncpg.Pool) -> list[int]:
        clock = Clock()
        leases = CreditLeases(TokenStore(pool), clock=clock)
        token_id = secrets.token_bytes(32)
        await _serve(leases, _debit(token_id, cost=5))
        used = [(await _usage(pool, token_id)).credits_used]
        leases.refund(_debit(token_id, cost=5))
        clock.now += IDLE_RETURN_S
        await leases.sweep()
        used.append((await _usage(pool, token_id)).credits_used)
        for _ in range(3):
            await _serve(leases, _debit(token_id, cost=2))
        await leases.close()
        used.append((await _usage(pool, token_id)).credits_used)
        return used

    assert _with_pool(db_dsn, body) == [5, 0, 6]


def test_a_narrowed_caveat_is_served_only_from_its_own_lease(db_dsn: str) -> None:
    """Credits reserved under the full caveat never serve a credential narrowed to
    fewer credits: its holder agreed to stop once the token has used that many."""
    async def body(pool: asyncpg.Pool) -> list[int | Shortfall]:
        leases = CreditLeases(TokenStore(pool))
        token_id = secrets.token_bytes(32)
        await asyncio.gather(*(_serve(leases, _debit(token_id)) for _ in range(3)))
        leases.refund(_debit(token_id))  # the full credential now holds a credit
        return [await _serve(leases, _debit(token_id, credits=3)),
                await _serve(leases, _debit(token_id, credits=4))]

    assert _with_pool(db_dsn, body) == [Shortfall.HELD_ELSEWHERE, 0]


def test_held_credits_outlive_postgres_and_more_are_refused_unavailable(db_dsn: str) -> None:
    async def run() -> tuple[list[int | None], BaseException | None]:
        pool = await create_pool(db_dsn, DatabaseSettings(url=None, pool_min=1, pool_max=2))
        leases = CreditLeases(TokenStore(pool))
        token_id = secrets.token_bytes(32)
        await _serve(leases, _debit(token_id, cost=5))
        leases.refund(_debit(token_id, cost=3))  # 3 credits in hand
        await pool.close()  # from here every statement fails
        held = [leases.spend_held(token_id, 21, 1) for _ in range(4)]
        try:
            await _serve(leases, _debit(token_id))
        except LedgerUnavailable as exc:
            return held, exc
        return held, None

    held, error = asyncio.run(run())
    assert held == [18, 17, 16, None]  # 16 left in Postgres at the grant + what is in hand
    assert isinstance(error, LedgerUnavailable)


def test_nothing_is_given_back_while_a_granted_request_may_still_refund(db_dsn: str) -> None:
    """A slow paid request (a probe) holds its credits until it ends: if it fails they
    come back, so its process keeps them (and others say HELD_ELSEWHERE, not EXHAUSTED)
    until then, however idle the token looks."""
    async def body(pool: asyncpg.Pool) -> list[object]:
        clock = Clock()
        holder = CreditLeases(TokenStore(pool), clock=clock)
        other = CreditLeases(TokenStore(pool), clock=clock)
        token_id = secrets.token_bytes(32)
        probe = _debit(token_id, cost=5, credits=5)
        seen: list[object] = [await holder.debit(probe)]  # granted, the route still runs
        clock.now += 10 * IDLE_RETURN_S
        await holder.sweep()
        seen.append(await other.debit(_debit(token_id, credits=5)))
        holder.refund(probe)  # the probe failed on our side
        holder.release(token_id, 5)
        clock.now += IDLE_RETURN_S
        await holder.sweep()
        seen.append(await _serve(other, _debit(token_id, credits=5)))
        return seen

    assert _with_pool(db_dsn, body) == [0, Shortfall.HELD_ELSEWHERE, 4]


class CommitsThenFails(TokenStore):
    """A real store whose first return commits and then reports a failure, as a
    connection lost after COMMIT or a client-side timeout would."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        super().__init__(pool)
        self.failures = 1

    async def give_back(self, returns: Sequence[CreditReturn]) -> None:
        await super().give_back(returns)
        if self.failures:
            self.failures -= 1
            raise ConnectionResetError("lost after commit")


def test_a_return_retried_after_an_unknown_outcome_gives_credits_back_once(
        db_dsn: str) -> None:
    async def body(pool: asyncpg.Pool) -> list[int]:
        clock = Clock()
        leases = CreditLeases(CommitsThenFails(pool), max_lease=1, clock=clock)
        token_id = secrets.token_bytes(32)
        for _ in range(2):
            await _serve(leases, _debit(token_id, cost=5))
        leases.refund(_debit(token_id, cost=5))  # one of the two requests failed on our side
        clock.now += IDLE_RETURN_S
        used = []
        try:
            await leases.sweep()
        except ConnectionResetError:
            pass
        used.append((await _usage(pool, token_id)).credits_used)
        clock.now += IDLE_RETURN_S
        await leases.sweep()  # the retry
        await leases.close()
        used.append((await _usage(pool, token_id)).credits_used)
        return used

    assert _with_pool(db_dsn, body) == [5, 5]


def test_a_narrowed_credential_used_first_leaves_the_minted_credits(db_dsn: str) -> None:
    async def body(pool: asyncpg.Pool) -> tuple[list[int | Shortfall], int]:
        leases = CreditLeases(TokenStore(pool), max_lease=1)
        token_id = secrets.token_bytes(32)
        narrowed = [await _serve(leases, _debit(token_id, credits=2, minted=21))
                    for _ in range(3)]
        served = 0
        while isinstance(await _serve(leases, _debit(token_id)), int):
            served += 1
        await leases.close()
        return narrowed, served

    narrowed, served = _with_pool(db_dsn, body)
    assert narrowed == [1, 0, Shortfall.EXHAUSTED]
    assert served == 19
