"""Integration: the intent snapshot (api/cache/intent.py) follows the data version and is
replaced whole: a request holding the old one keeps a complete, unchanged snapshot."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import asyncpg
import httpx
import pytest

from satrank.api.app import create_app
from satrank.api.cache import ApiCaches
from satrank.api.cache.intent import IntentSnapshots
from satrank.api.cache.nodes import LeaderboardCache, NodeCache
from satrank.api.cache.profile import ProfileCache
from satrank.api.cache.version import DataVersion
from satrank.api.routes import intent as intent_route
from satrank.config import DatabaseSettings
from satrank.db.pool import create_pool
from satrank.scoring.knowledge import ChannelKnowledge
from tests.api_seed import OPERATOR, OPERATOR_SECRET, agent_hash, pubkey, seed
from tests.l402_support import PreimageIssuer, paid_authorization, settings_for
from tests.live_server import live_server

NEW = pubkey(40)


async def add_node_and_sync(dsn: str, peer: str) -> None:
    """A new node with a channel to `peer`, then a graph sync: the data version moves."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("INSERT INTO nodes (pubkey, agent_hash, alias) VALUES ($1, $2, 'new')",
                           NEW, agent_hash(NEW))
        a, b = sorted((peer, NEW))
        chan = (810_000 << 40) | 1
        await conn.execute("INSERT INTO channels (channel_id, node1_pub, node2_pub, "
                           "capacity_sat) VALUES ($1, $2, $3, 2000000)", chan, a, b)
        await conn.executemany(
            """INSERT INTO channel_policies (channel_id, direction, time_lock_delta,
                 min_htlc_msat, max_htlc_msat, fee_base_msat, fee_rate_milli_msat, disabled,
                 last_update) VALUES ($1, $2, 80, 1000, 990000000, 0, 10, false, now())""",
            [(chan, 0), (chan, 1)])
        await conn.execute(
            "INSERT INTO graph_syncs (started_at, finished_at, nodes, channels) "
            "VALUES (now(), now() + interval '1 second', 7, 7)")
    finally:
        await conn.close()


@pytest.fixture
def served(db_dsn: str) -> Iterator[tuple[httpx.Client, list[str]]]:
    pks = asyncio.run(seed(db_dsn))
    app = create_app(settings_for(OPERATOR_BYPASS_SECRET=OPERATOR_SECRET), db_dsn,
                     caches=ApiCaches.build(check_interval_s=0.05))
    with live_server(app) as base, httpx.Client(base_url=base, timeout=30,
                                                headers=OPERATOR) as http:
        yield http, pks


def test_a_new_graph_sync_reaches_the_answers(served: tuple[httpx.Client, list[str]],
                                              db_dsn: str) -> None:
    http, pks = served
    body = {"target": NEW, "caller": pks[0], "amount_sat": 1000}
    assert http.post("/api/intent", json=body).status_code == 404
    asyncio.run(add_node_and_sync(db_dsn, pks[0]))
    deadline = time.monotonic() + 60
    while (answer := http.post("/api/intent", json=body)).status_code == 404:
        assert time.monotonic() < deadline, "the snapshot never followed the new sync"
        time.sleep(0.1)
    data = answer.json()["data"]
    assert answer.status_code == 200 and data["route"]["hopCount"] == 1
    assert data["target"]["publicKey"] == NEW and data["basis"] == "route_model_only"


