"""Integration: probe evidence read from Postgres carries the failure cause (from lnd's
code and where it was reported) and a second decay, the liveness half-life."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import numpy as np
import pytest

from satrank.db.probes import SentProbe, load_probe_evidence, record_probes
from satrank.lightning.backend import ProbeResult, RouteHop
from satrank.outcomes import ProbeOutcome
from satrank.scoring.evidence import CAUSE_DOWN, CAUSE_SHORT, CAUSE_UNKNOWN, ProbeEvidence
from tests.scoring_graphs import pubkey

NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)
DAY = 86_400.0


def _failed(dest: str, code: str, source_index: int) -> ProbeResult:
    """A probe over two hops (peer, dest) that failed at the target with `code`, reported
    from position `source_index` (1: the peer before the target, 2: the target)."""
    hops = tuple(RouteHop(channel_id=(7 + i) << 40, pubkey=pk, amt_to_forward_msat=10**8,
                          fee_msat=0, expiry=800_000) for i, pk in enumerate((pubkey(9), dest)))
    return ProbeResult(destination=dest, amount_sat=100_000,
                       outcome=ProbeOutcome.FAILED_AT_TARGET, failure_code=code,
                       failure_source_index=source_index, failing_channel_id=None, hops=hops,
                       fee_msat=0, duration_ms=5, attempts=1)


async def test_failure_cause_and_liveness_decay(db_dsn: str) -> None:
    short, down, said_by_target = pubkey(1), pubkey(2), pubkey(3)
    day_ago = NOW - timedelta(days=1)
    conn = await asyncpg.connect(db_dsn)
    try:
        await record_probes(conn, [
            SentProbe(_failed(short, "TEMPORARY_CHANNEL_FAILURE", 1), day_ago),
            SentProbe(_failed(down, "UNKNOWN_NEXT_PEER", 1), day_ago),
            SentProbe(_failed(said_by_target, "TEMPORARY_NODE_FAILURE", 2), day_ago),
        ])
        ev = await load_probe_evidence(conn, now=NOW, half_life_s=7 * DAY, since=NOW
                                       - timedelta(days=30), liveness_half_life_s=DAY / 4)
    finally:
        await conn.close()
    got = {pk: (int(c), w, lw) for pk, c, w, lw in zip(
        ev.pubkeys, ev.causes().tolist(), ev.decayed_count.tolist(),
        ev.live_counts().tolist(), strict=True)}
    assert {pk: c for pk, (c, _, _) in got.items()} == {
        short: CAUSE_SHORT, down: CAUSE_DOWN, said_by_target: CAUSE_UNKNOWN}
    _, w, live = got[down]
    assert w == pytest.approx(0.5 ** (1 / 7))
    assert live == pytest.approx(0.5 ** 4)  # one day is four liveness half-lives


def _reach(dest: str, fee_msat: int = 0) -> ProbeResult:
    return ProbeResult(destination=dest, amount_sat=100_000, outcome=ProbeOutcome.REACHED,
                       failure_code=None, failure_source_index=None, failing_channel_id=None,
                       hops=(), fee_msat=fee_msat, duration_ms=5, attempts=1)


async def _stored_evidence(db_dsn: str, probes: list[SentProbe]) -> ProbeEvidence:
    """`probes` recorded, then read back as the last 30 days' evidence."""
    conn = await asyncpg.connect(db_dsn)
    try:
        await record_probes(conn, probes)
        return await load_probe_evidence(conn, now=NOW, half_life_s=7 * DAY,
                                         since=NOW - timedelta(days=30))
    finally:
        await conn.close()


async def test_probe_evidence_keeps_each_probes_fee_limit_and_route_fee(db_dsn: str) -> None:
    reach = _reach(pubkey(4), fee_msat=2_500)
    ev = await _stored_evidence(db_dsn, [SentProbe(reach, NOW, fee_limit_sat=10),
                                         SentProbe(reach, NOW, fee_limit_sat=505),
                                         SentProbe(reach, NOW, fee_limit_sat=505),
                                         SentProbe(reach, NOW)])
    got = sorted(zip(ev.fee_limits().tolist(), ev.decayed_count.tolist(), strict=True))
    assert got[:2] == [(10.0, 1.0), (505.0, 2.0)]
    assert np.isnan(got[2][0])  # stored without a limit: the scoring pass's probe budget
    assert ev.route_fees().tolist() == [3.0] * 3  # 2,500 msat, rounded up


async def test_a_node_seen_down_half_a_day_ago_is_nearly_forgotten(db_dsn: str) -> None:
    """The default liveness half-life (3 h, chosen on training data by bench/half_life.py):
    a "down" 12 h old weighs 1/16 while the same probe as evidence of liquidity keeps
    its 7-day-decayed weight."""
    down = pubkey(5)
    conn = await asyncpg.connect(db_dsn)
    try:
        await record_probes(conn, [SentProbe(_failed(down, "UNKNOWN_NEXT_PEER", 1),
                                             NOW - timedelta(hours=12))])
        ev = await load_probe_evidence(conn, now=NOW, half_life_s=7 * DAY,
                                       since=NOW - timedelta(days=30))
    finally:
        await conn.close()
    assert ev.live_counts().tolist() == pytest.approx([1 / 16])
    assert ev.decayed_count.tolist() == pytest.approx([0.5 ** (0.5 / 7)])


async def test_sample_probes_are_told_apart_from_the_others(db_dsn: str) -> None:
    reach = _reach(pubkey(6))
    ev = await _stored_evidence(db_dsn, [SentProbe(reach, NOW, 10, reason="sample"),
                                         SentProbe(reach, NOW, 10, reason="sample"),
                                         SentProbe(reach, NOW, 10, reason="gain"),
                                         SentProbe(reach, NOW, 10)])  # an api probe: no reason
    got = sorted(zip(ev.samples().tolist(), ev.decayed_count.tolist(), strict=True))
    assert got == [(False, 2.0), (True, 2.0)]
