"""A value kept for a fixed time: for answers that move with the clock, not with the
data version (GET /api/stats counts the last 24 h; the health check's LND GetInfo)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Expiring(Generic[T]):
    def __init__(self, ttl_s: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self._clock = clock
        self._entry: tuple[float, T] | None = None

    def get(self) -> T | None:
        """The value while younger than `ttl_s`, else None."""
        entry = self._entry
        if entry is None or self._clock() - entry[0] >= self.ttl_s:
            return None
        return entry[1]

    def put(self, value: T) -> T:
        self._entry = (self._clock(), value)
        return value


K = TypeVar("K")


class ExpiringMap(Generic[K, T]):
    """Values kept for a fixed time each, at most `max_entries` of them: when full, the
    oldest entry goes (entries are kept in insertion order, and a put re-inserts)."""

    def __init__(self, ttl_s: float, max_entries: int, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._clock = clock
        self._entries: dict[K, tuple[float, T]] = {}

    def get(self, key: K) -> T | None:
        entry = self._entries.get(key)
        if entry is None or self._clock() - entry[0] >= self.ttl_s:
            return None
        return entry[1]

    def put(self, key: K, value: T) -> T:
        self._entries.pop(key, None)
        while len(self._entries) >= self.max_entries:
            del self._entries[next(iter(self._entries))]
        self._entries[key] = (self._clock(), value)
        return value
