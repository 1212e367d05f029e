"""Read-only checks behind /api/health."""

from __future__ import annotations

from dataclasses import dataclass

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
