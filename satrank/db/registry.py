"""The L402 service registry's catalogue (sql/019): registering endpoints, the free listing
with keyset pagination, one service's summary and its recent stage observations, and what
the registry job reads and writes per check. The spend ledger is db/registry_spend.py."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import asyncpg

from satrank.db.nodes import like_pattern
from satrank.db.pool import affected_rows

ServiceSort = Literal["p", "latency", "price"]
SERVICE_SORTS: tuple[ServiceSort, ...] = ("p", "latency", "price")
# Each order as one ascending key expression (and its type) before the id: the indexes of
# sql/019. Unscored services sort last; "p" is negated so every order is ascending.
_KEYS: dict[ServiceSort, tuple[str, str]] = {
    "p": ("-coalesce(p_success, -1)", "float8"),
    "latency": ("coalesce(median_latency_ms, 2147483647)", "int8"),
    "price": ("coalesce(price_sat, 9223372036854775807)", "int8"),
}
ServiceKey = tuple[float | int, int]  # (sort key, id) of a page's last row

_COLUMNS = """
    id, url, method, host, name, category, description, source, owner_pubkey,
    advertised_price_sat, registered_at, checked_at, price_sat, payee_pubkey, p_success,
    uptime, median_latency_ms, verdict, reasons
"""


@dataclass(frozen=True)
class NewService:
    url: str
    method: str
    host: str
    category: str
    name: str | None = None
    description: str | None = None
    source: str = "registered"
    advertised_price_sat: int | None = None


@dataclass(frozen=True)
class ServiceRow:
    id: int
    url: str
    method: str
    host: str
    name: str | None
    category: str
    description: str | None
    source: str
    owner_pubkey: str | None
    advertised_price_sat: int | None
    registered_at: datetime
    checked_at: datetime | None
    price_sat: int | None
    payee_pubkey: str | None
    p_success: float | None
    uptime: float | None
    median_latency_ms: int | None
    verdict: str | None
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class ServicePage:
    rows: list[ServiceRow]
    next_after: ServiceKey | None  # None: the last page


@dataclass(frozen=True)
class Observation:
    stage: str
    ok: bool
    reason: str
    latency_ms: int
    price_sat: int | None = None
    payee_pubkey: str | None = None
    observed_at: datetime | None = None  # set by the database on insert


@dataclass(frozen=True)
class ServiceSummary:
    """What the registry job concluded from a service's observations (scoring/registry.py)."""
    price_sat: int | None
    payee_pubkey: str | None
    p_success: float
    uptime: float
    median_latency_ms: int | None
    verdict: str
    reasons: tuple[str, ...]


def _row(r: asyncpg.Record) -> ServiceRow:
    return ServiceRow(**{k: r[k] for k in ServiceRow.__dataclass_fields__ if k != "reasons"},
                      reasons=tuple(r["reasons"]))


async def register_service(pool: asyncpg.Pool, service: NewService) -> tuple[int, bool]:
    """(id, created): a (method, URL) already listed keeps its row and its id."""
    row = await pool.fetchrow(
        """WITH new AS (
               INSERT INTO registry_services
                   (url, method, host, name, category, description, source,
                    advertised_price_sat, price_sat)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
               ON CONFLICT (method, url) DO NOTHING
               RETURNING id)
           SELECT id, true AS created FROM new
           UNION ALL
           SELECT id, false FROM registry_services WHERE method = $2 AND url = $1
           LIMIT 1""",
        service.url, service.method, service.host, service.name, service.category,
        service.description, service.source, service.advertised_price_sat)
    if row is None:  # inserted by a concurrent transaction after this statement's snapshot
        found = await find_service_id(pool, service.method, service.url)
        assert found is not None
        return found, False
    return int(row["id"]), bool(row["created"])


async def find_service_id(pool: asyncpg.Pool, method: str, url: str) -> int | None:
    value = await pool.fetchval(
        "SELECT id FROM registry_services WHERE method = $1 AND url = $2", method, url)
    return None if value is None else int(value)


async def fetch_service(pool: asyncpg.Pool, service_id: int) -> ServiceRow | None:
    row = await pool.fetchrow(f"SELECT {_COLUMNS} FROM registry_services WHERE id = $1",
                              service_id)
    return None if row is None else _row(row)


async def fetch_service_by_url(pool: asyncpg.Pool, url: str) -> ServiceRow | None:
    """The service at `url` (any method; GET first), for callers that only have a URL."""
    row = await pool.fetchrow(
        f"""SELECT {_COLUMNS} FROM registry_services WHERE url = $1
            ORDER BY method <> 'GET', id LIMIT 1""", url)
    return None if row is None else _row(row)


def sort_key_kind(sort: ServiceSort) -> str:
    """The Postgres type of a `ServiceKey`'s first value in this order ("float8"/"int8")."""
    return _KEYS[sort][1]


