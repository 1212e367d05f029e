"""Integration: the publisher against a real relay (PyPI nostr-relay in a subprocess), read
back and verified by an independent client (npm nostr-tools, `verifyEvent`)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from prometheus_client import REGISTRY

from satrank.config import DatabaseSettings, NostrSettings, Secret
from satrank.db import nostr_outbox as outbox
from satrank.db.pool import create_pool
from satrank.nostr.assertions import ScoredNode, assertion_tags
from satrank.nostr.keys import NostrKey
from satrank.nostr.publisher import run_publisher
from tests.nostr_relay import NostrRelay, fetch_with_nostr_tools, running_relay
from tests.nostr_rows import ScoreRow, sample_rows, write_scores

DRAIN_DEADLINE_S = 120.0


@pytest.fixture(scope="module")
def relay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NostrRelay]:
    with running_relay(tmp_path_factory.mktemp("relay")) as running:
        yield running


@pytest.fixture
async def pool(db_dsn: str) -> AsyncIterator[asyncpg.Pool]:
    created = await create_pool(db_dsn, DatabaseSettings(url=None, pool_min=1, pool_max=4))
    try:
        yield created
    finally:
        await created.close()


def settings_for(key: NostrKey, relay_url: str, **overrides: Any) -> NostrSettings:
    values: dict[str, Any] = dict(publish_interval_s=0.0, ok_timeout_s=5.0,
                                  connect_timeout_s=2.0, retry_base_s=0.05,
                                  retry_max_s=0.5, poll_interval_s=0.05)
    values.update(overrides)
    return NostrSettings(private_key=Secret(key.nsec()), relays=(relay_url,), **values)


async def enqueue_scores(pool: asyncpg.Pool, rows: list[ScoreRow]) -> int:
    async with pool.acquire() as conn, conn.transaction():
        await write_scores(conn, rows)
        return await outbox.enqueue_changed_score_events(conn)


async def wait_until(predicate: Callable[[], Awaitable[bool]], what: str) -> None:
    """Poll until `predicate()` is true; the deadline only bounds a hung test."""
    deadline = time.monotonic() + DRAIN_DEADLINE_S
    while not await predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        await asyncio.sleep(0.05)


async def pending(pool: asyncpg.Pool) -> int:
    async with pool.acquire() as conn:
        return (await outbox.fetch_outbox_lag(conn)).pending


async def publish_until_drained(pool: asyncpg.Pool, settings: NostrSettings) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(run_publisher(pool, settings, stop=stop))
    try:
        async def drained() -> bool:
            if task.done():
                task.result()
            return await pending(pool) == 0
        await wait_until(drained, "the outbox to drain")
    finally:
        stop.set()
        await task


def expected_tags(row: ScoreRow) -> list[list[str]]:
    return assertion_tags(ScoredNode(row.pubkey, row.alias, row.rank, row.verdict,
                                     row.p_success, row.ci95_low, row.ci95_high, row.n_eff))


def fetch_assertions(relay_url: str, key: NostrKey, **extra: object) -> list[dict[str, object]]:
    events = fetch_with_nostr_tools(
        relay_url, {"kinds": [30382], "authors": [key.pubkey_hex], **extra})
    assert all(e["verified"] is True and e["hashMatches"] is True for e in events)
    return events


def published_count(relay_url: str) -> float:
    value = REGISTRY.get_sample_value(
        "satrank_nostr_events_published_total", {"relay": relay_url})
    return value or 0.0


async def test_first_publish_unchanged_rescore_and_replacement(
    pool: asyncpg.Pool, relay: NostrRelay
) -> None:
    key = NostrKey.generate()
    settings = settings_for(key, relay.url)
    rows = sample_rows(25)
    assert await enqueue_scores(pool, rows) == 25
    await publish_until_drained(pool, settings)

    events = fetch_assertions(relay.url, key)
    assert len(events) == 25
    by_d = {e["tags"][0][1]: e for e in events}  # type: ignore[index]
    for row in rows:
        assert by_d[row.pubkey]["tags"] == expected_tags(row)
        assert by_d[row.pubkey]["content"] == ""
    profile = fetch_with_nostr_tools(relay.url, {"kinds": [0], "authors": [key.pubkey_hex]})
    assert len(profile) == 1 and profile[0]["verified"] is True
    assert '"nip05":"satrank@satrank.dev"' in str(profile[0]["content"])

    # An identical rescore queues nothing, and the publisher sends nothing.
    assert await enqueue_scores(pool, rows) == 0
    before = published_count(relay.url)
    await publish_until_drained(pool, settings)
    assert published_count(relay.url) == before
    assert {e["id"] for e in fetch_assertions(relay.url, key)} == {e["id"] for e in events}

    # A changed score replaces the addressable event: the relay keeps only the newest.
    changed = rows[4].changed(p_success=0.0421, verdict="RISKY", rank=3)
    assert await enqueue_scores(pool, [changed]) == 1
    await publish_until_drained(pool, settings)
    latest = fetch_assertions(relay.url, key, **{"#d": [changed.pubkey]})
    assert len(latest) == 1
    assert latest[0]["tags"] == expected_tags(changed)
    assert latest[0]["created_at"] > by_d[changed.pubkey]["created_at"]  # type: ignore[operator]
    assert len(fetch_assertions(relay.url, key)) == 25
    assert published_count(relay.url) == before + 1
    assert (REGISTRY.get_sample_value(
        "satrank_nostr_last_publish_timestamp_seconds", {"relay": relay.url}) or 0) > 0
    assert (REGISTRY.get_sample_value("satrank_nostr_events_signed_total") or 0) >= 27


async def test_relay_down_then_up_loses_nothing(pool: asyncpg.Pool, tmp_path: Path) -> None:
    key = NostrKey.generate()
    relay = NostrRelay(tmp_path)
    # Small batches so delivery progress is recorded while the backlog is still large.
    settings = settings_for(key, relay.url, publish_interval_s=0.05, publish_batch=5)
    rows = sample_rows(60)
    await enqueue_scores(pool, rows)

    async def some_delivered() -> bool:
        async with pool.acquire() as conn:
            return int(await conn.fetchval(
                "SELECT count(*) FROM nostr_relay_status WHERE status = 'ok'")) >= 5

    def connect_failures() -> float:
        return REGISTRY.get_sample_value(
            "satrank_nostr_relay_connect_failures_total", {"relay": relay.url}) or 0.0

    async def drained() -> bool:
        return await pending(pool) == 0

    stop = asyncio.Event()
    task = asyncio.create_task(run_publisher(pool, settings, stop=stop))
    try:
        await wait_until(_failures_above(connect_failures, 0), "connect failures (relay down)")
        await asyncio.to_thread(relay.start)
        await wait_until(some_delivered, "the first deliveries")
        failures = connect_failures()
        await asyncio.to_thread(relay.stop, abrupt=True)  # dies in the middle of the backlog
        await wait_until(_failures_above(connect_failures, failures),
                         "the publisher to notice the relay went away")
        assert await pending(pool) > 0
        await asyncio.to_thread(relay.start)
        await wait_until(drained, "the outbox to drain")
        events = fetch_assertions(relay.url, key)
    finally:
        stop.set()
        await task
        relay.stop()
    assert len(events) == 60
    assert {e["tags"][0][1] for e in events} == {r.pubkey for r in rows}  # type: ignore[index]


def _failures_above(read: Callable[[], float], floor: float) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return read() > floor
    return check
