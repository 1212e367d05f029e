"""The L402 credit ledger: one row per token, created on first use, debited atomically.

Concurrency contract of `debit_batch` (and of `debit_credits`, a batch of one): ONE
statement grants a whole batch of debits. It locks the batch's existing token rows
(`FOR UPDATE`, in token-id order, so concurrent batches from other processes queue
instead of deadlocking); Postgres hands the lock holder the LATEST committed row, so
`credits_used` is never stale. Per token, requests are granted in arrival order while
their running cost sum fits in `LEAST(credits_total, caveat credits) - credits_used`,
and the UPDATE adds exactly the granted sum. No value is read by the client and written
back, so N concurrent requests on a token with C credits and cost 1 succeed exactly
min(N, C) times however they are split into batches and processes.

A token seen for the first time is INSERTed in the same statement with its granted sum
already used. If another transaction inserted it meanwhile, ON CONFLICT DO NOTHING
grants nothing and those requests run again in a new statement, which finds the row.

`TokenLedger` (the paywall's ledger) queues the debits of concurrent requests and sends
them as one batch while earlier batches are in flight (group commit, at most
`LEDGER_BATCHES_IN_FLIGHT` at once): a lone request costs one statement as before; under
load, one round trip and one commit serve many.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

# The initplan makes the statement's own commit asynchronous (SET LOCAL, in-statement):
# the commit no longer waits for the WAL flush. The trade-off: a Postgres crash may
# forget the last few hundred ms of debits (clients keep those credits); it never grants
# unpaid requests, and the row locks still make concurrent debits exact.
_DEBIT_BATCH = """
WITH tok AS (
    SELECT * FROM unnest($1::bytea[], $2::bytea[], $3::int[], $4::timestamptz[])
             AS t(token_id, payment_hash, cap, valid_until)
     WHERE (SELECT set_config('synchronous_commit', 'off', true)) IS NOT NULL
), req AS (
    SELECT r.token_id, sum(r.cost) OVER (PARTITION BY r.token_id ORDER BY r.ord) AS running
      FROM unnest($5::bytea[], $6::int[]) WITH ORDINALITY AS r(token_id, cost, ord)
), cur AS (
    SELECT l.token_id, l.credits_used, LEAST(l.credits_total, tok.cap) AS lim
      FROM l402_tokens l JOIN tok USING (token_id)
     ORDER BY l.token_id
       FOR UPDATE OF l
), granted AS (
    SELECT cur.token_id, cur.lim, cur.credits_used AS used_before,
           COALESCE(max(req.running) FILTER (
               WHERE req.running <= cur.lim - cur.credits_used), 0)::int AS granted
      FROM cur JOIN req USING (token_id)
     GROUP BY cur.token_id, cur.lim, cur.credits_used
), upd AS (
    UPDATE l402_tokens l
       SET credits_used = l.credits_used + g.granted, last_used_at = now()
      FROM granted g
     WHERE l.token_id = g.token_id AND g.granted > 0
), ins AS (
    INSERT INTO l402_tokens (token_id, payment_hash, credits_total, valid_until,
                             credits_used, last_used_at)
    SELECT tok.token_id, tok.payment_hash, tok.cap, tok.valid_until,
           COALESCE(max(req.running) FILTER (WHERE req.running <= tok.cap), 0), now()
      FROM tok JOIN req USING (token_id)
     WHERE NOT EXISTS (SELECT 1 FROM cur WHERE cur.token_id = tok.token_id)
     GROUP BY tok.token_id, tok.payment_hash, tok.cap, tok.valid_until
    ON CONFLICT DO NOTHING
    RETURNING token_id, credits_total AS lim, 0 AS used_before, credits_used AS granted
)
SELECT token_id, lim, used_before, granted FROM granted
UNION ALL
SELECT token_id, lim, used_before, granted FROM ins
"""

# A 5xx after a debit gives the credits back (see api/paywall.py for when).
_REFUND = """
UPDATE l402_tokens SET credits_used = credits_used - $2
 WHERE token_id = $1 AND credits_used >= $2
"""

_GET = """
SELECT credits_total, credits_used, valid_until, last_used_at
  FROM l402_tokens WHERE token_id = $1
