"""Remember which nodes agents ask about, so the crawler probes those first.

`InterestBuffer.note_answer` (called by middleware/edge.py) notes the `{id}` of every
successful node lookup in memory; `InterestBuffer.run` writes them to Postgres in one
statement every few seconds. The request path never waits on that write, and a crash
loses at most one interval of hints (they only reorder the crawler's queue).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from starlette.types import Scope

from satrank.db.errors import DatabaseError, database_errors
from satrank.db.interest import record_interest
from satrank.db.pool import Pool

# Node lookups that express interest in one node (the batch endpoint is left out).
INTEREST_ROUTES = frozenset({"/api/agent/{id}", "/api/agent/{id}/verdict", "/api/profile/{id}"})
FLUSH_INTERVAL_S = 5.0
MAX_BUFFERED = 10_000  # bounded memory if the database is down for long

_log = logging.getLogger(__name__)


class InterestBuffer:
    def __init__(self) -> None:
        self._ids: set[str] = set()

    def note(self, node_id: str) -> None:
        if len(self._ids) < MAX_BUFFERED:
            self._ids.add(node_id)

    def note_answer(self, scope: Scope, status: int) -> None:
        """Note the node of an answered request when it was a successful node lookup."""
        # The router has filled scope["route"] and scope["path_params"] by now.
        route = getattr(scope.get("route"), "path", None)
        if status == 200 and route in INTEREST_ROUTES:
            node_id = scope.get("path_params", {}).get("id")
            if isinstance(node_id, str):
                self.note(node_id.lower())

    async def flush(self, pool: Pool, *, now: datetime) -> int:
        ids, self._ids = self._ids, set()
        try:
            with database_errors():
                return await record_interest(pool, ids, now=now)
        except DatabaseError as exc:
            _log.warning("could not record node interest: %s", type(exc).__name__)
            return 0

    async def run(self, pool: Pool, *, interval_s: float = FLUSH_INTERVAL_S,
                  clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        """Flush every `interval_s` until cancelled, then once more."""
        try:
            while True:
                await asyncio.sleep(interval_s)
                await self.flush(pool, now=clock())
        finally:
            await self.flush(pool, now=clock())
