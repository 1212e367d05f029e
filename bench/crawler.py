"""Crawler benchmark: mainnet snapshot -> graph sync -> scoring, timings and peak RSS.

The graph comes from the snapshot file (DescribeGraph over gRPC is not included);
`python bench/crawler.py [RUNS]` with an embedded Postgres in a temp dir. Each run uses a
fresh database; the medians over the runs are printed last (2 noisy shared cores).
"""

from __future__ import annotations

import asyncio
import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402

from satrank.db.admin import create_database  # noqa: E402
from satrank.db.embedded import embedded_postgres  # noqa: E402
from satrank.db.graph import sync_graph  # noqa: E402
from satrank.db.migrations import migrate_dsn  # noqa: E402
from satrank.db.scores import load_scoring_inputs, store_scores  # noqa: E402
from satrank.lightning.backend import ChannelGraph  # noqa: E402
from satrank.lightning.graph_file import load_graph_file  # noqa: E402
from satrank.scoring.engine import score_nodes  # noqa: E402
from tests.data import MAINNET  # noqa: E402


async def one_run(admin_dsn: str, graph: ChannelGraph, run: int) -> dict[str, float]:
    dsn = await create_database(admin_dsn, f"bench_crawler_{run}")
    await migrate_dsn(dsn)
    now = datetime(2025, 10, 25, 12, tzinfo=UTC)
    conn = await asyncpg.connect(dsn)
    t0 = time.perf_counter()
    await sync_graph(conn, graph, block_height=920_000, now=now)
    t1 = time.perf_counter()
    inputs = await load_scoring_inputs(conn, now=now, half_life_s=7 * 86_400.0,
                                       evidence_window=timedelta(days=30))
    t2 = time.perf_counter()
    result = score_nodes(inputs, now_unix=now.timestamp())
    t3 = time.perf_counter()
    await store_scores(conn, result, computed_at=now)
    t4 = time.perf_counter()
    await sync_graph(conn, graph, block_height=920_001, now=now + timedelta(minutes=10))
    t5 = time.perf_counter()
    await conn.close()
    return {"full sync": t1 - t0, "load scoring inputs": t2 - t1, "score_nodes": t3 - t2,
            "store scores": t4 - t3, "sync + full scoring (target <= 5 s)": t4 - t0,
            "unchanged re-sync (target <= 1.5 s)": t5 - t4}


async def bench(admin_dsn: str, runs: int) -> None:
    graph = load_graph_file(MAINNET)
    results = []
    for run in range(runs):
        results.append(await one_run(admin_dsn, graph, run))
        print(f"run {run + 1}: " + "; ".join(f"{k} {v:.2f} s" for k, v in results[-1].items()))
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"median of {runs} runs (12,827 nodes, 49,570 channels):")
    for key in results[0]:
        print(f"  {key}: {statistics.median(r[key] for r in results):.2f} s")
    print(f"peak RSS: {rss_mb:.0f} MB (target <= 500 MB)")


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    with tempfile.TemporaryDirectory(prefix="satrank-bench-") as tmp, \
            embedded_postgres(Path(tmp)) as admin_dsn:
        asyncio.run(bench(admin_dsn, runs))


if __name__ == "__main__":
    main()
