"""Probe rounds of 1,000 through the Postgres probe queue, against the direct path.

    .venv/bin/python bench/probe_queue.py [--probes 1000] [--rounds 3]

simnet `--vantage 2` on the mainnet snapshot at --time-scale 0, the crawler's real phases
over gRPC + TLS. Each round plans 1,000 probes once (`plan_phase`: rank, COPY into the
queue), then sends that same plan on every path, in rotated order (other sessions load
the machine: compare within a run):
- direct: `run_probe_round` straight from the plan, stored with one COPY (the path before
  the queue);
- queue, oracle: the rows put back in the queue, drained by the oracle's worker
  (`drain_queue`: claim with SKIP LOCKED, send, store + mark done in one transaction);
- queue, 2 vantages: the same, the oracle and vantage-1 draining side by side;
- queue only: the same with two senders that answer at once: the queue's own cost;
then one rescore (`score_phase`). Target (issue 15): a round of 1,000 with knowledge
updates <= 10 s.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from bench.lightning import _client  # noqa: E402
from satrank.config import CrawlerSettings, DatabaseSettings  # noqa: E402
from satrank.crawler.cycle import plan_phase, score_phase, sync_phase  # noqa: E402
from satrank.crawler.cycle import utc_now as _now  # noqa: E402
from satrank.crawler.probes import run_probe_round  # noqa: E402
from satrank.crawler.scheduler import PlannedProbe  # noqa: E402
from satrank.crawler.worker import Vantage, drain_queue, worker_id  # noqa: E402
from satrank.db.admin import create_database  # noqa: E402
from satrank.db.embedded import embedded_postgres  # noqa: E402
from satrank.db.migrations import migrate_dsn  # noqa: E402
from satrank.db.pool import Pool, connection, create_pool  # noqa: E402
from satrank.db.probe_queue import QueuedProbe, enqueue_probes  # noqa: E402
from satrank.db.probes import record_probes  # noqa: E402
from satrank.lightning.backend import ProbeResult  # noqa: E402
from satrank.lightning.lnd import LndClient  # noqa: E402
from satrank.outcomes import ProbeOutcome  # noqa: E402
from tests.data import MAINNET  # noqa: E402
from tests.simnet_fixture import SimnetHandle, start_simnet  # noqa: E402


async def _reset(pool: Pool, plan: list[PlannedProbe]) -> None:
    """The queue holds exactly `plan`, open (each path sends the same probes)."""
    async with connection(pool, transaction=True) as conn:
        await conn.execute("DELETE FROM probe_queue")
        await enqueue_probes(conn, [QueuedProbe(p.pubkey, p.amount_sat, p.fee_limit_sat or 0,
                                                p.reason, p.priority) for p in plan],
                             planned_at=_now())


async def _direct(pool: Pool, sender: LndClient, cs: CrawlerSettings,
                  plan: list[PlannedProbe]) -> dict[str, int]:
    """The path before the queue: send the plan, store it with one COPY."""
    async with connection(pool) as conn:
        await conn.execute("DELETE FROM probe_queue")
    sent = await run_probe_round(sender, plan, concurrency=cs.probe_concurrency,
                                 fee_limit_sat=cs.probe_fee_limit_sat,
                                 timeout_s=cs.probe_timeout_s, clock=_now)
    async with connection(pool) as conn:
        await record_probes(conn, sent)
    return {"oracle": len(sent)}


async def _queued(pool: Pool, vantages: list[Vantage], cs: CrawlerSettings,
                  plan: list[PlannedProbe]) -> dict[str, int]:
    await _reset(pool, plan)
    share = -(-len(plan) // len(vantages))
    reports = await asyncio.gather(*(
        drain_queue(pool, v, cs, batch=share, worker=worker_id(v.name), clock=_now)
        for v in vantages))
    return {r.vantage: r.sent for r in reports}


class _Instant:
    """A sender that answers at once (no_route): what is left is the queue's own cost."""

    async def send_probe(self, destination: str, amount_sat: int, *, fee_limit_sat: int,
                         timeout_s: float) -> ProbeResult:
        return ProbeResult(destination=destination, amount_sat=amount_sat,
                           outcome=ProbeOutcome.NO_ROUTE, failure_code=None,
                           failure_source_index=None, failing_channel_id=None, hops=(),
                           fee_msat=0, duration_ms=0, attempts=0)


