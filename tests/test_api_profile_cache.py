"""Profile cache on a real database: what it serves from memory, and that new probes,
reports, scores and graph syncs reach the profile (the clock is a parameter)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest

from satrank.api.app import create_app
from satrank.api.cache import ApiCaches
from satrank.api.cache.profile import ProfileCache
from satrank.api.cache.version import DataVersion
from satrank.api.shapes import fetch_profile_json
from satrank.config import Settings
from satrank.db.nodes import IdKind
from satrank.db.pool import Pool, create_pool
from tests.api_seed import OPERATOR, OPERATOR_SECRET, agent_hash, seed
from tests.live_server import live_server

SETTINGS = Settings.from_environ({"L402_MACAROON_SECRET": "x" * 40,
                                  "OPERATOR_BYPASS_SECRET": OPERATOR_SECRET})


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class CountingFetch:
    def __init__(self) -> None:
        self.calls: list[str] = []

    async def __call__(self, pool: Pool, kind: IdKind, value: str) -> str | None:
        self.calls.append(value)
        return await fetch_profile_json(pool, kind, value)


@pytest.fixture
async def pool(db_dsn: str) -> AsyncIterator[Pool]:
    p = await create_pool(db_dsn, SETTINGS.database)
    try:
        yield p
    finally:
        await p.close()


def _doc(body: bytes | None) -> dict[str, Any]:
    assert body is not None
    data: dict[str, Any] = json.loads(body)["data"]
    return data


async def _add_probe(pool: Pool, pubkey: str, amount_sat: int) -> None:
    await pool.execute(
        """INSERT INTO probes (target_pubkey, amount_sat, sent_at, duration_ms, outcome)
           VALUES ($1, $2, now(), 10, 'failed_at_target')""", pubkey, amount_sat)


async def test_entries_follow_new_probes_reports_and_scores(db_dsn: str, pool: Pool) -> None:
    pks = await seed(db_dsn)
    clock, fetch = Clock(), CountingFetch()
    cache = ProfileCache(DataVersion(check_interval_s=0), check_interval_s=2.0,
                         max_age_s=60.0, clock=clock)
    first = _doc(await cache.get(pool, "pubkey", pks[0], fetch))
    by_hash = _doc(await cache.get(pool, "agent_hash", agent_hash(pks[1]), fetch))
    await cache.get(pool, "pubkey", pks[1], fetch)
    assert len(first["probes"]["recent"]) == 1
    assert by_hash["agent"]["publicKey"] == pks[1]
    assert fetch.calls == [pks[0], agent_hash(pks[1]), pks[1]]

    await _add_probe(pool, pks[0], 7777)
    await pool.execute(
        "INSERT INTO reports (target_pubkey, outcome) VALUES ($1, 'failure')", pks[1])
    # within the check interval the cached documents are served as they were
    assert _doc(await cache.get(pool, "pubkey", pks[0], fetch)) == first
    assert len(fetch.calls) == 3
    clock.now += 2.0
    fresh = _doc(await cache.get(pool, "pubkey", pks[0], fetch))
    assert [p["amountSat"] for p in fresh["probes"]["recent"]][0] == 7777
    hashed = _doc(await cache.get(pool, "agent_hash", agent_hash(pks[1]), fetch))
    assert hashed["reports"]["failures"] == 1  # both ids of the reported node were dropped
    assert _doc(await cache.get(pool, "pubkey", pks[1], fetch))["reports"]["failures"] == 1
    untouched = await cache.get(pool, "pubkey", pks[2], fetch)
    assert len(fetch.calls) == 7 and untouched is not None

    # a scoring run (new computed_at) drops every entry at once
    await pool.execute("UPDATE scores SET rank = 11, computed_at = now() WHERE pubkey = $1",
                       pks[2])
    assert _doc(await cache.get(pool, "pubkey", pks[2], fetch))["score"]["rank"] == 11
    await cache.get(pool, "pubkey", pks[1], fetch)
    assert fetch.calls[-2:] == [pks[2], pks[1]]

    # entries expire after max_age_s even without new data (time windows move)
    calls = len(fetch.calls)
    await cache.get(pool, "pubkey", pks[1], fetch)
    assert len(fetch.calls) == calls
    clock.now += 60.0
    await cache.get(pool, "pubkey", pks[1], fetch)
    assert len(fetch.calls) == calls + 1


async def test_unknown_nodes_and_memory_bound(db_dsn: str, pool: Pool) -> None:
    pks = await seed(db_dsn)
    fetch = CountingFetch()
    cache = ProfileCache(DataVersion(check_interval_s=0), max_bytes=1, clock=Clock())
    assert await cache.get(pool, "pubkey", "02" + "9" * 64, fetch) is None
    assert await cache.get(pool, "pubkey", "02" + "9" * 64, fetch) is None
    body = await cache.get(pool, "pubkey", pks[0], fetch)
    assert body is not None and await cache.get(pool, "pubkey", pks[0], fetch) == body
    assert len(fetch.calls) == 4  # nothing fits in one byte: never stored


async def test_a_document_read_during_a_change_is_not_stored(db_dsn: str, pool: Pool) -> None:
    """A read that started before a probe was seen may predate it: serve, do not keep."""
    pks = await seed(db_dsn)
    clock = Clock()
    cache = ProfileCache(DataVersion(check_interval_s=0), check_interval_s=1.0, clock=clock)
    await cache.get(pool, "pubkey", pks[3], fetch_profile_json)  # sets the watermark
    started = asyncio.Event()
    release = asyncio.Event()

    async def slow_fetch(p: Pool, kind: IdKind, value: str) -> str | None:
        document = await fetch_profile_json(p, kind, value)  # before the probe
        started.set()
        await release.wait()
        return document

    clock.now += 1.0
    slow = asyncio.create_task(cache.get(pool, "pubkey", pks[0], slow_fetch))
    await started.wait()
    await _add_probe(pool, pks[0], 4242)
    clock.now += 1.0
    await cache.get(pool, "pubkey", pks[4], fetch_profile_json)  # this check sees the probe
    release.set()
    stale = _doc(await slow)
    assert all(p["amountSat"] != 4242 for p in stale["probes"]["recent"])
    fresh = _doc(await cache.get(pool, "pubkey", pks[0], fetch_profile_json))
    assert fresh["probes"]["recent"][0]["amountSat"] == 4242


def test_profile_route_shows_new_evidence(db_dsn: str) -> None:
    pks = asyncio.run(seed(db_dsn))
    app = create_app(SETTINGS, db_dsn, caches=ApiCaches.build(check_interval_s=0))

    async def add_report() -> None:
        conn = await asyncpg.connect(db_dsn)
        try:
            await conn.execute(
                "INSERT INTO reports (target_pubkey, outcome) VALUES ($1, 'success')", pks[0])
        finally:
            await conn.close()

    with live_server(app) as url, \
            httpx.Client(base_url=url, timeout=10, headers=OPERATOR) as client:
        before = client.get(f"/api/profile/{pks[0]}")
        again = client.get(f"/api/profile/{pks[0]}")
        asyncio.run(add_report())
        after = client.get(f"/api/profile/{pks[0]}")
        missing = client.get("/api/profile/" + "02" + "9" * 64)
    assert before.status_code == 200 and before.json() == again.json()
    assert before.json()["data"]["reports"]["successes"] == 0
    assert after.json()["data"]["reports"]["successes"] == 1
    assert after.headers["cache-control"] == "private, no-store"
    assert missing.status_code == 404
