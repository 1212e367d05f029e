"""End to end: the real `satrank crawl --once` against simnet over gRPC + TLS, with the
readonly macaroon for the graph and the pay macaroon for probes; and a crawler killed
(SIGKILL) in the middle of its probe round, after which the database is consistent and
the next run completes."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from satrank.db.graph import graph_integrity_problems
from satrank.lightning.lnd import LndClient
from satrank.scoring.budgets import NORMAL
from tests.cli import run_satrank, satrank_env, start_satrank, stderr_lines
from tests.simnet_fixture import SimnetHandle, start_simnet

WAIT_S = 120.0
TIERS = {10_000, 100_000, 1_000_000}
NO_PROBLEMS = {"channels_without_node": 0, "policies_without_channel": 0,
               "open_channels_of_inactive_nodes": 0}


def _crawler_env(tmp: Path, dsn: str, net: SimnetHandle, **extra: str) -> dict[str, str]:
    return satrank_env(
        tmp, DATABASE_URL=dsn, CRAWLER_METRICS_PORT="0", LND_GRPC_HOST=net.oracle_host,
        LND_TLS_CERT_PATH=str(net.oracle_dir / "tls.cert"),
        LND_READONLY_MACAROON_PATH=str(net.oracle_dir / "readonly.macaroon"),
        LND_PAY_MACAROON_PATH=str(net.oracle_dir / "pay.macaroon"),
        PROBE_FEE_LIMIT_SAT="5000", **extra)


async def _graph_size(net: SimnetHandle) -> tuple[int, int, int]:
    async with LndClient.connect(net.oracle_host, (net.oracle_dir / "tls.cert").read_bytes(),
                                 (net.oracle_dir / "readonly.macaroon").read_bytes()) as c:
        graph = await c.describe_graph()
        info = await c.get_info()
    return len(graph.nodes), len(graph.edges), info.block_height


async def _db_state(dsn: str) -> dict[str, object]:
    conn = await asyncpg.connect(dsn)
    try:
        return {
            "syncs": await conn.fetchval("SELECT count(*) FROM graph_syncs"),
            "tip": await conn.fetchval("SELECT block_height FROM graph_syncs "
                                       "ORDER BY id DESC LIMIT 1"),
            "active": await conn.fetchval("SELECT count(*) FROM nodes WHERE is_active"),
            "open": await conn.fetchval("SELECT count(*) FROM channels WHERE is_open"),
            "scores": await conn.fetchval("SELECT count(*) FROM scores"),
            "unscored_active": await conn.fetchval(
                "SELECT count(*) FROM nodes n WHERE is_active "
                "AND NOT EXISTS (SELECT 1 FROM scores s WHERE s.pubkey = n.pubkey)"),
            "posteriors": await conn.fetchval("SELECT count(*) FROM posteriors"),
            "probes": await conn.fetch("SELECT target_pubkey, amount_sat, outcome, hop_count, "
                                       "route, source FROM probes"),
            "integrity": await graph_integrity_problems(conn),
            "queue": {r["state"]: r["n"] for r in await conn.fetch(
                "SELECT CASE WHEN done_at IS NOT NULL THEN 'done' WHEN claimed_at IS NOT NULL "
                "THEN 'claimed' ELSE 'open' END AS state, count(*) AS n FROM probe_queue "
                "GROUP BY 1")},
        }
    finally:
        await conn.close()


async def test_crawl_once_against_simnet(simnet: SimnetHandle, db_dsn: str,
                                         tmp_path: Path) -> None:
    nodes, _edges, tip = await _graph_size(simnet)
    done = run_satrank("crawl", "--once", "--probes", "60",
                       env=_crawler_env(tmp_path, db_dsn, simnet), timeout=WAIT_S)
    assert done.returncode == 0, done.stderr[-3000:]
    for phase in ("graph_sync:", "scoring:", "probe_round:", "rescoring:"):
        assert phase in done.stdout
    state = await _db_state(db_dsn)
    assert state["syncs"] == 1 and state["tip"] == tip
    assert state["active"] == nodes and state["scores"] == nodes
    assert state["unscored_active"] == 0 and state["posteriors"] == 3 * nodes
    assert state["integrity"] == NO_PROBLEMS
    probes = state["probes"]
    assert isinstance(probes, list) and len(probes) == 60
    assert len({p["target_pubkey"] for p in probes}) == 60  # one per node per round
    assert {p["amount_sat"] for p in probes} <= TIERS
    assert {p["source"] for p in probes} == {"crawler"}
    reached = [p for p in probes if p["outcome"] == "reached"]
    assert reached and all(p["hop_count"] >= 1 and p["route"] for p in reached)

    conn = await asyncpg.connect(db_dsn)
    try:
        # the rescore used the probes: evidence at the probed tier, none where unprobed.
        # The posteriors table is the default (normal) budget: a reach counts there when
        # its route's fee fits that budget (a probe sent at the 5,000-sat tight limit may
        # have paid more at 10k sat); a failure at the target counts at every budget.
        probed = await conn.fetch(
            "SELECT p.n_eff, r.outcome, r.amount_sat, r.fee_msat FROM posteriors p "
            "JOIN probes r ON r.target_pubkey = p.pubkey AND r.amount_sat = p.amount_sat "
            "WHERE r.outcome IN ('reached', 'failed_at_target')")
        counted = [r for r in probed if r["outcome"] == "failed_at_target"
                   or -(-r["fee_msat"] // 1000) <= NORMAL.whole_limit_sat(r["amount_sat"])]
        assert counted and all(r["n_eff"] > 0 for r in counted)
        assert await conn.fetchval(
            "SELECT count(*) FROM posteriors p WHERE NOT EXISTS "
            "(SELECT 1 FROM probes r WHERE r.target_pubkey = p.pubkey) AND p.n_eff > 0") == 0
        # the round became channel knowledge: each reached target's last channel carried
        # an HTLC towards it (a later failure in the round may have lowered the bound)
        assert await conn.fetchval(
            "SELECT count(*) FROM probes r "
            "JOIN channels c ON c.channel_id = (r.route->-1->>'channel_id')::bigint "
            "WHERE r.outcome = 'reached' AND NOT EXISTS (SELECT 1 FROM channel_knowledge k "
            "WHERE k.channel_id = c.channel_id AND k.carried_count > 0 AND k.direction = "
            "CASE WHEN c.node2_pub = r.target_pubkey THEN 0 ELSE 1 END)") == 0
        assert await conn.fetchval("SELECT count(*) FROM channel_knowledge") >= len(reached)
    finally:
        await conn.close()


@pytest.fixture
def slow_simnet(tmp_path: Path) -> Iterator[SimnetHandle]:
    """Real-time HTLC latencies (time scale 1), so a probe round lasts long enough to be
    interrupted in the middle."""
    with start_simnet(tmp_path / "slow", generate=80, seed=11, time_scale=1.0) as net:
        yield net


async def test_crawler_killed_mid_probe_round_leaves_db_consistent(
        slow_simnet: SimnetHandle, db_dsn: str, tmp_path: Path) -> None:
    env = _crawler_env(tmp_path, db_dsn, slow_simnet, CRAWL_PROBE_CONCURRENCY="1")
    victim = start_satrank("crawl", "--once", "--probes", "60", env=env)
    try:
        lines = stderr_lines(victim)
        while "probe worker oracle: claimed 60 probes" not in lines.get(timeout=WAIT_S):
            pass  # queue.Empty (a failure) if the round never starts
        victim.send_signal(signal.SIGKILL)
        assert victim.wait(timeout=WAIT_S) == -signal.SIGKILL
    finally:
        if victim.poll() is None:
            victim.kill()
            victim.wait()

    # the killed cycle stopped at a phase boundary: graph and first scores are whole, the
    # interrupted round recorded nothing half-way; its queue rows stay claimed by the dead
    # worker (until the claim TTL: tests/db/test_probe_queue.py)
    state = await _db_state(db_dsn)
    assert state["syncs"] == 1 and state["integrity"] == NO_PROBLEMS
    assert state["scores"] == state["active"] and state["unscored_active"] == 0
    assert state["posteriors"] == 3 * int(str(state["active"]))
    assert state["probes"] == []
    assert state["queue"] == {"claimed": 60}

    nxt = run_satrank("crawl", "--once", "--probes", "3", env=env, timeout=WAIT_S)
    assert nxt.returncode == 0, nxt.stderr[-3000:]
    after = await _db_state(db_dsn)
    assert after["syncs"] == 2 and after["integrity"] == NO_PROBLEMS
    assert after["scores"] == after["active"] and after["unscored_active"] == 0
    probes = after["probes"]
    assert isinstance(probes, list) and len(probes) == 3
    assert after["queue"] == {"claimed": 60, "done": 3}

    # once the dead worker's claims are older than the claim TTL, they are sent again
    env["CRAWL_PROBE_CLAIM_TTL_S"] = "1"
    retaken = run_satrank("crawl", "--once", "--probes", "0", env=env, timeout=WAIT_S)
    assert retaken.returncode == 0, retaken.stderr[-3000:]
    final = await _db_state(db_dsn)
    assert final["queue"] == {"done": 63}
    probes = final["probes"]
    assert isinstance(probes, list) and len(probes) == 63
    assert len({p["target_pubkey"] for p in probes}) == 63


async def test_crawl_once_without_probes_scores_once(simnet: SimnetHandle, db_dsn: str,
                                                     tmp_path: Path) -> None:
    """No probe sent, no new evidence: one scoring pass, not a second identical one."""
    done = run_satrank("crawl", "--once", "--probes", "0",
                       env=_crawler_env(tmp_path, db_dsn, simnet), timeout=WAIT_S)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "scoring:" in done.stdout and "probe_round:" in done.stdout
    assert "rescoring:" not in done.stdout
    nodes, _edges, _tip = await _graph_size(simnet)
    assert f"scores: StoredScores(scores={nodes}," in done.stdout
    state = await _db_state(db_dsn)
    assert state["scores"] == nodes and state["posteriors"] == 3 * nodes

    # the same graph again: lnd's response has the same digest, the sync merges nothing
    again = run_satrank("crawl", "--once", "--probes", "0",
                        env=_crawler_env(tmp_path, db_dsn, simnet), timeout=WAIT_S)
    assert again.returncode == 0, again.stderr[-3000:]
    conn = await asyncpg.connect(db_dsn)
    try:
        syncs = await conn.fetch("SELECT nodes, fingerprint FROM graph_syncs ORDER BY id")
    finally:
        await conn.close()
    assert len(syncs) == 2 and syncs[0]["fingerprint"] is not None
    assert syncs[0]["fingerprint"] == syncs[1]["fingerprint"]
    assert syncs[1]["nodes"] == nodes
    assert "nodes_added=0" in again.stdout and "rescoring:" not in again.stdout
