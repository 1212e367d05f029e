"""The L402 credit ledger: one row per token, created on first use, leased atomically.

Credits leave a token's row only through `lease_credits`: ONE statement grants a whole
batch of lease requests (one per token). It locks the batch's existing rows (`FOR UPDATE`,
in token-id order, so concurrent batches from other processes queue instead of
deadlocking). The UPDATE computes each grant, `LEAST(want, limit - credits_used)`, from
the LATEST committed row it writes and adds exactly that to `credits_used` (and to
`credits_leased`). No value is read and written back, so the grants of any number of
concurrent statements, from any number of processes, never add up to more than a
token's credits.

Granted credits count as used at once; `return_credits` gives back the ones a process did
not spend. A process that dies holding credits therefore loses them (the token's owner
does) and never causes a request to be served twice.

A token seen for the first time is INSERTed by the same statement with its grant already
used, and with the credits it was MINTED with as its total: a narrowed copy used first caps
only its own requests (`cap`), never the row, so the parent keeps what was paid for. If
another transaction inserted the row meanwhile, ON CONFLICT DO NOTHING grants nothing and
the request runs again in a new statement, which finds the row.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field

import asyncpg

# The initplan makes the statement's own commit asynchronous (SET LOCAL, in-statement):
# the commit no longer waits for the WAL flush. The trade-off: a Postgres crash may forget
# the last few hundred ms of grants (their credits become spendable again); the row locks
# still make concurrent grants exact.
# The grant is computed by the UPDATE itself from the row it writes (`_GRANT` below, in
# SET), never from a value read earlier in the statement: a grant computed from a locked
# CTE row and added to the UPDATE's row could mix two row versions when a return commits
# in between (it did, under load: tests/test_tokens_ledger.py races them). `last_grant`
# exists so the UPDATE can RETURN what it granted.
# `leased` is what OTHER lease holders may still hold: zero once `leased_until` passed
# (their holder is presumed dead), so a crashed process cannot make the row look busy;
# only a grant moves `leased_until`.
_GRANT = "LEAST(r.want, GREATEST(LEAST(l.credits_total, r.cap) - l.credits_used, 0))"
_LEASE_BATCH = f"""
WITH req AS (
    SELECT * FROM unnest($1::bytea[], $2::bytea[], $3::int[], $4::timestamptz[], $5::int[],
                         $6::int[])
             AS t(token_id, payment_hash, cap, valid_until, want, minted)
     WHERE (SELECT set_config('synchronous_commit', 'off', true)) IS NOT NULL
), locked AS (
    SELECT l.token_id FROM l402_tokens l JOIN req USING (token_id)
     ORDER BY l.token_id
       FOR UPDATE OF l
), upd AS (
    UPDATE l402_tokens l
       SET last_grant = {_GRANT},
           credits_used = l.credits_used + {_GRANT},
           credits_leased = CASE WHEN l.leased_until > now() THEN l.credits_leased ELSE 0 END
                            + {_GRANT},
           leased_until = CASE WHEN {_GRANT} > 0 THEN now() + make_interval(secs => $7)
                               ELSE l.leased_until END,
           last_used_at = CASE WHEN {_GRANT} > 0 THEN now() ELSE l.last_used_at END
      FROM req r JOIN locked USING (token_id)
     WHERE l.token_id = r.token_id
    RETURNING l.token_id, l.last_grant AS granted,
              LEAST(l.credits_total, r.cap) - l.credits_used AS remaining,
              l.credits_leased AS leased
), ins AS (
    INSERT INTO l402_tokens (token_id, payment_hash, credits_total, valid_until, credits_used,
                             credits_leased, last_grant, leased_until, last_used_at)
    SELECT token_id, payment_hash, minted, valid_until, LEAST(want, cap), LEAST(want, cap),
           LEAST(want, cap), now() + make_interval(secs => $7), now()
      FROM req
     WHERE NOT EXISTS (SELECT 1 FROM locked WHERE locked.token_id = req.token_id)
    ON CONFLICT DO NOTHING
    RETURNING token_id, last_grant AS granted, credits_leased AS leased
), ins_capped AS (
    SELECT i.token_id, i.granted, LEAST(r.minted, r.cap) - i.granted AS remaining, i.leased
      FROM ins i JOIN req r USING (token_id)
)
SELECT token_id, granted, remaining, leased FROM upd
UNION ALL
SELECT token_id, granted, remaining, leased FROM ins_capped
"""

# Unspent credits go back; the holder's whole grant leaves `credits_leased`. Each return
# carries an id, recorded in the same transaction: a return retried after an unknown
# outcome is applied at most once (its id is found, or a concurrent copy's insert makes
# this one wait and then skip). Rows are locked in token-id order like the lease
# statement's. A normal commit: these credits belong to the client, and a lost return
# would cost them. Ids older than RETURN_ID_KEEP go in passing (an index range).
_RETURN_BATCH = """
WITH ret AS (
    SELECT * FROM unnest($1::bytea[], $2::bytea[], $3::int[], $4::int[])
             AS r(return_id, token_id, unused, granted)
), fresh AS (
    INSERT INTO l402_credit_returns (return_id)
    SELECT return_id FROM ret
    ON CONFLICT DO NOTHING
    RETURNING return_id
), sums AS (
    SELECT token_id, sum(unused)::int AS unused, sum(granted)::int AS granted
      FROM ret JOIN fresh USING (return_id)
     GROUP BY token_id
), locked AS (
    SELECT l.token_id FROM l402_tokens l JOIN sums USING (token_id)
     ORDER BY l.token_id
       FOR UPDATE OF l
), pruned AS (
    DELETE FROM l402_credit_returns
     WHERE returned_at < now() - make_interval(secs => $5)
)
UPDATE l402_tokens l
   SET credits_used = GREATEST(l.credits_used - s.unused, 0),
       credits_leased = GREATEST(l.credits_leased - s.granted, 0)
  FROM sums s JOIN locked USING (token_id)
 WHERE l.token_id = s.token_id
