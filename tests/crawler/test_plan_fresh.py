"""Integration: on a fresh deployment (graph synced and scored, nothing probed yet) the
first planned batch is the most requested nodes, then the highest-ranked ones; every
queued probe carries the fee budget it tests, at a cell the reference payer has a route
for (a node without one is not probed, however often asked about), and the oracle's
worker sends the batch in that order and stores it with its vantage and fee limits (real
crawler against simnet, real Postgres, the planner and the worker in-process)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import numpy as np
from prometheus_client import REGISTRY

from satrank.config import DatabaseSettings, Settings
from satrank.crawler.cycle import plan_phase, utc_now
from satrank.crawler.scheduler import fee_limit_sat
from satrank.crawler.worker import Vantage, drain_queue, worker_id
from satrank.db.interest import record_interest
from satrank.db.pool import create_pool
from satrank.db.probes import load_probe_evidence
from satrank.lightning.lnd import LndClient
from tests.cli import run_satrank
from tests.crawler.test_crawl_simnet import WAIT_S, _crawler_env
from tests.simnet_fixture import SimnetHandle

BATCH = 20


async def test_the_first_batch_on_a_fresh_db_is_most_requested_then_top_ranked(
        simnet: SimnetHandle, db_dsn: str, tmp_path: Path) -> None:
    fresh = run_satrank("crawl", "--once", "--probes", "0",
                        env=_crawler_env(tmp_path, db_dsn, simnet), timeout=WAIT_S)
    assert fresh.returncode == 0, fresh.stderr[-3000:]
    conn = await asyncpg.connect(db_dsn)
    try:
        scored = await conn.fetch(
            "SELECT pubkey, max_routable_sat FROM scores ORDER BY pagerank DESC, pubkey")
        by_rank = [r["pubkey"] for r in scored]
        budgets = list(await conn.fetchval("SELECT grid_budgets FROM scoring_state"))
        caps = {r["pubkey"]: dict(zip(budgets, r["max_routable_sat"], strict=True))
                for r in scored}
        # two of the least central nodes with a route are asked about, the last one
        # twice; the least central one without any route, three times
        routed = [p for p in by_rank if max(caps[p].values()) >= 100_000]
        no_route = [p for p in by_rank if max(caps[p].values()) == 0]
        low, lower, unroutable = routed[-2], routed[-1], no_route[-1]
        now = datetime.now(UTC)
        await record_interest(conn, [low, lower], now=now)
        await record_interest(conn, [lower], now=now)
        for _ in range(3):
            await record_interest(conn, [unroutable], now=now)
    finally:
        await conn.close()

    settings = Settings.from_environ({"L402_MACAROON_SECRET": "x" * 40})
    sent_before = _sample("satrank_crawler_vantage_probes_total", vantage="oracle")
    pool = await create_pool(db_dsn, DatabaseSettings(url=None, pool_min=1, pool_max=2))
    try:
        plan = await plan_phase(pool, settings.crawler, n_probes=BATCH,
                                rng=np.random.default_rng(5))
        assert _sample("satrank_crawler_probe_queue_open") == BATCH
        queued = await _queue(db_dsn)
        # the oracle's worker sends the batch through simnet, over gRPC + TLS
        async with LndClient.connect(
                simnet.oracle_host, (simnet.oracle_dir / "tls.cert").read_bytes(),
                (simnet.oracle_dir / "pay.macaroon").read_bytes()) as sender:
            report = await drain_queue(
                pool, Vantage("oracle", simnet.oracle_pubkey, sender), settings.crawler,
                batch=8, worker=worker_id("oracle"), clock=utc_now)
    finally:
        await pool.close()
    assert report.sent == BATCH
    assert _sample("satrank_crawler_vantage_probes_total", vantage="oracle") == \
        sent_before + BATCH

    assert [(p.pubkey, p.reason) for p in plan[:2]] == [(lower, "requested"),
                                                         (low, "requested")]
    # the graph answers the unroutable node (lnd would make no attempt); every probe is
    # at an amount the reference payer has a route for within the probe's budget
    assert unroutable not in {p.pubkey for p in plan}
    for p in plan:
        budget = "tight" if p.fee_limit_sat == settings.crawler.probe_fee_limit_sat \
            else "normal"
        assert p.amount_sat <= caps[p.pubkey][budget]
    # a share of the round (CRAWL_PROBE_SAMPLE_SHARE, 0.2) is drawn at random, out of the
    # value-chosen part
    sample = [p.pubkey for p in plan if p.reason == "sample"]
    rest = [p.pubkey for p in plan[2:] if p.reason != "sample"]
    assert len(sample) == BATCH // 5
    assert len(rest) == BATCH - 2 - len(sample)
    assert all(p.reason == "never" for p in plan[2:] if p.reason != "sample")
    top = by_rank[:len(by_rank) // 10]
    assert set(rest) <= set(top)  # all from the top 10 % by PageRank ...
    assert set(by_rank[:5]) <= set(rest)  # ... the five most central among them
    assert not set(sample) & {*rest, low, lower}
    tight = settings.crawler.probe_fee_limit_sat
    assert {p.fee_limit_sat == tight for p in plan} == {True, False}
    assert all(p.fee_limit_sat in {tight, fee_limit_sat("normal", p.amount_sat,
                                                          tight_fee_sat=tight)} for p in plan)

    # the queue sends them in the planned order
    assert [(r["target"], r["amount_sat"], r["fee_limit_sat"]) for r in queued] == [
        (p.pubkey, p.amount_sat, p.fee_limit_sat) for p in plan]
    conn = await asyncpg.connect(db_dsn)
    try:
        sent = await conn.fetch("SELECT target_pubkey, amount_sat, fee_limit_sat, vantage, "
                                "reason, outcome FROM probes")
        evidence = await load_probe_evidence(conn, now=datetime.now(UTC),
                                             half_life_s=7 * 86_400.0,
                                             since=datetime.now(UTC) - timedelta(days=1))
        assert await conn.fetchval("SELECT count(*) FROM probe_queue WHERE done_at IS NULL") == 0
    finally:
        await conn.close()
    assert sorted((r["target_pubkey"], r["amount_sat"], r["fee_limit_sat"]) for r in sent) \
        == sorted((p.pubkey, p.amount_sat, p.fee_limit_sat) for p in plan)
    assert {r["vantage"] for r in sent} == {simnet.oracle_pubkey}
    assert "no_route" not in {r["outcome"] for r in sent}
    # each stored with the reason it was planned for: the sample ones marked as such
    assert sorted((r["target_pubkey"], r["reason"]) for r in sent) \
        == sorted((p.pubkey, p.reason) for p in plan)
    assert sorted(r["target_pubkey"] for r in sent if r["reason"] == "sample") == sorted(sample)
    # and read back by scoring as sample evidence
    assert sorted(p for p, drawn in zip(evidence.pubkeys, evidence.samples().tolist(),
                                        strict=True) if drawn) == sorted(sample)


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def _queue(dsn: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(dsn)
    try:
        return list(await conn.fetch("SELECT target, amount_sat, fee_limit_sat, reason "
                                     "FROM probe_queue ORDER BY priority DESC, id"))
    finally:
        await conn.close()
