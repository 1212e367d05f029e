"""Integration: channel knowledge through real Postgres: record probe rounds, merge, load."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import numpy as np
import pytest

from satrank.db.graph import sync_graph
from satrank.db.knowledge import (
    delete_knowledge_before,
    load_channel_knowledge,
    record_probe_knowledge,
)
from satrank.db.scores import load_graph_arrays
from satrank.lightning.backend import HtlcAttempt, ProbeResult, RouteHop
from satrank.outcomes import ProbeOutcome
from satrank.scoring.knowledge import edge_bounds
from tests.scoring_graphs import pubkey, small_graph

NOW = datetime(2025, 10, 25, 12, tzinfo=UTC)
TEMP = "TEMPORARY_CHANNEL_FAILURE"
GRAPH = small_graph(4, [(0, 1, 2_000_000), (1, 2, 1_000_000), (2, 3, 500_000)])
CH = [e.channel_id for e in GRAPH.edges]  # CH[k] joins nodes k and k + 1


@pytest.fixture
async def conn(db_dsn: str) -> AsyncIterator[asyncpg.Connection]:
    c = await asyncpg.connect(db_dsn)
    try:
        await sync_graph(c, GRAPH, block_height=800_500, now=NOW)
        yield c
    finally:
        await c.close()


def _hop(channel: int, to: int, amount_sat: int) -> RouteHop:
    return RouteHop(channel, pubkey(to), amount_sat * 1000, 0, 800)


def _attempt(path: list[int], amount_sat: int, *, fail_at: int | None = None,
             code: str = TEMP) -> HtlcAttempt:
    """An attempt along nodes `path` (path[0] sends); failing at route position `fail_at`
    (None: the destination answered, the probe reached it)."""
    hops = tuple(_hop(CH[min(a, b)], b, amount_sat) for a, b in zip(path, path[1:], strict=False))
    if fail_at is None:
        return HtlcAttempt(hops, "FAILED", "INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS", len(hops))
    return HtlcAttempt(hops, "FAILED", code, fail_at)


def _result(*attempts: HtlcAttempt) -> ProbeResult:
    last = attempts[-1]
    return ProbeResult(destination=last.hops[-1].pubkey, amount_sat=1, outcome=ProbeOutcome.ERROR,
                       failure_code=last.failure_code,
                       failure_source_index=last.failure_source_index, failing_channel_id=None,
                       hops=last.hops, fee_msat=0, duration_ms=1, attempts=len(attempts),
                       htlcs=attempts)


async def _rows(conn: asyncpg.Connection) -> dict[tuple[int, int], tuple[int, int | None]]:
    k = await load_channel_knowledge(conn)
    return {(int(c), int(d)): (int(a), None if np.isinf(f) else int(f))
            for c, d, a, f in zip(k.channel_id, k.direction, k.carried_sat, k.failed_sat,
                                  strict=True)}


async def test_every_attempt_of_a_round_bounds_the_channel_directions_it_crossed(
        conn: asyncpg.Connection) -> None:
    # attempt 1 fails for liquidity at node 2's channel to 3; attempt 2 (reverse way, from
    # node 3) reaches node 0; attempt 3 stops at a disabled channel, which bounds nothing
    first = _attempt([0, 1, 2, 3], 300_000, fail_at=2)
    back = _attempt([3, 2, 1, 0], 200_000)
    disabled = _attempt([0, 1, 2], 150_000, fail_at=1, code="CHANNEL_DISABLED")
    written = await record_probe_knowledge(conn, [_result(first, back), _result(disabled)], NOW)
    assert written == 6
    assert await _rows(conn) == {
        (CH[0], 0): (300_000, None), (CH[1], 0): (300_000, None), (CH[2], 0): (0, 300_000),
        (CH[2], 1): (200_000, None), (CH[1], 1): (200_000, None), (CH[0], 1): (200_000, None),
    }
    graph = await load_graph_arrays(conn)
    k = await load_channel_knowledge(conn)
    lower, upper = edge_bounds(graph, k, now_unix=NOW.timestamp())
    e = list(graph.channel_id).index(CH[2])
    assert (lower[0, e], upper[0, e]) == (0.0, 300_000.0)
    assert (lower[1, e], upper[1, e]) == (200_000.0, 500_000.0)
    counts = await conn.fetch("SELECT carried_count, failed_count FROM channel_knowledge "
                              "WHERE channel_id = $1 AND direction = 0", CH[0])
    assert [tuple(r) for r in counts] == [(2, 0)]  # the disabled attempt still crossed it


async def test_channels_outside_the_graph_are_skipped(conn: asyncpg.Connection) -> None:
    stray = HtlcAttempt((RouteHop(CH[2] + 99, pubkey(1), 10**8, 0, 800),), "SUCCEEDED", None,
                        None)
    assert await record_probe_knowledge(conn, [_result(stray)], NOW) == 0
    assert await record_probe_knowledge(conn, [], NOW) == 0
    assert await _rows(conn) == {}


async def test_rounds_merge_like_lnds_mission_control(conn: asyncpg.Connection) -> None:
    async def step(attempt: HtlcAttempt, minutes: int) -> tuple[int, int | None]:
        await record_probe_knowledge(conn, [_result(attempt)], NOW + timedelta(minutes=minutes))
        return (await _rows(conn))[(CH[0], 0)]

    carry = lambda a: _attempt([0, 1], a)  # noqa: E731
    fail = lambda a: _attempt([0, 1], a, fail_at=0)  # noqa: E731
    assert await step(carry(100_000), 0) == (100_000, None)
    assert await step(fail(300_000), 1) == (100_000, 300_000)
    assert await step(carry(50_000), 2) == (100_000, 300_000)  # a smaller success: no news
    assert await step(carry(400_000), 3) == (400_000, 400_001)  # liquidity came back
    assert await step(fail(200_000), 4) == (199_999, 200_000)  # and went again
    assert await step(fail(250_000), 5) == (199_999, 250_000)  # the newer failure's word
    row = await conn.fetchrow("SELECT carried_at, failed_at FROM channel_knowledge "
                              "WHERE channel_id = $1 AND direction = 0", CH[0])
    assert (row["carried_at"], row["failed_at"]) == (NOW + timedelta(minutes=3),
                                                     NOW + timedelta(minutes=5))


async def test_one_round_merges_like_its_attempts_one_at_a_time(db_dsn: str) -> None:
    rng = random.Random(15)
    attempts = []
    for _ in range(60):
        path = rng.choice([[0, 1, 2, 3], [3, 2, 1, 0], [1, 2], [2, 1, 0]])
        amount = rng.choice([10_000, 100_000, 150_000, 250_000, 400_000])
        fail_at = rng.choice([None, *range(len(path) - 1)])
        attempts.append(_attempt(path, amount, fail_at=fail_at))
    seen = []
    for batched in (True, False):
        c = await asyncpg.connect(db_dsn)
        try:
            await c.execute("TRUNCATE channel_knowledge")
            await sync_graph(c, GRAPH, block_height=800_500, now=NOW)
            if batched:
                await record_probe_knowledge(c, [_result(*attempts)], NOW)
            else:
                for a in attempts:
                    await record_probe_knowledge(c, [_result(a)], NOW)
            seen.append(await c.fetch("SELECT * FROM channel_knowledge ORDER BY 1, 2"))
        finally:
            await c.close()
    assert len(seen[0]) == 6 and [tuple(r) for r in seen[0]] == [tuple(r) for r in seen[1]]


async def test_retention_drops_rows_whose_every_observation_is_old(
        conn: asyncpg.Connection) -> None:
    await record_probe_knowledge(conn, [_result(_attempt([0, 1, 2], 100_000, fail_at=1))],
                                 NOW - timedelta(days=40))
    await record_probe_knowledge(conn, [_result(_attempt([1, 2], 50_000))], NOW)
    assert await delete_knowledge_before(conn, NOW - timedelta(days=30)) == 1
    assert await _rows(conn) == {(CH[1], 0): (50_000, 100_000)}


async def test_scoring_reads_the_knowledge_probes_wrote(conn: asyncpg.Connection) -> None:
    from satrank.db.scores import load_scoring_inputs

    await record_probe_knowledge(conn, [_result(_attempt([0, 1, 2, 3], 300_000, fail_at=2))],
                                 NOW)
    inputs = await load_scoring_inputs(conn, now=NOW, half_life_s=7 * 86_400.0,
                                       evidence_window=timedelta(days=30))
    assert len(inputs.knowledge) == 3
    lower, upper = edge_bounds(inputs.graph, inputs.knowledge, now_unix=NOW.timestamp())
    e = list(inputs.graph.channel_id).index(CH[2])
    assert upper[0, e] == 300_000.0


async def test_concurrent_rounds_from_two_vantage_points_both_count(db_dsn: str,
                                                                    conn: asyncpg.Connection
                                                                    ) -> None:
    # two writers merging overlapping rounds at once (opposite walk orders): no deadlock,
    # no lost update
    forward = [_result(_attempt([0, 1, 2, 3], 100_000 + i)) for i in range(50)]
    backward = [_result(_attempt([3, 2, 1, 0], 100_000 + i)) for i in range(50)]
    others = [await asyncpg.connect(db_dsn) for _ in range(2)]
    try:
        async def merge(c: asyncpg.Connection, results: list[ProbeResult]) -> int:
            async with c.transaction():
                return await record_probe_knowledge(c, results + forward, NOW)

        written = await asyncio.gather(merge(others[0], backward), merge(others[1], forward))
    finally:
        for c in others:
            await c.close()
    assert written == [6, 3]
    counts = dict(((r["channel_id"], r["direction"]), r["carried_count"]) for r in await conn.fetch(
        "SELECT channel_id, direction, carried_count FROM channel_knowledge"))
    assert counts == {(CH[k], 0): 150 for k in range(3)} | {(CH[k], 1): 50 for k in range(3)}
