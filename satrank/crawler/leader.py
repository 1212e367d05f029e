"""Leader election with a Postgres session advisory lock.

The lock lives on one dedicated connection: if the leader process dies, Postgres ends its
session and releases the lock, and a standby polling every `poll_s` takes over.
"""

from __future__ import annotations

import asyncio
import logging

from satrank.crawler.metrics import IS_LEADER
from satrank.db.locks import LeaderLock

_log = logging.getLogger(__name__)
STANDBY_POLL_S = 1.0


async def wait_for_leadership(lock: LeaderLock, *, stop: asyncio.Event,
                              poll_s: float = STANDBY_POLL_S) -> bool:
    """Block until `lock` is held (True) or `stop` is set (False)."""
    announced = False
    while not stop.is_set():
        if await lock.try_acquire():
            IS_LEADER.set(1)
            _log.info("crawler is the leader")
            return True
        if not announced:
            _log.info("another crawler is the leader: waiting as standby")
            announced = True
        try:
            await asyncio.wait_for(stop.wait(), timeout=poll_s)
        except TimeoutError:
            pass
    return False