def test_a_rebuild_replaces_the_snapshot_whole(db_dsn: str) -> None:
    pks = asyncio.run(seed(db_dsn))

    async def run() -> None:
        pool = await create_pool(db_dsn, DatabaseSettings(url=None, pool_min=1, pool_max=2))
        try:
            snapshots = IntentSnapshots(DataVersion(check_interval_s=0.0))
            assert await snapshots.refresh(pool, None)
            old = snapshots.current
            assert old is not None and NEW not in old.index
            assert not await snapshots.refresh(pool, None)  # nothing moved: kept
            assert snapshots.current is old
            await add_node_and_sync(db_dsn, pks[0])
            assert await snapshots.refresh(pool, None)
            new = snapshots.current
            assert new is not None and new is not old and NEW in new.index
            # the old one, as a request that took it before the swap sees it: all of it old
            assert NEW not in old.index and len(old.pubkeys) == 6
            assert old.edges.src.size == 2 * 6 and new.edges.src.size == 2 * 7
            # our node becoming known (GetInfo, or the first minted invoice) rebuilds it
            assert await snapshots.refresh(pool, pks[2])
            assert snapshots.current is not None and snapshots.current.reference_is_ours
        finally:
            await pool.close()

    asyncio.run(run())


def test_a_scoring_pass_without_a_graph_change_reuses_the_routing_arrays(db_dsn: str) -> None:
    pks = asyncio.run(seed(db_dsn))

    async def execute(sql: str, *args: object) -> None:
        conn = await asyncpg.connect(db_dsn)
        try:
            await conn.execute(sql, *args)
        finally:
            await conn.close()

    async def run() -> None:
        await execute("UPDATE graph_syncs SET fingerprint = 'graph-1'")
        pool = await create_pool(db_dsn, DatabaseSettings(url=None, pool_min=1, pool_max=2))
        try:
            snapshots = IntentSnapshots(DataVersion(check_interval_s=0.0))
            assert await snapshots.refresh(pool, None)
            old = snapshots.current
            assert old is not None
            # a scoring pass: new scores, same graph (a sync of it repeats its fingerprint)
            await execute("UPDATE scores SET p_success = 0.5, computed_at = now() + "
                          "interval '1 minute' WHERE pubkey = $1", pks[0])
            assert await snapshots.refresh(pool, None)
            new = snapshots.current
            assert new is not None and new is not old
            assert new.inputs.graph is old.inputs.graph and new.edges is old.edges
            assert new.searches is old.searches
            assert new.inputs.scores.p_success[new.index[pks[0]]] == 0.5
            assert old.inputs.scores.p_success[old.index[pks[0]]] != 0.5
            # a sync that merged another graph: read and built again
            await add_node_and_sync(db_dsn, pks[0])
            await execute("UPDATE graph_syncs SET fingerprint = 'graph-2' WHERE id = "
                          "(SELECT max(id) FROM graph_syncs)")
            assert await snapshots.refresh(pool, None)
            newest = snapshots.current
            assert newest is not None and newest.edges is not new.edges
            assert NEW in newest.index
        finally:
            await pool.close()

    asyncio.run(run())


def test_no_snapshot_yet_is_a_503_to_retry_and_not_charged(
        db_dsn: str, monkeypatch: pytest.MonkeyPatch) -> None:
    pks = asyncio.run(seed(db_dsn))
    monkeypatch.setattr(intent_route, "SNAPSHOT_WAIT_S", 0.2)

    async def never(conn: asyncpg.Connection) -> ChannelKnowledge:
        await asyncio.Event().wait()  # a first build that does not finish
        raise AssertionError

    version = DataVersion(check_interval_s=0.05)
    caches = ApiCaches(version, LeaderboardCache(version), NodeCache(version),
                       ProfileCache(version, check_interval_s=0.05),
                       IntentSnapshots(version, knowledge=never))
    issuer = PreimageIssuer()
    app = create_app(settings_for(OPERATOR_BYPASS_SECRET=OPERATOR_SECRET), db_dsn,
                     caches=caches, invoice_issuer=issuer)
    body = {"target": pks[1], "amount_sat": 1000}
    with live_server(app) as base, httpx.Client(base_url=base, timeout=30) as http:
        auth = paid_authorization(http.post("/api/intent", json=body), issuer)
        response = http.post("/api/intent", json=body, headers=auth)
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "SNAPSHOT_LOADING"
        assert int(response.headers["retry-after"]) > 0
        assert response.headers["x-l402-credits-left"] == "21"
