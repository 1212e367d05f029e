"""Read-only checks behind /api/health."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from satrank.db.migrations import current_schema_version


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
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        return DatabaseHealth(False, None, type(exc).__name__)
    return DatabaseHealth(True, version)


@dataclass(frozen=True)
class Freshness:
    """How recent the crawler's work is, as seen from the database."""

    graph_synced_at: datetime | None
    scores_computed_at: datetime | None
    probes_last_hour: int
    outbox_pending: int
    outbox_oldest_pending_at: datetime | None
    now: datetime


async def fetch_freshness(pool: asyncpg.Pool, *, timeout_s: float = 2.0) -> Freshness | None:
    """One statement over indexed columns: graph age, scoring age, probe rate, outbox lag.

    None when the database did not answer."""
    try:
        async with pool.acquire(timeout=timeout_s) as conn:
            row = await conn.fetchrow(
            """SELECT (SELECT max(finished_at) FROM graph_syncs) AS graph_synced_at,
                      (SELECT max(computed_at) FROM scores) AS scores_computed_at,
                      (SELECT count(*) FROM probes
                         WHERE sent_at > now() - interval '1 hour') AS probes_last_hour,
                      (SELECT count(*) FROM nostr_outbox WHERE done_at IS NULL) AS pending,
                      (SELECT min(created_at) FROM nostr_outbox
                         WHERE done_at IS NULL) AS oldest_pending,
                      now() AS now""",
                timeout=timeout_s,
            )
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
        return None
    assert row is not None
    return Freshness(
        graph_synced_at=row["graph_synced_at"],
        scores_computed_at=row["scores_computed_at"],
        probes_last_hour=int(row["probes_last_hour"]),
        outbox_pending=int(row["pending"]),
        outbox_oldest_pending_at=row["oldest_pending"],
        now=row["now"],
    )
