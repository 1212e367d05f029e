"""Read-only checks behind /api/health."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from satrank.db.errors import DRIVER_ERRORS
from satrank.db.migrations import current_schema_version
from satrank.db.nostr_outbox import OutboxLag, fetch_outbox_lag
from satrank.db.scored_at import NEWEST_SCORING


@dataclass(frozen=True)
class DatabaseHealth:
    reachable: bool
    schema_version: int | None
    error: str | None = None


async def check_database(pool: asyncpg.Pool, *, timeout_s: float = 2.0) -> DatabaseHealth:
    """One round trip: is Postgres answering, and at which schema version."""
    try:
        async with pool.acquire(timeout=timeout_s) as conn:
            version = await current_schema_version(conn)
    except DRIVER_ERRORS as exc:
        return DatabaseHealth(False, None, type(exc).__name__)
    return DatabaseHealth(True, version)


async def database_answers(dsn: str, *, timeout_s: float = 5.0) -> bool:
    """Whether a new connection to `dsn` can be made and answers within `timeout_s`
    (for a supervisor without a pool, such as `satrank demo`)."""
    try:
        conn = await asyncpg.connect(dsn, timeout=timeout_s)
        try:
            await conn.fetchval("SELECT 1", timeout=timeout_s)
        finally:
            await conn.close(timeout=timeout_s)
    except DRIVER_ERRORS:
        return False
    return True


@dataclass(frozen=True)
class Freshness:
    """How recent the crawler's work is, as seen from the database."""

    graph_synced_at: datetime | None
    scores_computed_at: datetime | None
    probes_last_hour: int
    outbox: OutboxLag
    now: datetime


async def fetch_freshness(pool: asyncpg.Pool, *, timeout_s: float = 2.0) -> Freshness | None:
    """Graph age, scoring age, probe rate (one statement over indexed columns) and the
    Nostr outbox lag (the nostr module's own reading), on one connection.

    None when the database did not answer."""
    try:
        async with pool.acquire(timeout=timeout_s) as conn:
            row = await conn.fetchrow(
            f"""SELECT (SELECT max(finished_at) FROM graph_syncs) AS graph_synced_at,
                      {NEWEST_SCORING} AS scores_computed_at,
                      (SELECT count(*) FROM probes
                         WHERE sent_at > now() - interval '1 hour') AS probes_last_hour,
                      now() AS now""",
                timeout=timeout_s,
            )
            outbox = await fetch_outbox_lag(conn)
    except DRIVER_ERRORS:
        return None
    assert row is not None
    return Freshness(
        graph_synced_at=row["graph_synced_at"],
        scores_computed_at=row["scores_computed_at"],
        probes_last_hour=int(row["probes_last_hour"]),
        outbox=outbox,
        now=row["now"],
    )
