"""How long an api worker's event loop stalls while its intent snapshot is rebuilt.

    .venv/bin/python bench/intent_loop.py [--rebuilds 3]

As bench/api.py: Postgres, simnet on the mainnet snapshot, `satrank crawl --once --probes
0`. Then, in this process, `IntentSnapshots.refresh` runs as the api worker runs it (the
database reads on the loop, the numpy build in a thread) while a ticker task wakes every
millisecond; the longest gap between two ticks is the longest time no request could have
been served. Prints, per rebuild (whole, then its database read and its build apart), the
wall time and the loop's longest and total stall.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.deployed import deployment, run_satrank  # noqa: E402
from satrank.api.cache.intent import IntentSnapshots, build_snapshot  # noqa: E402
from satrank.api.cache.version import DataVersion  # noqa: E402
from satrank.collector import freeze_startup_objects  # noqa: E402
from satrank.config import DatabaseSettings  # noqa: E402
from satrank.db.intent import IntentInputs, load_intent_inputs  # noqa: E402
from satrank.db.pool import connection, create_pool  # noqa: E402

TICK_S = 0.001
STALL_S = 0.005  # gaps above this count as stalls


async def measure(dsn: str, rebuilds: int) -> None:
    freeze_startup_objects()  # as `satrank serve` does once started
    pool = await create_pool(dsn, DatabaseSettings(url=None))
    gaps: list[float] = []
    stop = asyncio.Event()

    async def ticker() -> None:
        last = time.perf_counter()
        while not stop.is_set():
            await asyncio.sleep(TICK_S)
            now = time.perf_counter()
            gaps.append(now - last - TICK_S)
            last = now

    async def timed(what: str, step: Awaitable[object]) -> object:
        stop.clear()
        gaps.clear()
        tick = asyncio.create_task(ticker())
        await asyncio.sleep(0.05)
        started = time.perf_counter()
        result = await step
        wall = time.perf_counter() - started
        stop.set()
        await tick
        stalls = [g for g in gaps if g > STALL_S]
        print(f"{what}: {wall * 1000:.0f} ms; loop's longest stall {max(gaps) * 1000:.1f} ms, "
              f"stalls > {STALL_S * 1000:.0f} ms: {len(stalls)} totalling "
              f"{sum(stalls) * 1000:.0f} ms", flush=True)
        return result

    async def read() -> IntentInputs:
        async with connection(pool) as conn:
            return await load_intent_inputs(conn)

    try:
        for i in range(rebuilds):
            snapshots = IntentSnapshots(DataVersion(check_interval_s=0))
            await timed(f"rebuild {i + 1}, whole refresh", snapshots.refresh(pool, None))
            inputs = await timed(f"rebuild {i + 1}, database read", read())
            assert isinstance(inputs, IntentInputs)
            await timed(f"rebuild {i + 1}, build in its thread", asyncio.to_thread(
                build_snapshot, inputs, version=1, our_pubkey=None, now_unix=time.time()))
    finally:
        await pool.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rebuilds", type=int, default=3)
    args = parser.parse_args()
    with deployment() as dep:
        dsn, env = dep.database("bench_intent_loop")
        run_satrank(env, "migrate")
        run_satrank(env, "crawl", "--once", "--probes", "0")
        import uvloop

        uvloop.run(measure(dsn, args.rebuilds))


if __name__ == "__main__":
    main()
