"""The L402 credit ledger: one row per token, created on first use, debited atomically.

Concurrency contract of `debit_credits`: the debit is ONE conditional
`UPDATE ... SET credits_used = credits_used + cost WHERE credits_used + cost <= limit
RETURNING`; Postgres row-locks the token and re-checks the condition after waiting, so N
concurrent calls on a token with C credits and cost 1 succeed exactly min(N, C) times,
whatever the interleaving. No value is read and then written back.

The row is created lazily by `INSERT ... ON CONFLICT DO NOTHING` only when the UPDATE
found no row; after the insert (ours or a concurrent caller's, which ON CONFLICT waits
for) the same UPDATE runs again in a new statement that sees the row. So the hot path of
a known token is a single statement.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import asyncpg

# The initplan makes this statement's own commit asynchronous (SET LOCAL, in-statement):
# the commit no longer waits for the WAL flush, which capped paid requests at
# pool size / fsync latency. The trade-off: a Postgres crash may forget the last few
# hundred ms of debits (clients keep those credits); it never grants unpaid requests,
# and the row lock and condition still make concurrent debits exact.
_DEBIT = """
UPDATE l402_tokens
   SET credits_used = credits_used + $2, last_used_at = now()
 WHERE token_id = $1 AND credits_used + $2 <= LEAST(credits_total, $3)
   AND (SELECT set_config('synchronous_commit', 'off', true)) IS NOT NULL
RETURNING LEAST(credits_total, $3) - credits_used
"""

_CREATE = """
INSERT INTO l402_tokens (token_id, payment_hash, credits_total, valid_until)
VALUES ($1, $2, $3, $4)
ON CONFLICT DO NOTHING
"""

_GET = """
SELECT credits_total, credits_used, valid_until, last_used_at
  FROM l402_tokens WHERE token_id = $1
"""


@dataclass(frozen=True)
class TokenUsage:
    credits_total: int
    credits_used: int
    valid_until: dt.datetime
    last_used_at: dt.datetime | None


async def debit_credits(
    pool: asyncpg.Pool,
    *,
    token_id: bytes,
    payment_hash: bytes,
    credits_total: int,
    valid_until_unix: int,
    cost: int,
) -> int | None:
    """Debit `cost` credits; return the credits left, or None when too few remain.

    `credits_total` is the token's credit caveat; a holder who narrowed it on a token
    already in use is held to the smaller of the stored total and this one.
    """
    if cost < 0:
        raise ValueError("cost must not be negative")
    async with pool.acquire() as conn:
        left = await conn.fetchval(_DEBIT, token_id, cost, credits_total)
        if left is not None:
            return int(left)
        valid_until = dt.datetime.fromtimestamp(valid_until_unix, dt.UTC)
        await conn.execute(_CREATE, token_id, payment_hash, credits_total, valid_until)
        left = await conn.fetchval(_DEBIT, token_id, cost, credits_total)
        return None if left is None else int(left)


async def token_usage(pool: asyncpg.Pool, token_id: bytes) -> TokenUsage | None:
    row = await pool.fetchrow(_GET, token_id)
    if row is None:
        return None
    return TokenUsage(row["credits_total"], row["credits_used"], row["valid_until"],
                      row["last_used_at"])


class TokenLedger:
    """`CreditLedger` over a pool (the gate's Protocol, kept structural so db/ stays free
    of l402 types)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def debit(self, *, token_id: bytes, payment_hash: bytes, credits_total: int,
                    valid_until_unix: int, cost: int) -> int | None:
        return await debit_credits(
            self._pool, token_id=token_id, payment_hash=payment_hash,
            credits_total=credits_total, valid_until_unix=valid_until_unix, cost=cost,
        )
