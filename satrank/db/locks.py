"""Session advisory locks on a dedicated connection (leader election)."""

from __future__ import annotations

import asyncpg

from satrank.db.errors import DRIVER_ERRORS

CRAWLER_LOCK_KEY = 0x5A7_2A4C  # "SatRank crawler": any fixed bigint shared by all crawlers


class LeaderLock:
    """`pg_try_advisory_lock` held for the life of one connection."""

    def __init__(self, dsn: str, key: int = CRAWLER_LOCK_KEY) -> None:
        self._dsn = dsn
        self._key = key
        self._conn: asyncpg.Connection | None = None

    async def try_acquire(self) -> bool:
        if self._conn is None or self._conn.is_closed():
            self._conn = await asyncpg.connect(self._dsn, timeout=10,
                                               server_settings={"application_name":
                                                                "satrank-crawler-lock"})
        return bool(await self._conn.fetchval("SELECT pg_try_advisory_lock($1)", self._key))

    async def is_held(self) -> bool:
        """True while our lock connection is alive (the lock dies with it)."""
        if self._conn is None or self._conn.is_closed():
            return False
        try:
            await self._conn.fetchval("SELECT 1", timeout=5)
        except DRIVER_ERRORS:
            return False
        return True

    async def release(self) -> None:
        if self._conn is not None and not self._conn.is_closed():
            await self._conn.close()
        self._conn = None