async def list_services(
    pool: asyncpg.Pool, sort: ServiceSort, limit: int, *, category: str | None = None,
    text: str | None = None, max_price_sat: int | None = None,
    after: ServiceKey | None = None,
) -> ServicePage:
    """One page of services in `sort` order, filtered; walk `next_after` for the next."""
    expr, kind = _KEYS[sort]  # from a fixed table: never user text in SQL
    keyset = f"AND ({expr}, id) > ($5::{kind}, $6::int8)" if after is not None else ""
    args: list[Any] = [category, like_pattern(text.lower()) if text else None,
                       max_price_sat, limit]
    if after is not None:
        args += [after[0], after[1]]
    rows = await pool.fetch(
        f"""SELECT {_COLUMNS}, {expr} AS k0
            FROM registry_services
            WHERE ($1::text IS NULL OR category = $1)
              AND ($2::text IS NULL OR lower(concat_ws(' ', name, description, url)) LIKE $2)
              AND ($3::int8 IS NULL OR price_sat <= $3)
              {keyset}
            ORDER BY {expr}, id
            LIMIT $4""", *args)
    next_after: ServiceKey | None = None
    if len(rows) == limit:
        next_after = (rows[-1]["k0"], int(rows[-1]["id"]))
    return ServicePage([_row(r) for r in rows], next_after)


async def service_categories(pool: asyncpg.Pool) -> list[tuple[str, int]]:
    rows = await pool.fetch(
        "SELECT category, count(*) AS n FROM registry_services GROUP BY 1 ORDER BY 2 DESC, 1")
    return [(r["category"], int(r["n"])) for r in rows]


async def recent_observations(pool: asyncpg.Pool, service_id: int,
                              limit: int) -> list[Observation]:
    rows = await pool.fetch(
        """SELECT stage, ok, reason, latency_ms, price_sat, payee_pubkey, observed_at
           FROM registry_observations WHERE service_id = $1
           ORDER BY observed_at DESC, id DESC LIMIT $2""", service_id, limit)
    return [Observation(**dict(r)) for r in rows]


async def claim_due(pool: asyncpg.Pool, limit: int, recheck_s: float) -> list[ServiceRow]:
    """Up to `limit` services whose check is due, the longest-waiting first, with their
    next check pushed `recheck_s` ahead in the same statement: a second crawler process
    claiming at the same time skips these rows (SKIP LOCKED) instead of checking them
    again."""
    rows = await pool.fetch(
        f"""UPDATE registry_services
            SET next_check_at = now() + make_interval(secs => $2)
            WHERE id IN (SELECT id FROM registry_services WHERE next_check_at <= now()
                         ORDER BY next_check_at, id LIMIT $1 FOR UPDATE SKIP LOCKED)
            RETURNING {_COLUMNS}""", limit, recheck_s)
    return sorted((_row(r) for r in rows), key=lambda s: s.id)


async def prune_observations(pool: asyncpg.Pool, older_than: datetime) -> int:
    """Delete observations scoring no longer reads."""
    return affected_rows(await pool.execute(
        "DELETE FROM registry_observations WHERE observed_at < $1", older_than))


async def record_observations(pool: asyncpg.Pool, service_id: int,
                              observations: Sequence[Observation]) -> None:
    await pool.executemany(
        """INSERT INTO registry_observations
               (service_id, stage, ok, reason, latency_ms, price_sat, payee_pubkey)
           VALUES ($1, $2, $3, $4, $5, $6, $7)""",
        [(service_id, o.stage, o.ok, o.reason, o.latency_ms, o.price_sat, o.payee_pubkey)
         for o in observations])


async def observations_since(pool: asyncpg.Pool, service_id: int,
                             since: datetime) -> list[Observation]:
    """A service's observations newer than `since`, oldest first: the evidence it is
    scored from."""
    rows = await pool.fetch(
        """SELECT stage, ok, reason, latency_ms, price_sat, payee_pubkey, observed_at
           FROM registry_observations WHERE service_id = $1 AND observed_at > $2
           ORDER BY observed_at, id""", service_id, since)
    return [Observation(**dict(r)) for r in rows]


async def store_summary(pool: asyncpg.Pool, service_id: int, summary: ServiceSummary,
                        owner_pubkey: str | None = None) -> None:
    await pool.execute(
        """UPDATE registry_services
           SET checked_at = now(), price_sat = coalesce($2, price_sat),
               payee_pubkey = coalesce($3, payee_pubkey), p_success = $4, uptime = $5,
               median_latency_ms = $6, verdict = $7, reasons = $8,
               owner_pubkey = coalesce($9, owner_pubkey),
               owner_claimed_at = CASE WHEN $9::text IS NULL THEN owner_claimed_at
                                       ELSE now() END
           WHERE id = $1""",
        service_id, summary.price_sat, summary.payee_pubkey, summary.p_success,
        summary.uptime, summary.median_latency_ms, summary.verdict, list(summary.reasons),
        owner_pubkey)


async def payee_p_success(pool: asyncpg.Pool, pubkey: str) -> float | None:
    """Our payment probability to a payee node (its score), None for a node not scored."""
    value = await pool.fetchval("SELECT p_success FROM scores WHERE pubkey = $1", pubkey)
    return None if value is None else float(value)


async def advertise_prices(pool: asyncpg.Pool, host: str,
                           prices: Sequence[tuple[str, str, int | None]]) -> None:
    """(method, URL, price) the host's manifest advertises, onto its listed services."""
    await pool.executemany(
        """UPDATE registry_services SET advertised_price_sat = $4
           WHERE host = $1 AND method = $2 AND url = $3
             AND advertised_price_sat IS DISTINCT FROM $4""",
        [(host, method, url, price) for method, url, price in prices])
