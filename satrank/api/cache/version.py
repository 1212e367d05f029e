"""The one invalidation story of the api's caches: a data version.

The version is a tuple with one watermark per source of data the cached answers show.
Today one source: the crawler's output (newest `scores.computed_at`, newest
`graph_syncs.finished_at`), since nothing a node summary, the leaderboard or a profile
shows changes between two crawler writes. Later data (an intent snapshot, the service
registry) adds its own `VersionSource`; a cache drops its entries when any part moves.
The version is re-read at most every `check_interval_s` (one indexed query per source),
so new data shows up within seconds and a burst of requests costs no database work.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable, Sequence

from satrank.db.nodes import data_version as crawler_output_version
from satrank.db.pool import Pool

DEFAULT_CHECK_INTERVAL_S = 2.0

# Reads one source's watermark; any hashable value that moves when the source changes.
VersionSource = Callable[[Pool], Awaitable[Hashable]]
Version = tuple[Hashable, ...]

DEFAULT_SOURCES: tuple[VersionSource, ...] = (crawler_output_version,)


class DataVersion:
    def __init__(self, sources: Sequence[VersionSource] = DEFAULT_SOURCES, *,
                 check_interval_s: float = DEFAULT_CHECK_INTERVAL_S) -> None:
        self.check_interval_s = check_interval_s
        self._sources = tuple(sources)
        self.value: Version | None = None
        self._checked_at = float("-inf")
        self._reading = asyncio.Lock()  # held by the read in flight

    async def current(self, pool: Pool) -> Version | None:
        """The version, re-read once the interval has passed. Callers arriving during a
        re-read get the value it replaces, except before the first read has ended: they
        wait for it (a None they took for a version would clear their caches twice)."""
        now = time.monotonic()
        if now - self._checked_at >= self.check_interval_s:
            self._checked_at = now  # set first: concurrent requests do not all re-read
            async with self._reading:
                self.value = tuple([await source(pool) for source in self._sources])
        elif self.value is None:
            async with self._reading:
                pass
        return self.value


class Versioned:
    """Base of a cache valid for one data version: `_expire` drops everything the first
    time a caller sees a new version."""

    def __init__(self, version: DataVersion) -> None:
        self._version = version
        self._seen: Version | None = None

    async def _expire(self, pool: Pool) -> bool:
        """True when the version moved since the last call (the entries were cleared)."""
        version = await self._version.current(pool)
        if version == self._seen:
            return False
        self._seen = version
        self._clear()
        return True

    def _clear(self) -> None:
        raise NotImplementedError
