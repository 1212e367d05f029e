"""Caches of the free node routes (summary, verdict, leaderboard), valid for one data
version (cache/version.py)."""

from __future__ import annotations

from collections.abc import Callable

from satrank.api.cache.version import DataVersion, Versioned
from satrank.api.cursors import encode_cursor
from satrank.api.render import dumps, leaderboard_item
from satrank.api.rendered import Rendered, rendered
from satrank.db.nodes import (
    IdKind,
    NodeSummary,
    SortAxis,
    SortKey,
    fetch_leaderboard,
    fetch_node,
)
from satrank.db.pool import Pool

MAX_PAGES = 512
MAX_NODES = 50_000  # more than every node on mainnet; cleared when full (bounded memory)


class LeaderboardCache(Versioned):
    def __init__(self, version: DataVersion) -> None:
        super().__init__(version)
        self._pages: dict[tuple[SortAxis, int, int, SortKey | None], Rendered] = {}
        self._total: int | None = None  # of this version's pages: counted once

    def _clear(self) -> None:
        self._pages.clear()
        self._total = None

    async def page(self, pool: Pool, sort: SortAxis, limit: int, offset: int,
                   after: SortKey | None = None) -> Rendered:
        """The answer of one leaderboard page: after the row `after` (a cursor's key) if
        given, else after `offset` rows."""
        await self._expire(pool)
        key = (sort, limit, offset, after)
        body = self._pages.get(key)
        if body is None:
            page = await fetch_leaderboard(pool, sort, limit, after=after, offset=offset,
                                           total=self._total)
            self._total = page.total
            next_cursor = (None if page.next_after is None
                           else encode_cursor(sort, page.next_after))
            body = rendered(dumps({
                "data": [leaderboard_item(n) for n in page.nodes],
                "meta": {"total": page.total, "limit": limit, "offset": offset,
                         "sort_by": sort, "next_cursor": next_cursor},
            }))
            if len(self._pages) >= MAX_PAGES:
                self._pages.clear()
            self._pages[key] = body
        return body


class NodeCache(Versioned):
    """Known nodes' summaries by pubkey or pubkey hash (unknown ids are never cached), and
    the answers rendered from them (a body is a pure function of the summary, so it is
    rendered, hashed for its ETag and its headers encoded once per node and data version,
    not per request)."""

    def __init__(self, version: DataVersion) -> None:
        super().__init__(version)
        self._nodes: dict[str, NodeSummary] = {}
        self._bodies: dict[tuple[str, str], Rendered] = {}

    def _clear(self) -> None:
        self._nodes.clear()
        self._bodies.clear()

    def body(self, view: str, node: NodeSummary,
             render: Callable[[NodeSummary], bytes]) -> Rendered:
        """`render(node)`, remembered under (`view`, the node) until the version moves."""
        key = (view, node.pubkey)
        cached = self._bodies.get(key)
        if cached is None:
            if len(self._bodies) >= MAX_NODES:
                self._bodies.clear()
            cached = self._bodies[key] = rendered(render(node))
        return cached

    async def get(self, pool: Pool, kind: IdKind, value: str) -> NodeSummary | None:
        await self._expire(pool)
        node = self._nodes.get(value)
        if node is None:
            node = await fetch_node(pool, kind, value)
            if node is not None:
                if len(self._nodes) >= MAX_NODES:
                    self._nodes.clear()
                self._nodes[node.pubkey] = self._nodes[node.agent_hash] = node
        return node
