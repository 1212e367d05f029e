"""Integration: nodes asked about through the API are probed first by the crawler.

API lookups -> `probe_requests` (real uvicorn, real Postgres); `probe_requests` -> the
next `satrank crawl --once` round (real crawler against simnet over gRPC + TLS).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx

from satrank.api.app import create_app
from satrank.config import Settings
from satrank.db.interest import forget_requests_before, record_interest
from tests.api_seed import agent_hash, pubkey, seed
from tests.cli import run_satrank
from tests.crawler.test_crawl_simnet import WAIT_S, _crawler_env
from tests.live_server import live_server
from tests.simnet_fixture import SimnetHandle

SETTINGS = Settings.from_environ({"L402_MACAROON_SECRET": "x" * 40})
T0 = datetime(2026, 11, 1, tzinfo=UTC)


async def _requests(dsn: str) -> dict[str, int]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT pubkey, asks FROM probe_requests")
        return {r["pubkey"]: r["asks"] for r in rows}
    finally:
        await conn.close()


def test_successful_lookups_are_remembered(db_dsn: str) -> None:
    pks = asyncio.run(seed(db_dsn))
    with live_server(create_app(SETTINGS, db_dsn)) as url:
        assert httpx.get(f"{url}/api/agent/{pks[1]}", timeout=10).status_code == 200
        assert httpx.get(f"{url}/api/agent/{agent_hash(pks[2])}/verdict",
                         timeout=10).status_code == 200
        assert httpx.get(f"{url}/api/agent/{pubkey(900)}", timeout=10).status_code == 404
        assert httpx.get(f"{url}/api/agents/top", timeout=10).status_code == 200
    # The buffer is written on shutdown at the latest.
    assert asyncio.run(_requests(db_dsn)) == {pks[1]: 1, pks[2]: 1}


async def test_interest_store_round_trip(db_dsn: str) -> None:
    pks = await seed(db_dsn)
    conn = await asyncpg.connect(db_dsn)
    try:
        assert await record_interest(conn, {pks[0], agent_hash(pks[1]), "nope"}, now=T0) == 2
        assert await record_interest(conn, {pks[1]}, now=T0 + timedelta(minutes=5)) == 1
        rows = await conn.fetch("SELECT pubkey, requested_at FROM probe_requests "
                                "ORDER BY requested_at DESC")
        assert [(r["pubkey"], r["requested_at"]) for r in rows] == [
            (pks[1], T0 + timedelta(minutes=5)), (pks[0], T0)]
        assert await forget_requests_before(conn, T0 + timedelta(minutes=1)) == 1
        assert await conn.fetchval("SELECT asks FROM probe_requests") == 2
    finally:
        await conn.close()


async def test_the_crawler_probes_requested_nodes_first(simnet: SimnetHandle, db_dsn: str,
                                                        tmp_path: Path) -> None:
    env = _crawler_env(tmp_path, db_dsn, simnet)
    first = run_satrank("crawl", "--once", "--probes", "3", env=env, timeout=WAIT_S)
    assert first.returncode == 0, first.stderr[-3000:]
    conn = await asyncpg.connect(db_dsn)
    try:
        # The least central node nobody probed yet that the graph leaves open (a route at
        # the default tier; one without any is answered by the graph, not probed): last in
        # the crawler's own order.
        target = await conn.fetchval(
            "SELECT s.pubkey FROM scores s WHERE NOT EXISTS "
            "(SELECT 1 FROM probes p WHERE p.target_pubkey = s.pubkey) "
            "AND (SELECT max(x) FROM unnest(s.max_routable_sat) x) >= 100000 "
            "ORDER BY s.pagerank, s.pubkey LIMIT 1")
        await record_interest(conn, {agent_hash(target)}, now=datetime.now(UTC))
    finally:
        await conn.close()
    second = run_satrank("crawl", "--once", "--probes", "1", env=env, timeout=WAIT_S)
    assert second.returncode == 0, second.stderr[-3000:]
    conn = await asyncpg.connect(db_dsn)
    try:
        latest = await conn.fetchval(
            "SELECT target_pubkey FROM probes ORDER BY sent_at DESC, id DESC LIMIT 1")
        total = await conn.fetchval("SELECT count(*) FROM probes")
    finally:
        await conn.close()
    assert total == 4
    assert latest == target
