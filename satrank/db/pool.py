"""The asyncpg pool: one per process, with timeouts on connecting and on every command."""

from __future__ import annotations

import asyncpg

from satrank.config import DatabaseSettings

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
