"""In-process token buckets keyed by string (client IP, token id, ...), reusable by any route.

`acquire(key, now)` takes one unit and answers 0.0, or the seconds until one is available
(the caller's Retry-After). The clock is a parameter. Keys are kept in LRU order and the
least recently seen are dropped past `max_keys`, so an attacker cycling keys costs memory
bounded by `max_keys` (a forgotten key starts with a full bucket again).
"""

from __future__ import annotations

from collections import OrderedDict

DEFAULT_MAX_KEYS = 10_000


class RateLimiter:
    def __init__(self, *, rate_per_s: float, burst: float,
                 max_keys: int = DEFAULT_MAX_KEYS) -> None:
        if rate_per_s <= 0 or burst < 1 or max_keys < 1:
            raise ValueError("rate_per_s > 0, burst >= 1 and max_keys >= 1 are required")
        self._rate = rate_per_s
        self._burst = float(burst)
        self._max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (level, t)

    def acquire(self, key: str, now: float) -> float:
        level, last = self._buckets.pop(key, (self._burst, now))
        level = min(self._burst, level + max(0.0, now - last) * self._rate)
        if level >= 1.0:
            self._buckets[key] = (level - 1.0, now)
            wait_s = 0.0
        else:
            self._buckets[key] = (level, now)
            wait_s = (1.0 - level) / self._rate
        while len(self._buckets) > self._max_keys:
            self._buckets.popitem(last=False)
        return wait_s