"""

# Passes of the batch statement before a request still without a row is refused: the
# second pass finds the row a concurrent insert made; a third is never needed unless the
# payment hash belongs to another token id, which only a broken minter could produce.
_MAX_PASSES = 3
MAX_BATCH = 512
# Two batches in flight: a request arriving during a round trip need not wait for it to
# end before its own starts (one batch at a time roughly doubled paid-request latency).
LEDGER_BATCHES_IN_FLIGHT = 2


@dataclass(frozen=True)
class Debit:
    """One request's debit: `credits_total` is its credit caveat; a holder who narrowed
    it is held to the smaller of the stored total and this one (per batch, the smallest
    caveat of the token's requests counts)."""

    token_id: bytes
    payment_hash: bytes
    credits_total: int
    valid_until_unix: int
    cost: int


@dataclass(frozen=True)
class TokenUsage:
    credits_total: int
    credits_used: int
    valid_until: dt.datetime
    last_used_at: dt.datetime | None


def _batch_args(debits: Sequence[Debit]) -> tuple[list[object], ...]:
    tokens: dict[bytes, Debit] = {}
    for d in debits:
        known = tokens.get(d.token_id)
        if known is None or d.credits_total < known.credits_total:
            tokens[d.token_id] = d
    return (
        list(tokens),
        [d.payment_hash for d in tokens.values()],
        [d.credits_total for d in tokens.values()],
        [dt.datetime.fromtimestamp(d.valid_until_unix, dt.UTC) for d in tokens.values()],
        [d.token_id for d in debits],
        [d.cost for d in debits],
    )


async def _debit_pass(conn: asyncpg.Connection, debits: Sequence[Debit],
                      ) -> dict[bytes, tuple[int, int, int]]:
    rows = await conn.fetch(_DEBIT_BATCH, *_batch_args(debits))
    return {r["token_id"]: (r["lim"], r["used_before"], r["granted"]) for r in rows}


async def debit_batch(pool: asyncpg.Pool, debits: Sequence[Debit]) -> list[int | None]:
    """Credits left after each debit (in order), or None for a refused one."""
    if any(d.cost < 0 for d in debits):
        raise ValueError("cost must not be negative")
    results: list[int | None] = [None] * len(debits)
    todo = list(range(len(debits)))
    async with pool.acquire() as conn:
        for _ in range(_MAX_PASSES):
            if not todo:
                break
            outcome = await _debit_pass(conn, [debits[i] for i in todo])
            running: dict[bytes, int] = {}
            retry: list[int] = []
            for i in todo:
                d = debits[i]
                if d.token_id not in outcome:
                    retry.append(i)  # a concurrent first use inserted the row
                    continue
                lim, used_before, granted = outcome[d.token_id]
                spent = running[d.token_id] = running.get(d.token_id, 0) + d.cost
                results[i] = lim - used_before - spent if spent <= granted else None
            todo = retry
    return results


async def debit_credits(
    pool: asyncpg.Pool,
    *,
    token_id: bytes,
    payment_hash: bytes,
    credits_total: int,
    valid_until_unix: int,
    cost: int,
) -> int | None:
    """Debit `cost` credits; return the credits left, or None when too few remain."""
    debit = Debit(token_id, payment_hash, credits_total, valid_until_unix, cost)
    return (await debit_batch(pool, [debit]))[0]


async def refund_credits(pool: asyncpg.Pool, *, token_id: bytes, cost: int) -> None:
    """Give back `cost` credits of an earlier debit (one statement; never below zero)."""
    await pool.execute(_REFUND, token_id, cost)


async def token_usage(pool: asyncpg.Pool, token_id: bytes) -> TokenUsage | None:
    row = await pool.fetchrow(_GET, token_id)
    if row is None:
        return None
    return TokenUsage(row["credits_total"], row["credits_used"], row["valid_until"],
                      row["last_used_at"])


class TokenLedger:
    """`CreditLedger` over a pool (the gate's Protocol, kept structural so db/ stays free
    of l402 types), batching concurrent debits: while one batch is in flight the next
    one collects, so the number of statements follows the database's speed, not the
    request rate. Within a batch, debits are granted in arrival order; concurrent batches
    (up to `in_flight`, each on its own connection) serialize on the token's row lock, so
    the exactness of `debit_batch` holds across them. A failed statement fails every
    request of its batch (none is granted)."""

    def __init__(self, pool: asyncpg.Pool, *, max_batch: int = MAX_BATCH,
                 in_flight: int = LEDGER_BATCHES_IN_FLIGHT) -> None:
        self._pool = pool
        self._max_batch = max_batch
        self._in_flight = in_flight
        self._pending: list[tuple[Debit, asyncio.Future[int | None]]] = []
        self._workers: set[asyncio.Task[None]] = set()

    async def debit(self, *, token_id: bytes, payment_hash: bytes, credits_total: int,
                    valid_until_unix: int, cost: int) -> int | None:
        if cost < 0:
            raise ValueError("cost must not be negative")
        future: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        self._pending.append(
            (Debit(token_id, payment_hash, credits_total, valid_until_unix, cost), future))
        if len(self._workers) < self._in_flight:
            worker = asyncio.create_task(self._drain())
            self._workers.add(worker)
            worker.add_done_callback(self._workers.discard)
        return await future

    async def refund(self, *, token_id: bytes, cost: int) -> None:
        await refund_credits(self._pool, token_id=token_id, cost=cost)

    async def _drain(self) -> None:
        batch: list[tuple[Debit, asyncio.Future[int | None]]] = []
        try:
            while self._pending:
                batch = self._pending[:self._max_batch]
                del self._pending[:self._max_batch]
                try:
                    results = await debit_batch(self._pool, [d for d, _ in batch])
                except Exception as exc:
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for (_, future), left in zip(batch, results, strict=True):
                    if not future.done():  # a cancelled request keeps nothing
                        future.set_result(left)
        finally:
            # Only when the worker itself was cancelled (shutdown): nobody waits forever.
            for _, future in batch:
                if not future.done():
                    future.cancel()
