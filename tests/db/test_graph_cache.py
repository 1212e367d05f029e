"""Integration (real Postgres): the scoring graph is read once per sync of a database and
reused by the passes after it; any sync, or another database, reads it again."""

from __future__ import annotations

import dataclasses
import os
from datetime import UTC, datetime, timedelta

import asyncpg
import numpy as np
import pytest

from satrank.db.admin import create_database, drop_database
from satrank.db.graph import sync_graph
from satrank.db.graph_cache import GRAPHS
from satrank.db.scores import load_scoring_inputs
from satrank.scoring.graph import GraphArrays
from tests.conftest import TEMPLATE_DB
from tests.scoring_graphs import small_graph

NOW = datetime(2026, 12, 7, 8, tzinfo=UTC)
GRAPH = dataclasses.replace(small_graph(4, [(0, 1, 2_000_000), (1, 2, 1_000_000),
                                            (2, 3, 500_000)]), fingerprint="digest-1")


async def _graph(conn: asyncpg.Connection) -> GraphArrays:
    inputs = await load_scoring_inputs(conn, now=NOW, half_life_s=7 * 86_400.0,
                                       evidence_window=timedelta(days=30))
    return inputs.graph


async def test_the_graph_is_read_once_per_sync(db_dsn: str, pg_admin_dsn: str) -> None:
    conn = await asyncpg.connect(db_dsn)
    try:
        await sync_graph(conn, GRAPH, block_height=800_500, now=NOW)
        reads = GRAPHS.reads
        first = await _graph(conn)
        assert await _graph(conn) is first and GRAPHS.reads == reads + 1
        with pytest.raises(ValueError):
            first.capacity_sat[0] = 1.0  # shared by the next pass: read-only

        # any sync reads it again, even one of the same graph; a changed graph shows
        await sync_graph(conn, GRAPH, block_height=800_500, now=NOW)
        again = await _graph(conn)
        assert again is not first and GRAPHS.reads == reads + 2
        assert np.array_equal(again.capacity_sat, first.capacity_sat)
        bigger = dataclasses.replace(
            small_graph(4, [(0, 1, 2_000_000), (1, 2, 1_000_000), (2, 3, 700_000)]),
            fingerprint="digest-2")
        await sync_graph(conn, bigger, block_height=800_501, now=NOW)
        assert sorted((await _graph(conn)).capacity_sat.tolist()) == [
            700_000, 1_000_000, 2_000_000]
        # without a source digest: read on every pass
        await sync_graph(conn, dataclasses.replace(GRAPH, fingerprint=None),
                         block_height=800_502, now=NOW)
        reads = GRAPHS.reads
        await _graph(conn)
        await _graph(conn)
        assert GRAPHS.reads == reads + 2
    finally:
        await conn.close()

    # another database whose newest sync has the same id and digest: read again
    await sync_graph_in_fresh_database(pg_admin_dsn, first)


async def sync_graph_in_fresh_database(admin_dsn: str, cached: GraphArrays) -> None:
    name = f"satrank_graph_cache_{os.getpid()}"
    dsn = await create_database(admin_dsn, name, template=TEMPLATE_DB)
    conn = await asyncpg.connect(dsn)
    try:
        await sync_graph(conn, GRAPH, block_height=800_500, now=NOW)
        first = await _graph(conn)
        reads = GRAPHS.reads
        assert await _graph(conn) is first and GRAPHS.reads == reads
        assert first is not cached
    finally:
        await conn.close()
        await drop_database(admin_dsn, name)
