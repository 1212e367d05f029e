"""Caches of the free agent routes, valid for one version of the crawler's output.

The version is (newest `scores.computed_at`, newest `graph_syncs.finished_at`): nothing
the agent summary or the leaderboard shows changes between two crawler writes. It is
re-read at most every `check_interval_s` (one indexed query), so a new scoring run or
graph sync shows up within seconds, and a burst of requests costs no database work.
"""

from __future__ import annotations

import time
from datetime import datetime

from satrank.api.render import dumps, leaderboard_item
from satrank.db.nodes import IdKind, SortAxis, data_version, fetch_leaderboard
from satrank.db.nodes import NodeSummary as AgentSummary
from satrank.db.nodes import fetch_node as fetch_agent
from satrank.db.pool import Pool

MAX_PAGES = 512
MAX_AGENTS = 50_000  # more than every node on mainnet; cleared when full (bounded memory)

Version = tuple[datetime | None, datetime | None]


class DataVersion:
    def __init__(self, check_interval_s: float = 2.0) -> None:
        self.check_interval_s = check_interval_s
        self.value: Version | None = None
        self._checked_at = float("-inf")

    async def current(self, pool: Pool) -> Version | None:
        now = time.monotonic()
        if now - self._checked_at >= self.check_interval_s:
            self._checked_at = now  # set first: concurrent requests do not all re-read
            self.value = await data_version(pool)
        return self.value


class LeaderboardCache:
    def __init__(self, version: DataVersion) -> None:
        self._version = version
        self._seen: Version | None = None
        self._pages: dict[tuple[SortAxis, int, int], bytes] = {}

    async def page(self, pool: Pool, sort: SortAxis, limit: int, offset: int) -> bytes:
        """The response body of one leaderboard page."""
        version = await self._version.current(pool)
        if version != self._seen:
            self._seen = version
            self._pages.clear()
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


class AgentCache:
    """Known nodes' summaries by pubkey or agent hash (unknown ids are never cached)."""

    def __init__(self, version: DataVersion) -> None:
        self._version = version
        self._seen: Version | None = None
        self._agents: dict[str, AgentSummary] = {}

    async def get(self, pool: Pool, kind: IdKind, value: str) -> AgentSummary | None:
        version = await self._version.current(pool)
        if version != self._seen:
            self._seen = version
            self._agents.clear()
        agent = self._agents.get(value)
        if agent is None:
            agent = await fetch_agent(pool, kind, value)
            if agent is not None:
                if len(self._agents) >= MAX_AGENTS:
                    self._agents.clear()
                self._agents[agent.pubkey] = self._agents[agent.agent_hash] = agent
        return agent
