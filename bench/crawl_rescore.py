"""Time the long-running crawler's rescore after a probe round on an unchanged graph.

    .venv/bin/python bench/crawl_rescore.py [--rounds 5] [--tree DIR ...]

`satrank crawl` (run_forever) syncs the graph every 10 minutes and rescores after every
probe round (once a minute), so most of its passes see new evidence on the same graph.
Per tree (a checkout: compare commits in one run, each in its own process and
database): a fresh database synced and scored by `satrank crawl --once --probes 0`
(mainnet over gRPC from simnet, as bench/crawl.py), then in ONE process `rounds` times:
store 50 new probe results, run the crawler's `score_phase`; prints wall and CPU time
of each pass (the first pass of the process is cold: it reads the graph and searches
routes).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


async def _inner(dsn: str, rounds: int) -> list[tuple[float, float]]:
    from datetime import UTC, datetime

    import numpy as np

    from satrank.config import load_settings
    from satrank.crawler.cycle import score_phase
    from satrank.db.pool import connection, create_pool
    from satrank.db.probes import SentProbe, record_probes
    from satrank.lightning.backend import ProbeResult
    from satrank.outcomes import ProbeOutcome

    settings = load_settings()
    pool = await create_pool(dsn, settings.database)
    rng = np.random.default_rng(1)
    out: list[tuple[float, float]] = []
    try:
        async with connection(pool) as conn:
            pubkeys = [r["pubkey"] for r in await conn.fetch(
                "SELECT pubkey FROM nodes WHERE is_active ORDER BY pubkey")]
        for _ in range(rounds):
            now = datetime.now(UTC)
            probes = [SentProbe(ProbeResult(
                destination=pubkeys[int(i)], amount_sat=100_000,
                outcome=ProbeOutcome.REACHED if rng.random() < 0.7
                else ProbeOutcome.FAILED_AT_TARGET, failure_code=None,
                failure_source_index=None, failing_channel_id=None, hops=(), fee_msat=0,
                duration_ms=100, attempts=1), now)
                for i in rng.integers(0, len(pubkeys), 50)]
            async with connection(pool) as conn:
                await record_probes(conn, probes)
            wall, cpu = time.perf_counter(), time.process_time()
            await score_phase(pool, settings.crawler, enqueue_nostr=False)
            out.append((time.perf_counter() - wall, time.process_time() - cpu))
    finally:
        await pool.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--tree", type=Path, action="append", default=None)
    parser.add_argument("--inner", default=None, help=argparse.SUPPRESS)  # a DSN
    args = parser.parse_args()
    if args.inner:
        print(json.dumps(asyncio.run(_inner(args.inner, args.rounds))))
        return
    sys.path.insert(0, str(ROOT))
    from bench.deployed import deployment, run_satrank

    trees: list[Path] = args.tree or [ROOT]
    with deployment() as dep:
        for t, tree in enumerate(trees):
            dsn, env = dep.database(f"bench_rescore_{t}", tree)
            run_satrank(env, "migrate")
            run_satrank(env, "crawl", "--once", "--probes", "0")
            done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--inner",
                                   dsn, "--rounds", str(args.rounds)],
                                  env=dict(env, OMP_NUM_THREADS=os.environ.get(
                                      "OMP_NUM_THREADS", "1")),
                                  cwd=tree, capture_output=True, text=True, check=True)
            passes = json.loads(done.stdout.splitlines()[-1])
            print(f"{tree}: " + ", ".join(f"{w:.2f} s (CPU {c:.2f})" for w, c in passes),
                  flush=True)


if __name__ == "__main__":
    main()
