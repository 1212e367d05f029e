"""Integration: the summary of a scoring pass's inputs (real Postgres) changes with every
input the pass reads and with nothing else."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from satrank.crawler.rescore import inputs_key
from satrank.db.graph import record_sync_payer, sync_graph
from satrank.db.knowledge import record_probe_knowledge
from satrank.db.probes import SentProbe, delete_probes_before, record_probes
from satrank.db.scoring_inputs import scoring_inputs_summary
from satrank.lightning.backend import HtlcAttempt, ProbeResult, RouteHop
from satrank.outcomes import ProbeOutcome
from tests.scoring_graphs import pubkey, small_graph

NOW = datetime(2026, 12, 7, 8, tzinfo=UTC)
SINCE = NOW - timedelta(days=30)
GRAPH = dataclasses.replace(small_graph(3, [(0, 1, 2_000_000), (1, 2, 1_000_000)]),
                            fingerprint="digest-1")


@pytest.fixture
async def conn(db_dsn: str) -> AsyncIterator[asyncpg.Connection]:
    c = await asyncpg.connect(db_dsn)
    try:
        report = await sync_graph(c, GRAPH, block_height=800_500, now=NOW)
        await record_sync_payer(c, report.sync_id, pubkey(0))
        yield c
    finally:
        await c.close()


def _probe(sent_at: datetime, target: int = 2) -> SentProbe:
    hop = RouteHop(GRAPH.edges[1].channel_id, pubkey(target), 10_000_000, 0, 800)
    result = ProbeResult(destination=pubkey(target), amount_sat=10_000,
                         outcome=ProbeOutcome.REACHED, failure_code=None,
                         failure_source_index=None, failing_channel_id=None, hops=(hop,),
                         fee_msat=0, duration_ms=5, attempts=1,
                         htlcs=(HtlcAttempt((hop,), "FAILED",
                                            "INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS", 1),))
    return SentProbe(result, sent_at)


async def _summary(conn: asyncpg.Connection) -> tuple[object, ...] | None:
    return await scoring_inputs_summary(conn, since=SINCE, now=NOW)


async def test_the_summary_moves_with_every_input_and_only_then(
        conn: asyncpg.Connection) -> None:
    seen = [await _summary(conn)]
    assert seen[0] is not None
    assert await _summary(conn) == seen[0]  # reading changes nothing

    async def changed() -> None:
        now = await _summary(conn)
        assert now not in seen
        seen.append(now)

    # the same graph synced again: no merge, same summary
    report = await sync_graph(conn, GRAPH, block_height=800_500, now=NOW)
    await record_sync_payer(conn, report.sync_id, pubkey(0))
    assert await _summary(conn) == seen[-1]

    await record_probes(conn, [_probe(NOW - timedelta(hours=1)),
                               _probe(NOW - timedelta(minutes=10))])
    await changed()
    # outside the evidence window (too old, or after `now`): not an input
    await record_probes(conn, [_probe(SINCE - timedelta(hours=1)), _probe(NOW + timedelta(1))])
    assert await _summary(conn) == seen[-1]
    await delete_probes_before(conn, NOW - timedelta(minutes=30))
    await changed()
    await conn.execute("INSERT INTO reports (target_pubkey, outcome, created_at) "
                       "VALUES ($1, 'success', $2)", pubkey(1), NOW - timedelta(hours=2))
    await changed()
    await record_probe_knowledge(conn, [_probe(NOW).result], NOW)
    await changed()
    await record_probe_knowledge(conn, [_probe(NOW).result], NOW)  # the same again counts
    await changed()
    report = await sync_graph(conn, GRAPH, block_height=800_501, now=NOW)  # a new block
    await record_sync_payer(conn, report.sync_id, pubkey(0))
    await changed()
    await record_sync_payer(conn, report.sync_id, pubkey(1))  # another payer
    await changed()
    other = dataclasses.replace(small_graph(3, [(0, 1, 2_000_000), (1, 2, 900_000)]),
                                fingerprint="digest-2")
    report = await sync_graph(conn, other, block_height=800_501, now=NOW)
    await record_sync_payer(conn, report.sync_id, pubkey(1))
    await changed()

    # a graph without a source digest cannot be summarised: never skipped
    await sync_graph(conn, dataclasses.replace(other, fingerprint=None), block_height=800_501,
                     now=NOW)
    assert await _summary(conn) is None


def test_the_key_covers_the_parameters() -> None:
    summary = ("digest", 800_500, pubkey(0), "(0,,)", "(0,,)", "(0,,,)")
    assert inputs_key(summary, (7.0, 30)) == inputs_key(summary, (7.0, 30))
    assert inputs_key(summary, (7.0, 30)) != inputs_key(summary, (3.0, 30))
    assert inputs_key(None, (7.0, 30)) is None
