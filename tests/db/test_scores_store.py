"""Integration: probes and scores through real Postgres: record, load, score, store, read."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import asyncpg
import numpy as np
import pytest

from satrank.db.export import iter_export_rows
from satrank.db.graph import record_sync_payer, sync_graph
from satrank.db.intent import load_intent_inputs
from satrank.db.nodes import data_version, fetch_node
from satrank.db.probes import (
    SentProbe,
    delete_probes_before,
    load_probe_evidence,
    load_probe_history,
    record_probes,
)
from satrank.db.scored_at import POSTERIOR_UPDATED_AT
from satrank.db.scores import load_graph_arrays, load_scoring_inputs, store_scores
from satrank.lightning.backend import ProbeResult, RouteHop
from satrank.lightning.graph_file import load_graph_file
from satrank.outcomes import ProbeOutcome
from satrank.scoring.budgets import AMOUNT_GRID_SAT
from satrank.scoring.engine import ScoringInputs, score_nodes
from satrank.scoring.evidence import empty_probe_evidence
from tests.data import MAINNET
from tests.scoring_graphs import arrays_from_graph, pubkey, small_graph

NOW = datetime(2025, 10, 25, 12, tzinfo=UTC)
HALF_LIFE = 7 * 86_400.0


def _probe(dest: str, outcome: ProbeOutcome, amount: int = 100_000) -> ProbeResult:
    hop = RouteHop(channel_id=123 << 40, pubkey=dest, amt_to_forward_msat=amount * 1000,
                   fee_msat=0, expiry=800_000)
    return ProbeResult(destination=dest, amount_sat=amount, outcome=outcome,
                       failure_code=None if outcome is ProbeOutcome.REACHED else
                       "TEMPORARY_CHANNEL_FAILURE", failure_source_index=1,
                       failing_channel_id=None, hops=(hop,), fee_msat=0, duration_ms=42,
                       attempts=1)


async def test_probe_evidence_is_decayed_and_retained(db_dsn: str) -> None:
    conn = await asyncpg.connect(db_dsn)
    try:
        a = pubkey(1)
        await record_probes(conn, [
            SentProbe(_probe(a, ProbeOutcome.REACHED), NOW),
            SentProbe(_probe(a, ProbeOutcome.REACHED), NOW - timedelta(days=7)),
            SentProbe(_probe(a, ProbeOutcome.FAILED_AT_TARGET), NOW - timedelta(days=14)),
            SentProbe(_probe(a, ProbeOutcome.REACHED), NOW - timedelta(days=40)),
        ])
        ev = await load_probe_evidence(conn, now=NOW, half_life_s=HALF_LIFE,
                                       since=NOW - timedelta(days=30))
        got = {(p, o): c for p, o, c in zip(ev.pubkeys, ev.outcomes, ev.decayed_count,
                                            strict=True)}
        assert got[(a, "reached")] == pytest.approx(1.5)
        assert got[(a, "failed_at_target")] == pytest.approx(0.25)
        hist = await load_probe_history(conn, day_start=NOW - timedelta(hours=1),
                                        since=NOW - timedelta(days=30))
        assert hist.last_probed[a] == NOW and hist.probes_since_day_start[a] == 1
        assert await delete_probes_before(conn, NOW - timedelta(days=30)) == 1
        route = await conn.fetchval("SELECT route FROM probes ORDER BY sent_at DESC LIMIT 1")
        assert '"pubkey"' in route
    finally:
        await conn.close()


async def _history_rows(conn: asyncpg.Connection, pk: str) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM score_history WHERE pubkey = $1", pk))


async def test_score_store_and_read_back(db_dsn: str) -> None:
    g = small_graph(4, [(0, 1, 2_000_000), (1, 2, 1_000_000), (2, 3, 500_000)])
    conn = await asyncpg.connect(db_dsn)
    try:
        sync = await sync_graph(conn, g, block_height=800_500, now=NOW)
        await record_sync_payer(conn, sync.sync_id, pubkey(0))
        await record_probes(conn, [SentProbe(_probe(pubkey(1), ProbeOutcome.REACHED),
                                             NOW - timedelta(hours=h)) for h in range(12)])
        inputs = await load_scoring_inputs(conn, now=NOW, half_life_s=HALF_LIFE,
                                           evidence_window=timedelta(days=30))
        assert inputs.block_height == 800_500
        assert inputs.payer_pubkeys == (pubkey(0),)
        result = score_nodes(inputs, now_unix=NOW.timestamp())
        stored = await store_scores(conn, result, computed_at=NOW)
        assert (stored.scores, stored.history_rows) == (4, 4)
        again = await store_scores(conn, result, computed_at=NOW + timedelta(minutes=10))
        assert again.history_rows == 0  # nothing changed: no history

        best = await conn.fetchrow("SELECT * FROM scores WHERE pubkey = $1", pubkey(1))
        assert best["verdict"] == "SAFE" and best["n_eff"] > 10
        assert json.loads(best["features"])["channels"] == 2
        assert await conn.fetchval("SELECT pubkey FROM scores ORDER BY rank DESC, pubkey "
                                   "LIMIT 1") == pubkey(1)
        tiers = await conn.fetch("SELECT amount_sat FROM posteriors WHERE pubkey = $1 "
                                 "ORDER BY amount_sat", pubkey(1))
        assert [r["amount_sat"] for r in tiers] == [10_000, 100_000, 1_000_000]
        # the whole grid, budget-major, with the axes and the payer it is about
        state = await conn.fetchrow("SELECT * FROM scoring_state")
        assert state["grid_budgets"] == ["tight", "normal"]
        assert state["grid_amounts_sat"] == list(AMOUNT_GRID_SAT)
        assert state["payer"] == f"vantage:{pubkey(0)}"
        grid = np.array(best["p_grid"]).reshape(2, len(AMOUNT_GRID_SAT))
        assert grid[1, AMOUNT_GRID_SAT.index(100_000)] == pytest.approx(best["p_success"])
        assert len(best["alpha_grid"]) == len(best["beta_grid"]) == grid.size
        assert await _history_rows(conn, pubkey(1)) == 1

        # node 3 leaves the graph: its score goes, its history stays
        await sync_graph(conn, small_graph(3, [(0, 1, 2_000_000), (1, 2, 1_000_000)]),
                         block_height=800_501, now=NOW + timedelta(hours=1))
        inputs = await load_scoring_inputs(conn, now=NOW, half_life_s=HALF_LIFE,
                                           evidence_window=timedelta(days=30))
        await store_scores(conn, score_nodes(inputs, now_unix=NOW.timestamp()),
                           computed_at=NOW + timedelta(hours=1))
        assert await conn.fetchval("SELECT count(*) FROM scores") == 3
        assert await conn.fetchval("SELECT count(*) FROM scores WHERE pubkey = $1",
                                   pubkey(3)) == 0
        assert await _history_rows(conn, pubkey(3)) == 1
    finally:
        await conn.close()


async def test_mainnet_round_trip_matches_the_in_memory_graph(db_dsn: str) -> None:
    g = load_graph_file(MAINNET)
    conn = await asyncpg.connect(db_dsn)
    try:
        await sync_graph(conn, g, block_height=920_000, now=NOW)
        loaded = await load_graph_arrays(conn)
        direct = arrays_from_graph(g)
        assert loaded.pubkeys == tuple(sorted(direct.pubkeys))
        # full 64-bit short channel ids, in the edges' order (channel id)
        assert loaded.channel_id.tolist() == sorted(direct.channel_id.tolist())
        a = score_nodes(await load_scoring_inputs(conn, now=NOW, half_life_s=HALF_LIFE,
                                                  evidence_window=timedelta(days=30)),
                        now_unix=NOW.timestamp())
        order = {p: i for i, p in enumerate(direct.pubkeys)}
        b = score_nodes(ScoringInputs(direct, 920_000, empty_probe_evidence()),
                        now_unix=NOW.timestamp())
        idx = np.array([order[p] for p in loaded.pubkeys])
        np.testing.assert_allclose(a.pagerank.value, b.pagerank.value[idx], rtol=1e-6)
        np.testing.assert_allclose(a.default.p_success, b.default.p_success[idx], rtol=1e-9)
        stored = await store_scores(conn, a, computed_at=NOW)
        assert stored.scores == 12_827
        assert await conn.fetchval("SELECT count(*) FROM posteriors") == 3 * 12_827
    finally:
        await conn.close()


async def _row_versions(conn: asyncpg.Connection) -> set[tuple[str, ...]]:
    rows = await conn.fetch("SELECT 's', pubkey, ctid::text FROM scores UNION ALL "
                            "SELECT 'p', pubkey || amount_sat, ctid::text FROM posteriors")
    return {tuple(r) for r in rows}


async def test_unchanged_pass_rewrites_no_row_but_readers_see_its_time(db_dsn: str) -> None:
    g = small_graph(4, [(0, 1, 2_000_000), (1, 2, 1_000_000), (2, 3, 500_000)])
    conn = await asyncpg.connect(db_dsn)
    try:
        await sync_graph(conn, g, block_height=800_500, now=NOW)
        inputs = await load_scoring_inputs(conn, now=NOW, half_life_s=HALF_LIFE,
                                           evidence_window=timedelta(days=30))
        result = score_nodes(inputs, now_unix=NOW.timestamp())
        await store_scores(conn, result, computed_at=NOW)
        before = await _row_versions(conn)
        later = NOW + timedelta(minutes=10)
        again = await store_scores(conn, result, computed_at=later)
        assert (again.scores, again.history_rows, again.nostr_events) == (4, 0, 0)
        assert await _row_versions(conn) == before  # no score or posterior row rewritten

        # what the api and the export read is still the time of the latest pass
        node = await fetch_node(conn, "pubkey", pubkey(1))  # type: ignore[arg-type]
        assert node is not None and node.computed_at == later
        scored, _synced = await data_version(conn)  # type: ignore[arg-type]
        assert scored == later
        profile = await conn.fetchval(
            f"SELECT extract(epoch FROM {POSTERIOR_UPDATED_AT}) FROM posteriors p LIMIT 1")
        assert profile == later.timestamp()
        async with conn.transaction():
            exported = [r async for r in iter_export_rows(conn)]
        assert {r["computed_at"] for r in exported} == {later}

        # a changed node is rewritten, and only it
        await conn.execute("UPDATE scores SET rank = rank - 1 WHERE pubkey = $1", pubkey(2))
        await store_scores(conn, result, computed_at=later + timedelta(minutes=10))
        rewritten = before ^ await _row_versions(conn)
        assert {(kind, pk) for kind, pk, _ in rewritten} == {("s", pubkey(2))}
    finally:
        await conn.close()


async def test_largest_routable_amount_round_trips_to_the_api_and_intent_readers(
        db_dsn: str) -> None:
    # 0 -> 1 -> 2 -> 3 over 2M, 1M, 500k: node 3's route stops at 500k, between grid amounts
    g = small_graph(4, [(0, 1, 2_000_000), (1, 2, 1_000_000), (2, 3, 500_000)])
    conn = await asyncpg.connect(db_dsn)
    try:
        sync = await sync_graph(conn, g, block_height=800_500, now=NOW)
        await record_sync_payer(conn, sync.sync_id, pubkey(0))
        inputs = await load_scoring_inputs(conn, now=NOW, half_life_s=HALF_LIFE,
                                           evidence_window=timedelta(days=30))
        result = score_nodes(inputs, now_unix=NOW.timestamp())
        await store_scores(conn, result, computed_at=NOW)
        normal = [b.name for b in result.model.budgets].index("normal")
        assert result.max_routable_sat[normal, 3] == 500_000
        snapshot = await load_intent_inputs(conn)
        for i in range(4):
            want = tuple(result.max_routable_sat[:, i].tolist())
            node = await fetch_node(conn, "pubkey", pubkey(i))  # type: ignore[arg-type]
            assert node is not None and node.grid is not None
            assert node.grid.max_routable_sat == want
            grid = snapshot.scores.grid_of(snapshot.graph.pubkeys.index(pubkey(i)))
            assert grid is not None and grid.max_routable_sat == want
        # a row scored before the column existed reads as before: no largest amount
        await conn.execute("UPDATE scores SET max_routable_sat = NULL")
        node = await fetch_node(conn, "pubkey", pubkey(3))  # type: ignore[arg-type]
        assert node is not None and node.grid is not None
        assert node.grid.max_routable_sat is None
        grid = (await load_intent_inputs(conn)).scores.grid_of(3)
        assert grid is not None and grid.max_routable_sat is None
    finally:
        await conn.close()
