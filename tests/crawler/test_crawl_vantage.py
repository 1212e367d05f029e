"""End to end on simnet `--vantage 2`: the real `satrank crawl --once` plans one round into
the probe queue and both vantage nodes (the oracle, LND_* ; vantage-1, LND_VANTAGE_V1_*)
send part of it through their own LND; and `satrank crawl --probe-worker v1`, alone
against the same Postgres, sends the rows planned for its node."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

from satrank.db.nodes import fetch_nodes
from satrank.db.probe_queue import QueuedProbe, enqueue_probes
from tests.cli import run_satrank, satrank_env, start_satrank
from tests.ports import free_port
from tests.simnet_fixture import SimnetHandle, start_simnet

WAIT_S = 120.0


@pytest.fixture(scope="module")
def two(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimnetHandle]:
    with start_simnet(tmp_path_factory.mktemp("simnet-v2"), vantage=2) as handle:
        yield handle


def _env(tmp: Path, dsn: str, net: SimnetHandle, **extra: str) -> dict[str, str]:
    _, v1_host, v1_dir, _ = net.vantages[1]
    return satrank_env(
        tmp, DATABASE_URL=dsn, CRAWLER_METRICS_PORT="0", **net.oracle_lnd_env(),
        LND_VANTAGE_V1_HOST=v1_host, LND_VANTAGE_V1_TLS_CERT=str(v1_dir / "tls.cert"),
        LND_VANTAGE_V1_MACAROON=str(v1_dir / "pay.macaroon"), **extra)


async def test_both_vantage_nodes_probe_one_round(two: SimnetHandle, db_dsn: str,
                                                  tmp_path: Path) -> None:
    done = run_satrank("crawl", "--once", "--probes", "40", env=_env(tmp_path, db_dsn, two),
                       timeout=WAIT_S)
    assert done.returncode == 0, done.stderr[-3000:]
    oracle, v1 = two.oracle_pubkey, two.vantages[1][3]
    conn = await asyncpg.connect(db_dsn)
    try:
        probes = await conn.fetch("SELECT target_pubkey, vantage, fee_limit_sat FROM probes")
        queue = await conn.fetch("SELECT target, claimed_by, done_at FROM probe_queue")
        registered = await conn.fetch("SELECT name, pubkey FROM vantages ORDER BY name")
    finally:
        await conn.close()
    assert len(probes) == 40 and len(queue) == 40
    by_vantage = {v: sum(p["vantage"] == v for p in probes) for v in (oracle, v1)}
    assert by_vantage[oracle] > 0 and by_vantage[v1] > 0
    assert sum(by_vantage.values()) == 40  # every probe names the node that sent it
    assert all(p["fee_limit_sat"] is not None for p in probes)
    # every row done once, by the worker of one vantage or the other
    assert all(r["done_at"] is not None for r in queue)
    assert {r["claimed_by"].split("/")[0] for r in queue} == {"oracle", "v1"}
    assert sorted(r["target"] for r in queue) == sorted(p["target_pubkey"] for p in probes)
    assert [(r["name"], r["pubkey"]) for r in registered] == [("oracle", oracle), ("v1", v1)]


async def _stored_payer(dsn: str) -> tuple[str, set[str | None]]:
    """The scoring pass's reference payer and the one the stored node grids name."""
    conn = await asyncpg.connect(dsn)
    try:
        state = await conn.fetchval("SELECT payer FROM scoring_state")
        pubkeys = [r["pubkey"] for r in await conn.fetch("SELECT pubkey FROM scores LIMIT 5")]
        nodes = await fetch_nodes(conn, pubkeys, ())
    finally:
        await conn.close()
    return state, {n.grid.payer if n.grid else None for n in nodes}


async def test_the_reference_payer_is_the_vantages_own_private_channels(
        two: SimnetHandle, db_dsn: str, tmp_path: Path) -> None:
    # simnet's vantage nodes have private channels only: not in the graph, so without
    # ListChannels scoring fell back to a made-up payer, "hubs:8"
    done = run_satrank("crawl", "--once", "--probes", "0", env=_env(tmp_path, db_dsn, two),
                       timeout=WAIT_S)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "list_channels:" in done.stdout
    both = "vantage:" + ",".join(sorted((two.oracle_pubkey, two.vantages[1][3])))
    assert await _stored_payer(db_dsn) == (both, {both})


