"""The registry's spend ledger (sql/019): every payment to a registered service is written
here before it is sent, and the UTC day's budget is enforced by the database.

The day's total is one row that grows by a conditional upsert: concurrent reservations
from any number of crawler processes serialize on that row's lock and each re-reads the
total it adds to, so the sum can never pass the budget, and a restart forgets nothing. A
payment whose outcome is unknown (the process died mid-payment) stays counted: it may
have gone through. Only a payment known to have failed gives its amount back.
"""

from __future__ import annotations

import asyncpg

_RESERVE_DAY = """
INSERT INTO registry_spend_days AS d (day, spent_sat)
SELECT (now() AT TIME ZONE 'UTC')::date, $1::int8 WHERE $1::int8 <= $2::int8
ON CONFLICT (day) DO UPDATE SET spent_sat = d.spent_sat + excluded.spent_sat
    WHERE d.spent_sat + excluded.spent_sat <= $2
RETURNING day
"""


class _AlreadyReserved(Exception):
    pass


async def reserve_payment(pool: asyncpg.Pool, *, service_id: int, payment_hash: bytes,
                          amount_sat: int, budget_sat: int) -> bool:
    """Record a payment about to be sent; False, and nothing written, when it would take
    today's spending past `budget_sat` or this payment hash was reserved before (an
    invoice is never paid twice)."""
    if amount_sat <= 0:
        raise ValueError("amount_sat must be positive")
    try:
        async with pool.acquire() as conn, conn.transaction():
            day = await conn.fetchval(_RESERVE_DAY, amount_sat, budget_sat)
            if day is None:
                return False
            inserted = await conn.fetchval(
                """INSERT INTO registry_payments (service_id, day, payment_hash, amount_sat)
                   VALUES ($1, $2, $3, $4) ON CONFLICT (payment_hash) DO NOTHING
                   RETURNING id""",
                service_id, day, payment_hash, amount_sat)
            if inserted is None:
                raise _AlreadyReserved  # rolls the day's increment back
    except _AlreadyReserved:
        return False
    return True


async def settle_payment(pool: asyncpg.Pool, payment_hash: bytes, *, succeeded: bool) -> None:
    """Close a pending payment; a failed one gives its amount back to its day."""
    await pool.execute(
        """WITH closed AS (
               UPDATE registry_payments SET status = $2, settled_at = now()
               WHERE payment_hash = $1 AND status = 'pending'
               RETURNING day, amount_sat)
           UPDATE registry_spend_days d SET spent_sat = d.spent_sat - c.amount_sat
           FROM closed c WHERE d.day = c.day AND $2 = 'failed'""",
        payment_hash, "succeeded" if succeeded else "failed")


async def spent_today(pool: asyncpg.Pool) -> int:
    value = await pool.fetchval(
        """SELECT spent_sat FROM registry_spend_days
           WHERE day = (now() AT TIME ZONE 'UTC')::date""")
    return int(value or 0)
