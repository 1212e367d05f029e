"""The api's one invalidation story (a data version any later source can extend), the
clock-bound caches, and the one client key of every per-client limit."""

from __future__ import annotations

import asyncio
from typing import cast

import pytest

from satrank.api.cache.expiring import Expiring, ExpiringMap
from satrank.api.cache.version import DataVersion, Versioned
from satrank.api.errors import ApiError
from satrank.api.paywall import Paywall
from satrank.config import Settings
from satrank.db.pool import Pool
from satrank.l402.gate import Debit, Shortfall
from tests.l402_support import PreimageIssuer

NO_POOL = cast(Pool, None)  # the sources below read no database


class Entries(Versioned):
    def __init__(self, version: DataVersion) -> None:
        super().__init__(version)
        self.entries = {"kept": 1}

    def _clear(self) -> None:
        self.entries.clear()


def test_any_source_of_the_version_drops_the_entries() -> None:
    marks = {"crawler": 1, "registry": 1}

    async def crawler(_pool: Pool) -> int:
        return marks["crawler"]

    async def registry(_pool: Pool) -> int:
        return marks["registry"]

    async def run() -> list[bool]:
        cache = Entries(DataVersion((crawler, registry), check_interval_s=0))
        seen = [await cache._expire(NO_POOL)]  # first sight of a version
        cache.entries["kept"] = 1
        seen.append(await cache._expire(NO_POOL))  # nothing moved
        marks["registry"] += 1
        seen.append(await cache._expire(NO_POOL))  # a later source moved
        assert cache.entries == {}
        cache.entries["kept"] = 1
        marks["crawler"] += 1
        seen.append(await cache._expire(NO_POOL))
        return seen

    assert asyncio.run(run()) == [True, False, True, True]


def test_the_version_is_reread_only_after_the_interval() -> None:
    reads = []

    async def source(_pool: Pool) -> int:
        reads.append(1)
        return len(reads)

    async def run() -> None:
        version = DataVersion((source,), check_interval_s=3600)
        first = await version.current(NO_POOL)
        assert await version.current(NO_POOL) == first == (1,)

    asyncio.run(run())
    assert len(reads) == 1


def test_a_caller_during_the_first_read_waits_for_it() -> None:
    """The api's first requests and its snapshot task read the version together: the one
    arriving while the first read is in flight gets its value, not None (it cleared the
    node cache twice and rendered one verdict twice, CI 2026-12-07)."""
    async def run() -> list[object]:
        started = asyncio.Event()

        async def slow(_pool: Pool) -> int:
            started.set()
            await asyncio.sleep(0.05)
            return 7

        version = DataVersion((slow,), check_interval_s=3600)
        first = asyncio.create_task(version.current(NO_POOL))
        await started.wait()
        second = await version.current(NO_POOL)
        return [await first, second]

    assert asyncio.run(run()) == [(7,), (7,)]


def test_expiring_value_lives_for_its_ttl() -> None:
    now = [100.0]
    value: Expiring[str] = Expiring(30.0, clock=lambda: now[0])
    assert value.get() is None
    assert value.put("stats") == "stats"
    now[0] += 29.9
    assert value.get() == "stats"
    now[0] += 0.1
    assert value.get() is None


def test_an_expiring_map_keeps_each_entry_its_time_and_drops_the_oldest_when_full() -> None:
    now = [100.0]
    pages: ExpiringMap[str, bytes] = ExpiringMap(5.0, 2, clock=lambda: now[0])
    pages.put("a", b"1")
    now[0] += 3
    pages.put("b", b"2")
    now[0] += 2
    assert (pages.get("a"), pages.get("b")) == (None, b"2")  # a is 5 s old, b 2 s
    pages.put("a", b"3")
    pages.put("c", b"4")  # full: b, the oldest, goes
    assert (pages.get("a"), pages.get("b"), pages.get("c")) == (b"3", None, b"4")


class NoCredits:
    """A ledger that never grants (minting never consults it)."""

    def spend_held(self, token_id: bytes, credits_total: int, cost: int) -> int | None:
        return None

    async def debit(self, debit: Debit) -> int | Shortfall:
        return Shortfall.EXHAUSTED

    def refund(self, debit: Debit) -> None:
        return None

    def release(self, token_id: bytes, credits_total: int) -> None:
        return None


def test_challenge_minting_keys_an_ipv6_client_by_its_64() -> None:
    settings = Settings.from_environ({"L402_MACAROON_SECRET": "x" * 40,
                                      "L402_CHALLENGE_BURST": "1",
                                      "L402_CHALLENGE_RATE_PER_MIN": "0.1"})
    paywall = Paywall(settings.l402, trusted_proxies=())
    paywall.start(NoCredits(), PreimageIssuer())

    def scope(address: str) -> dict[str, object]:
        return {"type": "http", "client": (address, 1), "headers": []}

    async def mint(address: str) -> None:
        await paywall.mint(scope(address), credits=1, amount_sat=1, memo="test")

    asyncio.run(mint("2001:db8:1:2::1"))
    with pytest.raises(ApiError) as refused:
        asyncio.run(mint("2001:db8:1:2:ffff::9"))  # same /64: same client
    assert refused.value.status == 429
    asyncio.run(mint("2001:db8:1:3::1"))  # another /64


def test_node_bodies_are_rendered_once_per_node_and_version() -> None:
    from datetime import UTC, datetime

    from satrank.api.cache.nodes import NodeCache
    from satrank.db.nodes import NodeSummary

    mark = {"crawler": 1}

    async def crawler(_pool: Pool) -> int:
        return mark["crawler"]

    node = NodeSummary(pubkey="02" + "a" * 64, agent_hash="b" * 64, alias="n",
                       first_seen=datetime(2025, 1, 1, tzinfo=UTC),
                       last_seen=datetime(2025, 2, 1, tzinfo=UTC),
                       is_active=True, rank=50, verdict="SAFE", p_success=0.9,
                       ci95_low=0.8, ci95_high=0.95, n_obs=3.0, reasons=(),
                       computed_at=None)
    renders: list[str] = []

    def render(n: NodeSummary) -> bytes:
        renders.append(n.pubkey)
        return f"body {len(renders)}".encode()

    async def run() -> list[bytes]:
        cache = NodeCache(DataVersion((crawler,), check_interval_s=0))
        await cache._expire(NO_POOL)
        bodies = [cache.body("summary", node, render), cache.body("summary", node, render)]
        mark["crawler"] += 1  # a new scoring pass: bodies are rendered again
        await cache._expire(NO_POOL)
        bodies.append(cache.body("summary", node, render))
        return [b.body for b in bodies]

    assert asyncio.run(run()) == [b"body 1", b"body 1", b"body 2"]
    assert len(renders) == 2
