"""Channel knowledge on the mainnet graph: the merge of one probe round and the load.

    .venv/bin/python bench/knowledge.py [--probes 1000] [--attempts 3]

Embedded Postgres with the mainnet snapshot synced; rounds of `--probes` synthetic probes,
each of `--attempts` HTLC attempts along random 4-hop walks over real channels, a third
failing for liquidity at a random hop: the time of `record_probe_knowledge` (fold + one
upsert) per round, then of `load_channel_knowledge` once the table holds every direction
of every channel (~99k rows). The round itself (sending) is bench/probes.py.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from satrank.config import DatabaseSettings  # noqa: E402
from satrank.db.admin import create_database  # noqa: E402
from satrank.db.embedded import embedded_postgres  # noqa: E402
from satrank.db.graph import sync_graph  # noqa: E402
from satrank.db.knowledge import load_channel_knowledge, record_probe_knowledge  # noqa: E402
from satrank.db.migrations import migrate_dsn  # noqa: E402
from satrank.db.pool import connection, create_pool  # noqa: E402
from satrank.lightning.backend import (  # noqa: E402
    ChannelGraph,
    HtlcAttempt,
    ProbeResult,
    RouteHop,
)
from satrank.lightning.graph_file import load_graph_file  # noqa: E402
from satrank.outcomes import ProbeOutcome  # noqa: E402
from tests.data import MAINNET  # noqa: E402

HOPS = 4
ROUNDS = 5


def _adjacency(graph: ChannelGraph) -> dict[str, list[tuple[int, str]]]:
    adj: dict[str, list[tuple[int, str]]] = {}
    for e in graph.edges:
        adj.setdefault(e.node1_pub, []).append((e.channel_id, e.node2_pub))
        adj.setdefault(e.node2_pub, []).append((e.channel_id, e.node1_pub))
    return adj


def _attempt(adj: dict[str, list[tuple[int, str]]], starts: list[str],
             rng: np.random.Generator) -> HtlcAttempt:
    node = starts[rng.integers(len(starts))]
    hops = []
    amount_msat = int(rng.choice([10_000, 100_000, 1_000_000])) * 1000
    for _ in range(HOPS):
        channel, node = adj[node][rng.integers(len(adj[node]))]
        hops.append(RouteHop(channel, node, amount_msat, 1000, 800))
    if rng.random() < 1 / 3:
        return HtlcAttempt(tuple(hops), "FAILED", "TEMPORARY_CHANNEL_FAILURE",
                           int(rng.integers(HOPS)))
    return HtlcAttempt(tuple(hops), "FAILED", "INCORRECT_OR_UNKNOWN_PAYMENT_DETAILS", HOPS)


def _round(adj: dict[str, list[tuple[int, str]]], starts: list[str], n: int, attempts: int,
           rng: np.random.Generator) -> list[ProbeResult]:
    out = []
    for _ in range(n):
        tried = tuple(_attempt(adj, starts, rng) for _ in range(attempts))
        last = tried[-1]
        out.append(ProbeResult(last.hops[-1].pubkey, 1, ProbeOutcome.ERROR, last.failure_code,
                               last.failure_source_index, None, last.hops, 0, 1, attempts,
                               tried))
    return out


async def bench(admin_dsn: str, n_probes: int, attempts: int) -> None:
    graph = load_graph_file(MAINNET)
    adj = _adjacency(graph)
    starts = sorted(adj)
    dsn = await create_database(admin_dsn, "bench_knowledge")
    await migrate_dsn(dsn)
    pool = await create_pool(dsn, DatabaseSettings(url=None))
    rng = np.random.default_rng(15)
    now = datetime(2025, 10, 25, tzinfo=UTC)
    try:
        async with connection(pool) as conn:
            await sync_graph(conn, graph, block_height=None, now=now)
            times, written = [], []
            for r in range(ROUNDS):
                results = _round(adj, starts, n_probes, attempts, rng)
                now += timedelta(minutes=10)
                async with connection(pool, transaction=True) as tx:
                    t0 = time.perf_counter()
                    written.append(await record_probe_knowledge(tx, results, now))
                    times.append(time.perf_counter() - t0)
                print(f"round {r + 1}: {n_probes} probes x {attempts} attempts, "
                      f"{written[-1]} directions merged in {times[-1] * 1000:.0f} ms", flush=True)
            print(f"merge median of {ROUNDS}: {statistics.median(times) * 1000:.0f} ms",
                  flush=True)
            # fill: every direction of every channel once (mainnet: ~99k rows), untimed
            every = [HtlcAttempt((RouteHop(e.channel_id, to, 50_000_000, 0, 800),), "SUCCEEDED",
                                 None, None)
                     for e in graph.edges for to in (e.node1_pub, e.node2_pub)]
            await record_probe_knowledge(conn, [ProbeResult(
                "", 1, ProbeOutcome.ERROR, None, None, None, (), 0, 1, len(every),
                tuple(every))], now)
            loads = []
            for _ in range(5):
                t0 = time.perf_counter()
                k = await load_channel_knowledge(conn)
                loads.append(time.perf_counter() - t0)
            print(f"load_channel_knowledge: {len(k)} rows, median "
                  f"{statistics.median(loads) * 1000:.0f} ms of 5")
    finally:
        await pool.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--probes", type=int, default=1000)
    parser.add_argument("--attempts", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="satrank-bench-") as tmp, \
            embedded_postgres(Path(tmp) / "pg") as admin_dsn:
        asyncio.run(bench(admin_dsn, args.probes, args.attempts))


if __name__ == "__main__":
    main()
