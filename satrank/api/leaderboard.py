"""Leaderboard pages cached per score computation.

A page is valid as long as the newest `scores.computed_at` has not moved. That value is
re-read at most every `check_interval_s`, so a new scoring run shows up within seconds
while a burst of requests costs one indexed max() per interval instead of a sort per hit.
"""

from __future__ import annotations

import time
from datetime import datetime

from satrank.api.render import dumps, leaderboard_item
from satrank.db.agents import SortAxis, fetch_leaderboard, scores_version
from satrank.db.pool import Pool

MAX_PAGES = 512


class LeaderboardCache:
    def __init__(self, check_interval_s: float = 5.0) -> None:
        self.check_interval_s = check_interval_s
        self._version: datetime | None = None
        self._checked_at = float("-inf")
        self._pages: dict[tuple[SortAxis, int, int], bytes] = {}

    async def _current_version(self, pool: Pool) -> datetime | None:
        now = time.monotonic()
        if now - self._checked_at >= self.check_interval_s:
            version = await scores_version(pool)
            self._checked_at = now
            if version != self._version:
                self._version = version
                self._pages.clear()
        return self._version

    async def page(self, pool: Pool, sort: SortAxis, limit: int, offset: int) -> bytes:
        """The response body of one leaderboard page."""
        await self._current_version(pool)
        key = (sort, limit, offset)
        body = self._pages.get(key)
        if body is None:
            total, rows = await fetch_leaderboard(pool, sort, limit, offset)
            body = dumps({
                "data": [leaderboard_item(a) for a in rows],
                "meta": {"total": total, "limit": limit, "offset": offset, "sort_by": sort},
            })
            if len(self._pages) >= MAX_PAGES:
                self._pages.clear()
            self._pages[key] = body
        return body