"""
# How long an applied return's id is remembered: a holder retries a failed return every
# sweep (a fraction of a second) and gives up only at shutdown, so a day is ample.
RETURN_ID_KEEP_S = 86_400.0

_USAGE = """
SELECT credits_total, credits_used, credits_leased, valid_until, last_used_at
  FROM l402_tokens WHERE {key} = $1
"""
_GET = _USAGE.format(key="token_id")
_GET_BY_PAYMENT_HASH = _USAGE.format(key="payment_hash")

# Passes of the lease statement before a request still without a row is refused: the
# second pass finds the row a concurrent insert made; a third is never needed unless the
# payment hash belongs to another token id, which only a broken minter could produce.
_MAX_PASSES = 3


@dataclass(frozen=True)
class LeaseRequest:
    """Ask for `want` credits of a token. `cap` is the credit caveat of the requests the
    lease serves: a holder who narrowed it is held to the smaller of the stored total and
    this one. The other fields create the row on the token's first use (`minted`: the
    credits the token was minted with, the row's total)."""

    token_id: bytes
    payment_hash: bytes
    cap: int
    valid_until_unix: int
    want: int
    minted: int


@dataclass(frozen=True)
class LeaseGrant:
    granted: int
    remaining: int  # credits left in the row, unleased, after this grant
    leased: int  # credits_leased after this grant (every holder's, this one's included)


RETURN_ID_SIZE = 16


@dataclass(frozen=True)
class CreditReturn:
    token_id: bytes
    unused: int  # credits to give back
    granted: int  # the holder's grants since its last return, leaving credits_leased
    # Names this return: retrying it with the same id never gives the credits back twice.
    return_id: bytes = field(default_factory=lambda: secrets.token_bytes(RETURN_ID_SIZE))


