"""Integration: the probe queue on real Postgres: concurrent claims never share a row, a
dead worker's claim is taken again after the TTL, rows planned for a vantage go to it
only, and each node's evidence names the vantage points it rests on."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import asyncpg

from satrank.db.probe_queue import (
    QueuedProbe,
    claim_probes,
    enqueue_probes,
    finish_probes,
    open_targets,
    prune_queue,
)
from satrank.db.probes import SentProbe, record_probes
from satrank.db.vantages import (
    live_vantages,
    load_node_vantages,
    probes_by_vantage,
    register_vantage,
)
from satrank.lightning.backend import ProbeResult
from satrank.outcomes import ProbeOutcome

NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)
TTL_S = 600.0
ORACLE, EAST, WEST = "02" + "aa" * 32, "03" + "bb" * 32, "02" + "cc" * 32


def _queued(n: int, *, vantage: str | None = None, prefix: str = "t") -> list[QueuedProbe]:
    return [QueuedProbe(f"{prefix}{i:04d}", 100_000, 505, "never", float(n - i), vantage)
            for i in range(n)]


def _result(target: str, outcome: ProbeOutcome = ProbeOutcome.REACHED) -> ProbeResult:
    return ProbeResult(destination=target, amount_sat=100_000, outcome=outcome,
                       failure_code=None, failure_source_index=None, failing_channel_id=None,
                       hops=(), fee_msat=0, duration_ms=5, attempts=1)


async def test_concurrent_workers_never_take_the_same_row(db_dsn: str) -> None:
    setup = await asyncpg.connect(db_dsn)
    await enqueue_probes(setup, _queued(300), planned_at=NOW)
    conns = [await asyncpg.connect(db_dsn) for _ in range(6)]
    try:
        async def worker(k: int) -> list[int]:
            taken: list[int] = []
            while True:
                claimed = await claim_probes(conns[k], vantage=ORACLE, worker=f"w{k}",
                                             limit=7, now=NOW, claim_ttl_s=TTL_S)
                if not claimed:
                    return taken
                taken += [c.id for c in claimed]
                await asyncio.sleep(0)

        taken = await asyncio.gather(*(worker(k) for k in range(6)))
        every = [i for ids in taken for i in ids]
        assert len(every) == len(set(every)) == 300  # each row once, none left behind
        assert sum(bool(ids) for ids in taken) >= 2  # they really ran side by side
        holders = await setup.fetch("SELECT claimed_by, count(*) AS n FROM probe_queue "
                                    "GROUP BY 1")
        assert {r["claimed_by"]: r["n"] for r in holders} == {
            f"w{k}": len(ids) for k, ids in enumerate(taken) if ids}
    finally:
        for c in [setup, *conns]:
            await c.close()


async def test_a_dead_workers_claim_is_taken_again_after_the_ttl(db_dsn: str) -> None:
    conn = await asyncpg.connect(db_dsn)
    try:
        await enqueue_probes(conn, _queued(5), planned_at=NOW)
        dead = await claim_probes(conn, vantage=ORACLE, worker="dead", limit=10, now=NOW,
                                  claim_ttl_s=TTL_S)
        assert [c.target for c in dead] == [f"t{i:04d}" for i in range(5)]  # best first
        soon = NOW + timedelta(seconds=TTL_S / 2)
        assert await claim_probes(conn, vantage=EAST, worker="alive", limit=10, now=soon,
                                  claim_ttl_s=TTL_S) == []
        later = NOW + timedelta(seconds=TTL_S + 1)
        again = await claim_probes(conn, vantage=EAST, worker="alive", limit=10, now=later,
                                   claim_ttl_s=TTL_S)
        assert sorted(c.id for c in again) == sorted(c.id for c in dead)
        sent = [SentProbe(_result(c.target), later, c.fee_limit_sat, EAST) for c in again]
        assert await finish_probes(conn, again, sent, worker="alive", now=later) == 5
        # the dead worker coming back late stores what it sent but finishes no row
        late = [SentProbe(_result(c.target), later, c.fee_limit_sat, ORACLE) for c in dead[:2]]
        assert await finish_probes(conn, dead[:2], late, worker="dead", now=later) == 0
        rows = await conn.fetch("SELECT claimed_by, done_at FROM probe_queue")
        assert {(r["claimed_by"], r["done_at"]) for r in rows} == {("alive", later)}
        stored = await conn.fetch("SELECT vantage, fee_limit_sat FROM probes")
        assert sorted((r["vantage"], r["fee_limit_sat"]) for r in stored) == sorted(
            [(EAST, 505)] * 5 + [(ORACLE, 505)] * 2)
        assert await open_targets(conn) == set()
        assert await prune_queue(conn, done_before=later + timedelta(seconds=1),
                                 planned_before=NOW) == 5
    finally:
        await conn.close()


async def test_rows_planned_for_a_vantage_go_to_it_until_the_ttl(db_dsn: str) -> None:
    conn = await asyncpg.connect(db_dsn)
    try:
        await enqueue_probes(conn, _queued(3, vantage=EAST, prefix="e")
                             + _queued(2, prefix="any"), planned_at=NOW)
        west = await claim_probes(conn, vantage=WEST, worker="w", limit=10, now=NOW,
                                  claim_ttl_s=TTL_S)
        assert sorted(c.target for c in west) == ["any0000", "any0001"]
        assert await open_targets(conn) == {"any0000", "any0001", "e0000", "e0001", "e0002"}
        # east's worker is gone: after the TTL another vantage sends its rows
        late = NOW + timedelta(seconds=TTL_S + 1)
        taken = await claim_probes(conn, vantage=WEST, worker="w", limit=2, now=late,
                                   claim_ttl_s=TTL_S)
        assert sorted(c.target for c in taken) == ["e0000", "e0001"]
        east = await claim_probes(conn, vantage=EAST, worker="e", limit=10, now=NOW,
                                  claim_ttl_s=TTL_S)
        assert [c.target for c in east] == ["e0002"]
    finally:
        await conn.close()


async def test_live_vantages_and_their_probes_of_each_target(db_dsn: str) -> None:
    conn = await asyncpg.connect(db_dsn)
    try:
        await register_vantage(conn, name="oracle", pubkey=ORACLE, now=NOW)
        await register_vantage(conn, name="east", pubkey=EAST, now=NOW - timedelta(hours=1))
        await register_vantage(conn, name="west", pubkey=WEST, now=NOW - timedelta(minutes=1))
        assert await live_vantages(conn, since=NOW - timedelta(minutes=5)) == [ORACLE, WEST]
        await record_probes(conn, [SentProbe(_result("n1"), NOW), SentProbe(_result("n1"), NOW),
                                   SentProbe(_result("n1"), NOW, 10, WEST),
                                   SentProbe(_result("n2"), NOW, 10, EAST)])
        assert await probes_by_vantage(conn, since=NOW - timedelta(days=1),
                                       targets=["n1", "n3"]) == {"n1": {ORACLE: 2, WEST: 1}}
    finally:
        await conn.close()


async def test_each_nodes_evidence_names_its_vantage_points(db_dsn: str) -> None:
    conn = await asyncpg.connect(db_dsn)
    try:
        await record_probes(conn, [
            SentProbe(_result("n1"), NOW),  # before any vantage: the oracle's, vantage NULL
            SentProbe(_result("n1"), NOW, 10, EAST),
            SentProbe(_result("n1"), NOW, 10, EAST),
            SentProbe(_result("n2"), NOW, 10, WEST),
            SentProbe(_result("n3", ProbeOutcome.ERROR), NOW, 10, WEST),  # no evidence
            SentProbe(_result("n4"), NOW - timedelta(days=40), 10, WEST),  # too old
        ])
        since = NOW - timedelta(days=30)
        assert await load_node_vantages(conn, since=since) == {
            "n1": sorted(["oracle", EAST]), "n2": [WEST]}
        await register_vantage(conn, name="oracle", pubkey=ORACLE, now=NOW)
        assert await load_node_vantages(conn, since=since, pubkeys=["n1"]) == {
            "n1": sorted([ORACLE, EAST])}
    finally:
        await conn.close()
