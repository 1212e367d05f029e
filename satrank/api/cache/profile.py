"""Cache of rendered profile documents (GET /api/profile/{id}), per node.

A profile is built from two kinds of data:
- the crawler's output (node, channels, policies, scores, posteriors, history): it
  changes with a graph sync or a scoring run, which moves the data version (shared with
  the node caches, cache/version.py): then every entry is dropped;
- the node's own probes and reports, which arrive between crawler runs (crawler probes,
  /api/probe, /api/report). Every `check_interval_s` one indexed statement returns the
  targets of the probes and reports newer than the last ids seen; only their entries are
  dropped, so a steady trickle of probes does not empty the cache.

So a new probe, report, score or graph sync shows in the profile within
`check_interval_s`. An entry also expires after `max_age_s`: the document's time windows
(probes of the last 30 days, ...) move with the clock, and a row whose id was allocated
before the newest seen id but committed after it escapes the id watermark. A document
read from the database while a check found changes is served but not stored (it may
predate the change). Memory is bounded by `max_bytes` (least recently used dropped first).
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from satrank.api.cache.version import DEFAULT_CHECK_INTERVAL_S, DataVersion, Versioned
from satrank.api.shapes import fetch_profile_json
from satrank.db.nodes import IdKind
from satrank.db.pool import Pool
from satrank.db.profile import EvidenceMark, fetch_evidence_changes

DEFAULT_MAX_BYTES = 64 << 20
DEFAULT_MAX_AGE_S = 60.0


class ProfileCache(Versioned):
    def __init__(self, version: DataVersion, *,
                 check_interval_s: float = DEFAULT_CHECK_INTERVAL_S,
                 max_age_s: float = DEFAULT_MAX_AGE_S, max_bytes: int = DEFAULT_MAX_BYTES,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(version)
        self._check_interval_s = check_interval_s
        self._max_age_s = max_age_s
        self._max_bytes = max_bytes
        self._clock = clock
        self._mark: EvidenceMark | None = None
        self._checked_at = float("-inf")
        self._epoch = 0  # moves whenever entries were dropped for newer data
        self._entries: OrderedDict[str, tuple[bytes, float]] = OrderedDict()  # id -> doc, at
        self._bytes = 0

    def _drop(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._bytes -= len(entry[0])

    def _clear(self) -> None:
        self._entries.clear()
        self._bytes = 0

    async def _refresh(self, pool: Pool) -> None:
        if await self._expire(pool):
            self._epoch += 1
        now = self._clock()
        if now - self._checked_at < self._check_interval_s:
            return
        self._checked_at = now  # first: concurrent requests do not all re-check
        mark, changed = await fetch_evidence_changes(pool, self._mark)
        self._mark = mark
        if changed:
            self._epoch += 1
            for pubkey in changed:
                self._drop(pubkey)
                self._drop(hashlib.sha256(pubkey.encode()).hexdigest())

    async def get(self, pool: Pool, kind: IdKind, value: str,
                  fetch: Callable[[Pool, IdKind, str], Awaitable[str | None]]
                  = fetch_profile_json) -> bytes | None:
        """The response body `{"data": <profile>}` of the node, or None when unknown."""
        await self._refresh(pool)
        entry = self._entries.get(value)
        now = self._clock()
        if entry is not None and now - entry[1] < self._max_age_s:
            self._entries.move_to_end(value)
            return entry[0]
        epoch = self._epoch
        document = await fetch(pool, kind, value)
        if document is None:
            return None
        body = b'{"data":' + document.encode() + b"}"
        if epoch == self._epoch and len(body) <= self._max_bytes:
            self._drop(value)
            self._entries[value] = (body, now)
            self._bytes += len(body)
            while self._bytes > self._max_bytes:
                _, (old, _) = self._entries.popitem(last=False)
                self._bytes -= len(old)
        return body