@dataclass(frozen=True)
class TokenUsage:
    credits_total: int
    credits_used: int
    credits_leased: int
    valid_until: dt.datetime
    last_used_at: dt.datetime | None


def _lease_args(requests: Sequence[LeaseRequest]) -> tuple[list[object], ...]:
    return (
        [r.token_id for r in requests],
        [r.payment_hash for r in requests],
        [r.cap for r in requests],
        [dt.datetime.fromtimestamp(r.valid_until_unix, dt.UTC) for r in requests],
        [r.want for r in requests],
        [r.minted for r in requests],
    )


async def lease_credits(pool: asyncpg.Pool, requests: Sequence[LeaseRequest], *,
                        ttl_s: float) -> list[LeaseGrant | None]:
    """The grant of each request, in order (None only for a token whose row could not be
    created, see _MAX_PASSES). At most one request per token: a batch with two would
    update the same row twice in one statement."""
    if len({r.token_id for r in requests}) != len(requests):
        raise ValueError("one lease request per token and batch")
    if any(r.want < 0 for r in requests):
        raise ValueError("want must not be negative")
    if any(r.minted < 1 for r in requests):
        raise ValueError("minted credits must be positive")
    results: list[LeaseGrant | None] = [None] * len(requests)
    todo = list(range(len(requests)))
    async with pool.acquire() as conn:
        for _ in range(_MAX_PASSES):
            if not todo:
                break
            args = _lease_args([requests[i] for i in todo])
            rows = await conn.fetch(_LEASE_BATCH, *args, ttl_s)
            found = {r["token_id"]: LeaseGrant(r["granted"], r["remaining"], r["leased"])
                     for r in rows}
            retry = []
            for i in todo:
                grant = found.get(requests[i].token_id)
                if grant is None:
                    retry.append(i)  # a concurrent first use inserted the row
                else:
                    results[i] = grant
            todo = retry
    return results


async def return_credits(pool: asyncpg.Pool, returns: Sequence[CreditReturn]) -> None:
    """Give back unspent leased credits, one statement for the batch (tokens may repeat).
    Idempotent per return id: a return already applied changes nothing."""
    if any(r.unused < 0 or r.granted < 0 for r in returns):
        raise ValueError("returned credits must not be negative")
    if len({r.return_id for r in returns}) != len(returns):
        raise ValueError("one entry per return id")
    if not returns:
        return
    await pool.execute(_RETURN_BATCH, [r.return_id for r in returns],
                       [r.token_id for r in returns], [r.unused for r in returns],
                       [r.granted for r in returns], RETURN_ID_KEEP_S)


class TokenStore:
    """The ledger statements over one pool, for api/ledger.py (which never sees asyncpg)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def lease(self, requests: Sequence[LeaseRequest], *, ttl_s: float,
                    ) -> list[LeaseGrant | None]:
        return await lease_credits(self._pool, requests, ttl_s=ttl_s)

    async def give_back(self, returns: Sequence[CreditReturn]) -> None:
        await return_credits(self._pool, returns)


async def token_usage(pool: asyncpg.Pool, token_id: bytes) -> TokenUsage | None:
    return _usage(await pool.fetchrow(_GET, token_id))


async def token_usage_by_payment_hash(pool: asyncpg.Pool, payment_hash: bytes,
                                      ) -> TokenUsage | None:
    """The row of the token an invoice paid for (what a payer knows: sha256(preimage))."""
    return _usage(await pool.fetchrow(_GET_BY_PAYMENT_HASH, payment_hash))


def _usage(row: asyncpg.Record | None) -> TokenUsage | None:
    if row is None:
        return None
    return TokenUsage(row["credits_total"], row["credits_used"], row["credits_leased"],
                      row["valid_until"], row["last_used_at"])


async def credits_used_total(pool: asyncpg.Pool) -> int:
    """Credits used over all tokens (leased ones included): for checks and benches."""
    return int(await pool.fetchval("SELECT coalesce(sum(credits_used), 0) FROM l402_tokens"))
