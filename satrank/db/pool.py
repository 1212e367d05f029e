"""The asyncpg pool: one per process, with timeouts on connecting and on every command."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from satrank.config import DatabaseSettings
from satrank.db.errors import database_errors

CONNECT_TIMEOUT_S = 10.0


async def create_pool(dsn: str, settings: DatabaseSettings) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        dsn,
        min_size=settings.pool_min,
        max_size=settings.pool_max,
        command_timeout=settings.command_timeout_s,
        timeout=CONNECT_TIMEOUT_S,
        server_settings={"application_name": "satrank"},
    )
    assert pool is not None
    return pool


# The pool type for modules outside db/ (only db/ imports asyncpg). Errors: db/errors.py.
Pool = asyncpg.Pool
Connection = asyncpg.Connection


@asynccontextmanager
async def connection(pool: asyncpg.Pool, *,
                     transaction: bool = False) -> AsyncIterator[asyncpg.Connection]:
    """A pooled connection (in one transaction if asked) with driver errors mapped to
    `DatabaseError`. Code outside db/ holds a connection only to hand it to db/ functions:
    acquiring, transactions and statements stay here."""
    async with database_errors(), pool.acquire() as conn:
        if not transaction:
            yield conn
            return
        async with conn.transaction():
            yield conn


def affected_rows(status: str) -> int:
    """Row count from an asyncpg command status such as 'UPDATE 12' or 'INSERT 0 12'."""
    return int(status.rsplit(" ", 1)[-1])