async def bench(admin_dsn: str, sim: SimnetHandle, n: int, rounds: int) -> None:
    dsn = await create_database(admin_dsn, "bench_probe_queue")
    await migrate_dsn(dsn)
    pool = await create_pool(dsn, DatabaseSettings(url=None))
    # production fee budgets (tight 10 sat, normal 0.5 % + 5 sat); no cooldown or daily
    # cap so that every round plans n probes on the same graph
    cs = CrawlerSettings(probe_cooldown_s=0, node_daily_probe_cap=10_000,
                         daily_probe_cap=10_000_000)
    rng = np.random.default_rng(1)
    _, v1_host, v1_dir, v1_pubkey = sim.vantages[1]
    rows: dict[str, list[float]] = {}
    plans: list[float] = []
    scores: list[float] = []
    try:
        async with _client(sim.oracle_host, sim.oracle_dir, "readonly") as source, \
                _client(sim.oracle_host, sim.oracle_dir, "pay") as oracle, \
                _client(v1_host, v1_dir, "pay") as v1:
            await sync_phase(pool, source)
            await score_phase(pool, cs, enqueue_nostr=False)
            both = [Vantage("oracle", sim.oracle_pubkey, oracle), Vantage("v1", v1_pubkey, v1)]
            instant = [Vantage("instant-a", "instant-a", _Instant()),
                       Vantage("instant-b", "instant-b", _Instant())]
            paths = ["direct", "queue, oracle", "queue, 2 vantages"]
            for r in range(rounds):
                t = time.perf_counter()
                plan = await plan_phase(pool, cs, n_probes=n, rng=rng)
                plans.append(time.perf_counter() - t)
                t = time.perf_counter()
                await _queued(pool, instant, cs, plan)
                rows.setdefault("queue only, 2 instant senders", []).append(
                    time.perf_counter() - t)
                async with connection(pool) as conn:  # their made-up outcomes are no evidence
                    await conn.execute("DELETE FROM probes WHERE vantage LIKE 'instant-%'")
                for name in paths[r % 3:] + paths[:r % 3]:  # rotated: no path always first
                    t = time.perf_counter()
                    if name == "direct":
                        by = await _direct(pool, oracle, cs, plan)
                    else:
                        by = await _queued(pool, both if "2" in name else both[:1], cs, plan)
                    rows.setdefault(name, []).append(time.perf_counter() - t)
                    print(f"round {r + 1} {name}: send+store {rows[name][-1]:.2f} s, "
                          f"sent by {by}")
                t = time.perf_counter()
                await score_phase(pool, cs, enqueue_nostr=False)
                scores.append(time.perf_counter() - t)
                print(f"round {r + 1}: plan {plans[-1]:.2f} s, rescore {scores[-1]:.2f} s")
        print(f"\nmedians (range) of {rounds}, n = {n}, concurrency "
              f"{cs.probe_concurrency} per vantage, the same plan on every path")
        print(f"plan (rank + COPY into the queue): {_fmt(plans)}; rescore {_fmt(scores)}")
        print("| path | send + store |")
        print("|---|---|")
        for name, values in rows.items():
            print(f"| {name} | {_fmt(values)} |")
    finally:
        await pool.close()


def _fmt(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} s ({min(values):.2f}-{max(values):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--probes", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="satrank-bench-") as tmp:
        root = Path(tmp)
        with start_simnet(root / "sim", graph=MAINNET, time_scale=0, vantage=2) as sim, \
                embedded_postgres(root / "pg") as admin_dsn:
            asyncio.run(bench(admin_dsn, sim, args.probes, args.rounds))


if __name__ == "__main__":
    main()
