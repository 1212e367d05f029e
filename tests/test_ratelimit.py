"""Unit: token buckets (time is a parameter) and the client address used as their key."""

from __future__ import annotations

import pytest

from satrank.api.clients import client_ip
from satrank.api.ratelimit import RateLimiter
from satrank.config import Settings

SECRET = {"L402_MACAROON_SECRET": "s" * 40}


def test_burst_then_refill() -> None:
    limiter = RateLimiter(rate_per_s=2.0, burst=3)
    assert [limiter.acquire("a", 100.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.acquire("a", 100.0) == pytest.approx(0.5)
    assert limiter.acquire("b", 100.0) == 0.0  # keys are independent
    assert limiter.acquire("a", 100.5) == 0.0
    assert limiter.acquire("a", 100.5) > 0


def test_key_count_is_bounded() -> None:
    limiter = RateLimiter(rate_per_s=0.001, burst=1, max_keys=2)
    for key in ("a", "b", "c"):
        assert limiter.acquire(key, 0.0) == 0.0
    assert limiter.acquire("c", 0.0) > 0
    assert limiter.acquire("a", 0.0) == 0.0  # forgotten, so full again


@pytest.mark.parametrize(
    ("env", "peer", "xff", "expected"),
    [
        ({"TRUST_PROXY": "false"}, "127.0.0.1", ["9.9.9.9"], "127.0.0.1"),
        ({"TRUST_PROXY": "true"}, "127.0.0.1", ["1.1.1.1, 9.9.9.9"], "9.9.9.9"),
        ({"TRUST_PROXY": "true"}, "127.0.0.1", ["1.1.1.1", "9.9.9.9"], "9.9.9.9"),
        ({"TRUST_PROXY": "true"}, "::1", ["2001:db8::1"], "2001:db8::1"),
        ({"TRUST_PROXY": "true"}, "10.0.0.5", ["9.9.9.9"], "10.0.0.5"),
        ({"TRUST_PROXY": "true"}, "127.0.0.1", ["not-an-ip"], "127.0.0.1"),
        ({"TRUST_PROXY": "true"}, "127.0.0.1", [], "127.0.0.1"),
        ({"TRUSTED_PROXIES": "172.16.0.0/12"}, "172.18.0.1", ["9.9.9.9"], "9.9.9.9"),
        ({"TRUSTED_PROXIES": "172.16.0.0/12"}, "127.0.0.1", ["9.9.9.9"], "127.0.0.1"),
        ({"TRUSTED_PROXIES": "172.16.0.0/12,10.0.0.7"}, "172.18.0.1",
         ["6.6.6.6, 9.9.9.9, 10.0.0.7"], "9.9.9.9"),
        ({"TRUSTED_PROXIES": "172.18.0.1"}, "::ffff:172.18.0.1", ["9.9.9.9"], "9.9.9.9"),
    ],
    ids=["proxy-not-trusted", "last-of-list", "last-of-headers", "ipv6", "peer-not-loopback",
         "garbage-forwarded", "no-forwarded", "docker-gateway", "loopback-not-listed",
         "chain-of-trusted-proxies", "ipv4-mapped-peer"],
)
def test_client_ip(env: dict[str, str], peer: str, xff: list[str], expected: str) -> None:
    settings = Settings.from_environ({**SECRET, **env})
    scope = {"client": (peer, 5000), "headers": [(b"x-forwarded-for", v.encode()) for v in xff]}
    assert client_ip(scope, trusted_proxies=settings.api.trusted_proxies) == expected
