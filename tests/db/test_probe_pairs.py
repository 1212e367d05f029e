"""Integration: probe pairs for the persistence fit, read from Postgres: the same node at
the same amount, located outcomes only, `k` located probes apart for each lag, binned by
time apart."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import asyncpg

from satrank.db.probes import SentProbe, load_probe_evidence, load_probe_pairs, record_probes
from satrank.lightning.backend import ProbeResult
from satrank.outcomes import ProbeOutcome
from satrank.scoring.evidence import ProbeEvidence
from satrank.scoring.persistence import ProbePairs
from tests.scoring_graphs import pubkey

NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)


def _probe(dest: str, outcome: ProbeOutcome, amount_sat: int = 100_000) -> ProbeResult:
    return ProbeResult(destination=dest, amount_sat=amount_sat, outcome=outcome,
                       failure_code=None, failure_source_index=None, failing_channel_id=None,
                       hops=(), fee_msat=0, duration_ms=5, attempts=1)


async def _stored(db_dsn: str, probes: list[SentProbe], *, since: datetime,
                  lags: tuple[int, ...], run: int) -> tuple[ProbePairs, ProbeEvidence]:
    """`probes` recorded, then read back as pairs and as evidence over (since, NOW]."""
    conn = await asyncpg.connect(db_dsn)
    try:
        await record_probes(conn, probes)
        pairs = await load_probe_pairs(conn, now=NOW, since=since, lags=lags, run=run)
        evidence = await load_probe_evidence(conn, now=NOW, half_life_s=7 * 86_400.0,
                                             since=since)
    finally:
        await conn.close()
    return pairs, evidence


def _rows(pairs: ProbePairs) -> list[tuple[float, float, float, float]]:
    return sorted(zip(pairs.first.tolist(), pairs.second.tolist(), pairs.count.tolist(),
                      pairs.mean_dt_s.tolist(), strict=True))


async def test_pairs_are_located_probes_of_one_node_and_amount(db_dsn: str) -> None:
    node, other = pubkey(21), pubkey(22)
    reached, failed = ProbeOutcome.REACHED, ProbeOutcome.FAILED_AT_TARGET
    hour = timedelta(hours=1)
    pairs, evidence = await _stored(db_dsn, [
        # node at 100k: reached, (in route: not located), failed, reached, an hour apart
        SentProbe(_probe(node, reached), NOW - 4 * hour),
        SentProbe(_probe(node, ProbeOutcome.FAILED_IN_ROUTE), NOW - 3 * hour),
        SentProbe(_probe(node, failed), NOW - 2 * hour),
        SentProbe(_probe(node, reached), NOW - hour),
        # another amount and another node: never paired with the above
        SentProbe(_probe(node, failed, amount_sat=10_000), NOW - 90 * timedelta(minutes=1)),
        SentProbe(_probe(other, reached), NOW - 2 * hour),
        # outside the window
        SentProbe(_probe(node, failed), NOW - 30 * hour),
    ], since=NOW - 5 * hour, lags=(1, 2), run=1)
    got = _rows(pairs)
    # runs of one: only the first reach ends a run (the failure after it does not: the
    # history is mixed from there); lag 1: reached -> failed (2 h, the probe failed in the
    # route between them is not located), lag 2: reached -> reached (3 h)
    assert got == [(1.0, 0.0, 1.0, 7200.0), (1.0, 1.0, 1.0, 10800.0)]
    last = {(pk, int(a), o.value): t for pk, a, o, t in zip(
        evidence.pubkeys, evidence.amount_sat.tolist(), evidence.outcomes,
        evidence.last_sent_unix().tolist(), strict=True)}
    assert last[(node, 100_000, "reached")] == (NOW - hour).timestamp()
    assert last[(node, 100_000, "failed_at_target")] == (NOW - 2 * hour).timestamp()


async def test_pairs_in_one_time_bin_are_counted_together(db_dsn: str) -> None:
    node = pubkey(23)
    start = NOW - timedelta(hours=10)
    probe = SentProbe(_probe(node, ProbeOutcome.REACHED), start)
    # four reaches 61, 62 and 63 minutes apart: lag 1 pairs all in the 1-2 hour bin
    pairs, _ = await _stored(db_dsn, [replace(probe, sent_at=start + timedelta(minutes=m))
                                      for m in (0, 61, 123, 186)],
                             since=start - timedelta(hours=1), lags=(1,), run=1)
    assert pairs.count.tolist() == [3.0]
    assert pairs.mean_dt_s.tolist() == [62 * 60.0]


async def test_pairs_start_only_where_a_run_of_equal_outcomes_ends(db_dsn: str) -> None:
    mixed, settled = pubkey(24), pubkey(25)
    r, f = ProbeOutcome.REACHED, ProbeOutcome.FAILED_AT_TARGET
    hour = timedelta(hours=1)
    pairs, _ = await _stored(db_dsn, [
        *(SentProbe(_probe(mixed, o), NOW - (9 - i) * hour)
          for i, o in enumerate((r, f, r, r, r))),
        *(SentProbe(_probe(settled, o), NOW - (9 - i) * hour)
          for i, o in enumerate((f, f, f, f, r))),
    ], since=NOW - 10 * hour, lags=(1, 2), run=3)
    got = _rows(pairs)
    # the mixed node's history is never a run; the settled node's third failure ends one
    # (pairs to the 4th, 1 h, and the 5th, 2 h) and so does its fourth (to the 5th, 1 h)
    assert got == [(0.0, 0.0, 1.0, 3600.0), (0.0, 1.0, 1.0, 3600.0), (0.0, 1.0, 1.0, 7200.0)]
