"""Rate limits of the free routes DESIGN §4 marks "free, rate-limited".

One token bucket per client and per route group (`FreeRateSettings`): `agent` for the
agent summary and verdict, `search` for the alias search. Separate groups so a client's
searches never starve its own agent reads (the earlier SatRank shared one bucket across
every discovery route). The client is `client_ip` (the one client-address rule of the
api); an IPv6 client is keyed by its /64, since one host usually holds a whole /64 and
could otherwise rotate addresses past the limit. Buckets live in the worker's memory: with
API_WORKERS > 1 a client may get up to that many times the configured rate.

A refusal is 429 RATE_LIMITED in the error envelope with `Retry-After` (whole seconds).
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections.abc import Callable
from typing import Literal

from starlette.requests import Request

from satrank.api.client_ip import client_ip
from satrank.api.errors import ApiError
from satrank.api.ratelimit import RateLimiter
from satrank.config import FreeRateSettings, Settings

Group = Literal["agent", "search"]


def client_key(address: str) -> str:
    """The bucket key of a client address: itself for IPv4, its /64 for IPv6."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


class FreeRouteLimits:
    def __init__(self, settings: Settings, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        rates: FreeRateSettings = settings.api.free_rate
        self._settings = settings
        self._clock = clock
        self._limiters: dict[Group, RateLimiter] = {
            "agent": RateLimiter(rate_per_s=rates.agent_per_min / 60.0, burst=rates.agent_burst),
            "search": RateLimiter(rate_per_s=rates.search_per_min / 60.0,
                                  burst=rates.search_burst),
        }

    def check(self, request: Request, group: Group) -> None:
        """Take one unit of the client's `group` bucket, or raise 429 with Retry-After."""
        key = client_key(client_ip(request.scope, self._settings))
        wait_s = self._limiters[group].acquire(key, self._clock())
        if wait_s > 0:
            raise ApiError(429, "RATE_LIMITED", "too many requests from this client; retry later",
                           details={"limit": group},
                           headers={"Retry-After": str(max(1, math.ceil(wait_s)))})