async def test_a_probe_worker_runs_alone_against_the_shared_postgres(
        two: SimnetHandle, db_dsn: str, tmp_path: Path) -> None:
    env = _env(tmp_path, db_dsn, two)
    synced = run_satrank("crawl", "--once", "--probes", "0", env=env, timeout=WAIT_S)
    assert synced.returncode == 0, synced.stderr[-3000:]
    v1 = two.vantages[1][3]
    conn = await asyncpg.connect(db_dsn)
    try:
        targets = [r["pubkey"] for r in await conn.fetch(
            "SELECT pubkey FROM scores ORDER BY rank DESC, pubkey LIMIT 12")]
        await enqueue_probes(conn, [QueuedProbe(t, 10_000, 55, "test", 1.0, v1)
                                    for t in targets], planned_at=datetime.now(UTC))
        worker = start_satrank("crawl", "--probe-worker", "v1", env=env)
        try:
            deadline = time.monotonic() + WAIT_S
            while await conn.fetchval(
                    "SELECT count(*) FROM probe_queue WHERE done_at IS NULL") > 0:
                assert worker.poll() is None, worker.stderr.read() if worker.stderr else ""
                assert time.monotonic() < deadline, "the worker never finished its rows"
                await asyncio.sleep(0.2)
        finally:
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(timeout=30) == 0
        probes = await conn.fetch("SELECT target_pubkey, vantage, fee_limit_sat FROM probes")
        # it never became the leader: a crawler beside it still takes the lock
        assert await conn.fetchval("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
                                   ) == 0
    finally:
        await conn.close()
    assert sorted(p["target_pubkey"] for p in probes) == sorted(targets)
    assert {(p["vantage"], p["fee_limit_sat"]) for p in probes} == {(v1, 55)}


async def test_the_running_crawler_plans_and_both_workers_send(
        two: SimnetHandle, db_dsn: str, tmp_path: Path) -> None:
    """`satrank crawl` as deployed: the planner job fills the queue each interval and the
    probe worker jobs of both vantages drain it."""
    env = _env(tmp_path, db_dsn, two, CRAWL_PROBE_INTERVAL_S="1", CRAWL_PROBES_PER_ROUND="10")
    crawler = start_satrank("crawl", env=env)
    conn = await asyncpg.connect(db_dsn)
    try:
        deadline = time.monotonic() + WAIT_S
        senders: set[str] = set()
        planned_for: set[str] = set()
        named: list[asyncpg.Record] = []
        while len(senders) < 2 or len(planned_for) < 2 or not named:
            assert crawler.poll() is None, crawler.stderr.read() if crawler.stderr else ""
            assert time.monotonic() < deadline, f"only {senders} sent, {planned_for} planned"
            await asyncio.sleep(0.5)
            senders = {r["vantage"] for r in await conn.fetch(
                "SELECT DISTINCT vantage FROM probes")}
            # once both workers are live, the planner names the vantage of each row
            planned_for = {r["vantage"] for r in await conn.fetch(
                "SELECT DISTINCT vantage FROM probe_queue WHERE vantage IS NOT NULL")}
            named = await conn.fetch(
                "SELECT q.vantage, p.vantage AS sent_by FROM probe_queue q JOIN probes p "
                "ON p.target_pubkey = q.target AND p.sent_at >= q.claimed_at "
                "WHERE q.vantage IS NOT NULL AND q.done_at IS NOT NULL")
    finally:
        crawler.send_signal(signal.SIGTERM)
        crawler.wait(timeout=30)
        await conn.close()
    assert senders == planned_for == {two.oracle_pubkey, two.vantages[1][3]}
    assert all(r["vantage"] == r["sent_by"] for r in named)  # sent by the named vantage
    both = "vantage:" + ",".join(sorted((two.oracle_pubkey, two.vantages[1][3])))
    assert await _stored_payer(db_dsn) == (both, {both})


def test_a_probe_worker_for_an_unknown_vantage_is_refused(tmp_path: Path) -> None:
    done = run_satrank("crawl", "--probe-worker", "west", env=satrank_env(
        tmp_path, LND_VANTAGE_EAST_HOST="east:10009", LND_VANTAGE_EAST_TLS_CERT="/e/tls",
        LND_VANTAGE_EAST_MACAROON="/e/pay.macaroon"), timeout=WAIT_S)
    assert done.returncode == 2
    assert "no vantage 'west' (configured: oracle, east)" in done.stderr


async def test_a_vantage_that_is_down_does_not_stop_the_round(
        two: SimnetHandle, db_dsn: str, tmp_path: Path) -> None:
    env = _env(tmp_path, db_dsn, two)
    env["LND_VANTAGE_V1_HOST"] = f"127.0.0.1:{free_port()}"  # nothing listens there
    done = run_satrank("crawl", "--once", "--probes", "10", env=env, timeout=WAIT_S)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "vantage v1 unavailable, probing without it" in done.stderr
    conn = await asyncpg.connect(db_dsn)
    try:
        senders = await conn.fetch("SELECT vantage, count(*) AS n FROM probes GROUP BY 1")
    finally:
        await conn.close()
    assert [(r["vantage"], r["n"]) for r in senders] == [(two.oracle_pubkey, 10)]
    oracle = f"vantage:{two.oracle_pubkey}"  # the channels of the vantages that answered
    assert await _stored_payer(db_dsn) == (oracle, {oracle})
