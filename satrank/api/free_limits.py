"""Rate limits of the free routes DESIGN §4 marks "free, rate-limited".

One token bucket per client (`clients.client_key`) and per route group
(`FreeRateSettings`): `node` for the node summary and verdict, `search` for the alias
search. Separate groups so a client's searches never starve its own node reads (the
earlier SatRank shared one bucket across every discovery route). Buckets live in the
worker's memory: with API_WORKERS > 1 a client may get up to that many times the
configured rate.

A refusal is 429 RATE_LIMITED in the error envelope with `Retry-After` (whole seconds).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Literal

from starlette.requests import Request

from satrank.api.clients import client_key
from satrank.api.errors import ApiError
from satrank.api.ratelimit import RateLimiter
from satrank.config import FreeRateSettings, ProxyNetwork

Group = Literal["node", "search"]
# The group's name in the refusal's details: public, so it keeps the earlier wording.
_PUBLIC_NAMES: dict[Group, str] = {"node": "agent", "search": "search"}


class FreeRouteLimits:
    def __init__(self, rates: FreeRateSettings, *, trusted_proxies: Sequence[ProxyNetwork],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._trusted_proxies = tuple(trusted_proxies)
        self._clock = clock
        self._limiters: dict[Group, RateLimiter] = {
            "node": RateLimiter(rate_per_s=rates.agent_per_min / 60.0, burst=rates.agent_burst),
            "search": RateLimiter(rate_per_s=rates.search_per_min / 60.0,
                                  burst=rates.search_burst),
        }

    def check(self, request: Request, group: Group) -> None:
        """Take one unit of the client's `group` bucket, or raise 429 with Retry-After."""
        key = client_key(request.scope, trusted_proxies=self._trusted_proxies)
        wait_s = self._limiters[group].acquire(key, self._clock())
        if wait_s > 0:
            raise ApiError(429, "RATE_LIMITED", "too many requests from this client; retry later",
                           details={"limit": _PUBLIC_NAMES[group]},
                           headers={"Retry-After": str(max(1, math.ceil(wait_s)))})
