"""Integration: graph sync into real Postgres (small graphs and the mainnet snapshot)."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import asyncpg

from satrank.db.graph import sync_graph
from satrank.lightning.backend import ChannelGraph
from satrank.lightning.graph_file import load_graph_file
from tests.data import MAINNET
from tests.scoring_graphs import policy, pubkey, small_graph

T0 = datetime(2025, 10, 25, tzinfo=UTC)


async def _count(conn: asyncpg.Connection, sql: str) -> int:
    return int(await conn.fetchval(sql))


async def test_small_graph_sync_changes_and_closures(db_dsn: str) -> None:
    g = small_graph(3, [(0, 1, 100_000), (1, 2, 200_000)])
    conn = await asyncpg.connect(db_dsn)
    try:
        first = await sync_graph(conn, g, block_height=800_500, now=T0)
        assert (first.nodes, first.channels, first.nodes_added, first.channels_added) == \
            (3, 2, 3, 2)
        row = await conn.fetchrow("SELECT agent_hash, alias FROM nodes WHERE pubkey = $1",
                                  pubkey(0))
        assert row["agent_hash"] == hashlib.sha256(pubkey(0).encode()).hexdigest()
        assert await _count(conn, "SELECT count(*) FROM channel_policies") == 4

        again = await sync_graph(conn, g, block_height=800_501, now=T0 + timedelta(hours=1))
        assert (again.nodes_added, again.channels_added, again.policies_changed) == (0, 0, 0)
        assert await _count(conn, "SELECT count(*) FROM channel_policy_history") == 0

        # one fee change on channel 0 direction 1, and channel 1 (node 2) vanishes
        edge0 = replace(g.edges[0], node2_policy=policy(fee_rate=4294967295))
        changed = ChannelGraph(nodes=g.nodes[:2], edges=(edge0,))
        rep = await sync_graph(conn, changed, block_height=800_502, now=T0 + timedelta(hours=2))
        assert (rep.policies_changed, rep.channels_closed, rep.nodes_gone) == (1, 1, 1)
        hist = await conn.fetch("SELECT channel_id, direction, fee_rate_milli_msat "
                                "FROM channel_policy_history")
        assert [(r["channel_id"], r["direction"], r["fee_rate_milli_msat"]) for r in hist] == \
            [(g.edges[0].channel_id, 1, 100)]
        assert await conn.fetchval(
            "SELECT fee_rate_milli_msat FROM channel_policies WHERE channel_id = $1 "
            "AND direction = 1", g.edges[0].channel_id) == 4294967295
        closed = await conn.fetchrow("SELECT is_open, closed_at FROM channels "
                                     "WHERE channel_id = $1", g.edges[1].channel_id)
        assert closed["is_open"] is False and closed["closed_at"] == T0 + timedelta(hours=2)
        assert await conn.fetchval("SELECT is_active FROM nodes WHERE pubkey = $1",
                                   pubkey(2)) is False

        # the closed channel comes back: reopened, node active again
        back = await sync_graph(conn, g, block_height=800_503, now=T0 + timedelta(hours=3))
        assert back.channels_added == 0 and back.policies_changed == 1
        assert await _count(conn, "SELECT count(*) FROM channels WHERE is_open") == 2
        assert await _count(conn, "SELECT count(*) FROM nodes WHERE is_active") == 3
        assert await _count(conn, "SELECT count(*) FROM graph_syncs") == 4
    finally:
        await conn.close()


async def test_mainnet_snapshot_sync(db_dsn: str) -> None:
    g = load_graph_file(MAINNET)
    conn = await asyncpg.connect(db_dsn)
    try:
        rep = await sync_graph(conn, g, block_height=920_000, now=T0)
        assert rep.nodes == 12_827 and rep.channels == 49_570 and rep.skipped_edges == 0
        assert await _count(conn, "SELECT count(*) FROM nodes") == 12_827
        assert await _count(conn, "SELECT count(*) FROM channels") == 49_570
        with_policies = sum((e.node1_policy is not None) + (e.node2_policy is not None)
                            for e in g.edges)
        assert await _count(conn, "SELECT count(*) FROM channel_policies") == with_policies
        assert await _count(conn, "SELECT count(*) FROM channel_policies "
                                  "WHERE fee_rate_milli_msat = 4294967295") > 0
        again = await sync_graph(conn, g, block_height=920_001, now=T0 + timedelta(hours=1))
        assert (again.nodes_added, again.nodes_gone, again.channels_added,
                again.channels_closed, again.policies_changed) == (0, 0, 0, 0, 0)
        assert await _count(conn, "SELECT count(*) FROM channel_policy_history") == 0
    finally:
        await conn.close()
