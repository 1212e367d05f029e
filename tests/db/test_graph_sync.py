"""Integration: graph sync into real Postgres (small graphs and the mainnet snapshot)."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import asyncpg

from satrank.db.graph import graph_integrity_problems, sync_graph
from satrank.lightning.backend import ChannelGraph, DeferredGraph, GraphEdge, graph_records
from satrank.lightning.graph_file import load_graph_file
from tests.data import MAINNET
from tests.scoring_graphs import policy, pubkey, small_graph

T0 = datetime(2025, 10, 25, tzinfo=UTC)


NO_PROBLEMS = {"channels_without_node": 0, "policies_without_channel": 0,
               "open_channels_of_inactive_nodes": 0}


async def _count(conn: asyncpg.Connection, sql: str) -> int:
    return int(await conn.fetchval(sql))


async def _row_versions(conn: asyncpg.Connection) -> list[list[str]]:
    """Physical row versions of the graph tables: any UPDATE/INSERT/DELETE changes them."""
    return [list(await conn.fetchval(f"SELECT array_agg(ctid::text ORDER BY ctid) FROM {t}")
                 or []) for t in ("nodes", "channels", "channel_policies")]


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
        assert await graph_integrity_problems(conn) == NO_PROBLEMS
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
        assert await graph_integrity_problems(conn) == NO_PROBLEMS
        before = await _row_versions(conn)
        again = await sync_graph(conn, g, block_height=920_001, now=T0 + timedelta(hours=1))
        assert (again.nodes_added, again.nodes_gone, again.channels_added,
                again.channels_closed, again.policies_changed) == (0, 0, 0, 0, 0)
        assert await _count(conn, "SELECT count(*) FROM channel_policy_history") == 0
        assert await _row_versions(conn) == before  # an unchanged re-sync writes no row
    finally:
        await conn.close()


async def test_reversed_edge_is_stored_oriented_with_its_policies_swapped(db_dsn: str) -> None:
    g = small_graph(2, [(0, 1, 100_000)])
    e = g.edges[0]
    flipped = GraphEdge(e.channel_id, e.chan_point, e.node2_pub, e.node1_pub, e.capacity_sat,
                        e.last_update, policy(fee_rate=7), policy(fee_rate=9))
    bad = GraphEdge(e.channel_id + 1, "", "not-a-pubkey", e.node1_pub, 1, 0, None, None)
    conn = await asyncpg.connect(db_dsn)
    try:
        rep = await sync_graph(conn, ChannelGraph(g.nodes, (flipped, bad)), block_height=None,
                               now=T0)
        assert (rep.channels, rep.skipped_edges) == (1, 1)
        row = await conn.fetchrow("SELECT node1_pub, node2_pub FROM channels")
        assert (row["node1_pub"], row["node2_pub"]) == (pubkey(0), pubkey(1))
        fees = await conn.fetch("SELECT direction, fee_rate_milli_msat FROM channel_policies "
                                "ORDER BY direction")
        # the policy announced by node 0 (listed second in the flipped edge) is direction 0
        assert [(r["direction"], r["fee_rate_milli_msat"]) for r in fees] == [(0, 9), (1, 7)]
        assert await graph_integrity_problems(conn) == NO_PROBLEMS
    finally:
        await conn.close()


async def test_same_fingerprint_records_the_sync_and_merges_nothing(db_dsn: str) -> None:
    g = replace(small_graph(3, [(0, 1, 100_000), (1, 2, 200_000)]), fingerprint="digest-1")
    conn = await asyncpg.connect(db_dsn)
    try:
        first = await sync_graph(conn, g, block_height=800_500, now=T0)
        before = await _row_versions(conn)
        again = await sync_graph(conn, g, block_height=800_501, now=T0 + timedelta(hours=1))
        assert again.sync_id != first.sync_id
        assert (again.nodes, again.channels, again.skipped_edges) == (3, 2, 0)
        assert (again.nodes_added, again.channels_added, again.policies_changed) == (0, 0, 0)
        assert await _row_versions(conn) == before
        last = await conn.fetchrow("SELECT block_height, nodes, channels, fingerprint "
                                   "FROM graph_syncs ORDER BY id DESC LIMIT 1")
        assert tuple(last) == (800_501, 3, 2, "digest-1")

        # another digest: merged as usual (channel 1 vanishes)
        shrunk = ChannelGraph(nodes=g.nodes[:2], edges=g.edges[:1], fingerprint="digest-2")
        rep = await sync_graph(conn, shrunk, block_height=800_502, now=T0 + timedelta(hours=2))
        assert (rep.nodes, rep.channels_closed, rep.nodes_gone) == (2, 1, 1)
        # no digest from the source: always merged
        back = await sync_graph(conn, replace(g, fingerprint=None), block_height=800_503,
                                now=T0 + timedelta(hours=3))
        assert back.channels_added == 0 and back.nodes == 3
        assert await _count(conn, "SELECT count(*) FROM channels WHERE is_open") == 2
    finally:
        await conn.close()


async def test_a_deferred_graph_is_converted_only_when_its_digest_changed(
        db_dsn: str) -> None:
    g = replace(small_graph(3, [(0, 1, 100_000), (1, 2, 200_000)]), fingerprint="digest-1")
    conversions: list[str | None] = []

    def deferred(graph: ChannelGraph) -> DeferredGraph:
        def convert() -> ChannelGraph:
            conversions.append(graph.fingerprint)
            return graph
        return DeferredGraph(graph.fingerprint, convert)

    conn = await asyncpg.connect(db_dsn)
    try:
        first = await sync_graph(conn, deferred(g), block_height=800_500, now=T0)
        assert (first.nodes, first.channels, first.nodes_added) == (3, 2, 3)
        again = await sync_graph(conn, deferred(g), block_height=800_501,
                                 now=T0 + timedelta(hours=1))
        assert (again.nodes, again.channels, again.nodes_added) == (3, 2, 0)
        shrunk = ChannelGraph(nodes=g.nodes[:2], edges=g.edges[:1], fingerprint="digest-2")
        rep = await sync_graph(conn, deferred(shrunk), block_height=800_502,
                               now=T0 + timedelta(hours=2))
        assert (rep.nodes, rep.channels_closed) == (2, 1)
        assert conversions == ["digest-1", "digest-2"]  # the unchanged one never converted
    finally:
        await conn.close()


async def test_a_changed_deferred_graph_is_staged_from_its_records_not_its_values(
        db_dsn: str) -> None:
    base = small_graph(4, [(0, 1, 100_000), (1, 2, 200_000), (2, 3, 300_000)])
    e0, e1, e2 = base.edges
    g = replace(base, fingerprint="digest-1", edges=(
        replace(e0, node2_policy=replace(policy(fee_rate=7, disabled=True),
                                         inbound_fee_base_msat=-3,
                                         inbound_fee_rate_milli_msat=-20)),
        replace(e1, node1_policy=None),
        # ends in the wrong order: the sync swaps them and their policies
        replace(e2, node1_pub=e2.node2_pub, node2_pub=e2.node1_pub,
                node1_policy=policy(fee_base=5), node2_policy=None)))

    def never() -> ChannelGraph:
        raise AssertionError("a sync needs only the records")

    conn = await asyncpg.connect(db_dsn)
    try:
        first = await sync_graph(conn, DeferredGraph(g.fingerprint, never,
                                                     lambda: graph_records(g)),
                                 block_height=800_500, now=T0)
        assert (first.nodes, first.channels, first.nodes_added) == (4, 3, 4)
        versions = await _row_versions(conn)
        # the same graph as values: every row the records staged is already as it should be
        again = await sync_graph(conn, replace(g, fingerprint=None), block_height=800_501,
                                 now=T0 + timedelta(hours=1))
        assert (again.nodes_added, again.channels_added, again.policies_changed) == (0, 0, 0)
        assert await _row_versions(conn) == versions
        assert await _count(conn, "SELECT count(*) FROM channel_policies WHERE fee_base_msat = 5"
                                  " AND direction = 1") == 1
    finally:
        await conn.close()
