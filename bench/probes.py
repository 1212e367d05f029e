"""Probe-round benchmark: simnet on the mainnet snapshot at --time-scale 0, the crawler's
real phases over gRPC + TLS (readonly macaroon for the graph, pay macaroon for probes).

    .venv/bin/python bench/probes.py [--probes 1000] [--rounds 3]

Per round: `probe_phase` (plan, send with bounded concurrency, record with one COPY, merge
every HTLC attempt into channel knowledge with one upsert) and
the set-based rescore (`score_phase`: evidence aggregated in SQL, posteriors for every
node and tier stored by COPY + two merges). Target: a round of 1,000 probes <= 10 s.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from satrank.config import CrawlerSettings, DatabaseSettings  # noqa: E402
from satrank.crawler.cycle import probe_phase, score_phase, sync_phase  # noqa: E402
from satrank.db.admin import create_database  # noqa: E402
from satrank.db.embedded import embedded_postgres  # noqa: E402
from satrank.db.knowledge import load_channel_knowledge  # noqa: E402
from satrank.db.migrations import migrate_dsn  # noqa: E402
from satrank.db.pool import connection, create_pool  # noqa: E402
from satrank.lightning.lnd import LndClient  # noqa: E402
from tests.data import MAINNET  # noqa: E402
from tests.simnet_fixture import SimnetHandle, start_simnet  # noqa: E402


def _client(sim: SimnetHandle, macaroon: str) -> LndClient:
    return LndClient.connect(sim.oracle_host, (sim.oracle_dir / "tls.cert").read_bytes(),
                             (sim.oracle_dir / f"{macaroon}.macaroon").read_bytes(),
                             rpc_timeout_s=120)


async def bench(admin_dsn: str, sim: SimnetHandle, n_probes: int, rounds: int) -> None:
    dsn = await create_database(admin_dsn, "bench_probes")
    await migrate_dsn(dsn)
    pool = await create_pool(dsn, DatabaseSettings(url=None))
    cs = CrawlerSettings(probe_fee_limit_sat=5_000, probe_cooldown_s=0,
                         node_daily_probe_cap=1_000)
    rng = np.random.default_rng(1)
    try:
        async with _client(sim, "readonly") as source, _client(sim, "pay") as sender:
            t0 = time.perf_counter()
            await sync_phase(pool, source)
            await score_phase(pool, cs, enqueue_nostr=True)
            print(f"setup: sync + score {time.perf_counter() - t0:.2f} s")
            sends, rescores = [], []
            for r in range(rounds):
                t0 = time.perf_counter()
                report = await probe_phase(pool, sender, cs, n_probes=n_probes, rng=rng)
                t1 = time.perf_counter()
                await score_phase(pool, cs, enqueue_nostr=True)
                t2 = time.perf_counter()
                sends.append(t1 - t0)
                rescores.append(t2 - t1)
                print(f"round {r + 1}: {report.planned} probes {t1 - t0:.2f} s "
                      f"({report.planned / (t1 - t0):.0f}/s), rescore {t2 - t1:.2f} s, "
                      f"total {t2 - t0:.2f} s; outcomes {dict(Counter(report.outcomes))}")
            print(f"median of {rounds}: probe round {statistics.median(sends):.2f} s, "
                  f"rescore {statistics.median(rescores):.2f} s, round + rescore "
                  f"{statistics.median(a + b for a, b in zip(sends, rescores, strict=True)):.2f}"
                  f" s (target <= 10 s; concurrency {cs.probe_concurrency})")
            async with connection(pool) as conn:
                t0 = time.perf_counter()
                knowledge = await load_channel_knowledge(conn)
                print(f"channel knowledge: {len(knowledge)} directions, loaded in "
                      f"{(time.perf_counter() - t0) * 1000:.0f} ms")
    finally:
        await pool.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--probes", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="satrank-bench-") as tmp:
        root = Path(tmp)
        with start_simnet(root / "sim", graph=MAINNET, time_scale=0) as sim, \
                embedded_postgres(root / "pg") as admin_dsn:
            asyncio.run(bench(admin_dsn, sim, args.probes, args.rounds))


if __name__ == "__main__":
    main()
