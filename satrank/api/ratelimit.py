"""In-process token buckets keyed by client IP, token id or any hashable, for any route.

`acquire(key, now)` takes one unit and answers 0.0, or the seconds until one is available
(the caller's Retry-After). The clock is a parameter. Keys are kept in LRU order and the
least recently seen are dropped past `max_keys`, so an attacker cycling keys costs memory
bounded by `max_keys` (a forgotten key starts with a full bucket again).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable

DEFAULT_MAX_KEYS = 10_000


class RateLimiter:
    def __init__(self, *, rate_per_s: float, burst: float,
                 max_keys: int = DEFAULT_MAX_KEYS) -> None:
        if rate_per_s <= 0 or burst < 1 or max_keys < 1:
            raise ValueError("rate_per_s > 0, burst >= 1 and max_keys >= 1 are required")
        self._rate = rate_per_s
        self._burst = float(burst)
        self._max_keys = max_keys
        # key -> (level, time of the last update)
        self._buckets: OrderedDict[Hashable, tuple[float, float]] = OrderedDict()

    def acquire(self, key: Hashable, now: float) -> float:
        # On every paid request: written for speed (one pop, one insert, no min/max calls).
        buckets = self._buckets
        level, last = buckets.pop(key, (self._burst, now))
        if now > last:
            level += (now - last) * self._rate
            if level > self._burst:
                level = self._burst
        if level >= 1.0:
            buckets[key] = (level - 1.0, now)
            wait_s = 0.0
        else:
            buckets[key] = (level, now)
            wait_s = (1.0 - level) / self._rate
        while len(buckets) > self._max_keys:
            buckets.popitem(last=False)
        return wait_s
