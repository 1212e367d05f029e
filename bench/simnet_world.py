"""simnet v2 on the mainnet snapshot: a simulated day, DescribeGraph and probes with traffic on.

    .venv/bin/python bench/simnet_world.py [--probes 1200] [--concurrency 64]

1. in process, default world: wall time of `World.advance(one day)` at time-scale 0
   (target <= 60 s);
2. `satrank simnet --graph mainnet --time-scale 0.01` (the world runs 100x the wall clock,
   so background traffic, churn and gossip flushes go on during the measurements):
   DescribeGraph wall time over gRPC + TLS (target <= 1.5 s), probes per second with
   random payment hashes from the oracle to random nodes (target >= 300/s), and the
   simnet process's peak RSS (VmHWM, target <= 1 GiB).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import grpc  # noqa: E402
import numpy as np  # noqa: E402

from satrank.lightning import lightning_pb2 as ln  # noqa: E402
from satrank.lightning import lightning_pb2_grpc as ln_grpc  # noqa: E402
from satrank.lightning import router_pb2 as router  # noqa: E402
from satrank.lightning import router_pb2_grpc as router_grpc  # noqa: E402
from satrank.lightning.graph_file import load_graph_file  # noqa: E402
from satrank.simnet.network import Network  # noqa: E402
from satrank.simnet.simulator import Simulator  # noqa: E402
from tests.data import MAINNET  # noqa: E402
from tests.simnet_fixture import SimnetHandle, start_simnet  # noqa: E402

DAY_S = 86_400.0
MAX_MSG = 200 * 1024 * 1024


def simulated_day() -> None:
    net = Network(load_graph_file(MAINNET), 1)
    sim = Simulator(net, time_scale=0, seed=1)
    t0, c0 = time.perf_counter(), time.process_time()
    sim.world.advance(DAY_S)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(f"one simulated day at time-scale 0: {wall:.1f} s wall, {cpu:.1f} s CPU "
          f"(target <= 60 s wall); load average {os.getloadavg()[0]:.1f}; {sim.world.stats}")


def _children() -> list[Path]:
    """/proc entries of our child processes (the simnet)."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == os.getpid():
                out.append(entry)
        except (OSError, ValueError, IndexError):
            continue
    return out


def _children_hwm_kib() -> int:
    """Peak RSS of our child processes, from /proc."""
    peak = 0
    for entry in _children():
        try:
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]))
        except (OSError, ValueError, IndexError):
            continue
    return peak


def _children_cpu_s() -> float:
    """CPU seconds (user + system) our child processes used so far: unlike probes per
    second, this barely moves with what other processes on the box are doing."""
    ticks = 0
    for entry in _children():
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(stat[11]) + int(stat[12])  # utime, stime
        except (OSError, ValueError, IndexError):
            continue
    return ticks / os.sysconf("SC_CLK_TCK")


async def over_grpc(sim: SimnetHandle, n_probes: int, concurrency: int) -> None:
    creds = grpc.ssl_channel_credentials((sim.oracle_dir / "tls.cert").read_bytes())
    md = (("macaroon", (sim.oracle_dir / "admin.macaroon").read_bytes().hex()),)
    options = [("grpc.max_receive_message_length", MAX_MSG)]
    async with grpc.aio.secure_channel(sim.oracle_host, creds, options=options) as channel:
        lightning = ln_grpc.LightningStub(channel)
        await asyncio.sleep(5)  # let the world run and gossip change a little
        times, graph = [], None
        for _ in range(5):
            t0 = time.perf_counter()
            graph = await lightning.DescribeGraph(ln.ChannelGraphRequest(), metadata=md,
                                                  timeout=120)
            times.append(time.perf_counter() - t0)
            await asyncio.sleep(1)
        assert graph is not None
        print(f"DescribeGraph with traffic on: median {statistics.median(times):.2f} s, "
              f"max {max(times):.2f} s over {len(times)} calls (target <= 1.5 s); "
              f"{len(graph.nodes)} nodes, {len(graph.edges)} channels")
        pubkeys = [bytes.fromhex(n.pub_key) for n in graph.nodes]
        rng = np.random.default_rng(1)
        targets = [pubkeys[int(i)] for i in rng.integers(0, len(pubkeys), n_probes)]
        stub = router_grpc.RouterStub(channel)
        outcomes: Counter[str] = Counter()
        gate = asyncio.Semaphore(concurrency)

        async def probe(dest: bytes) -> None:
            async with gate:
                final = None
                async for update in stub.SendPaymentV2(router.SendPaymentRequest(
                        dest=dest, amt=10_000, payment_hash=os.urandom(32),
                        fee_limit_sat=100, timeout_seconds=60, no_inflight_updates=True),
                        metadata=md, timeout=120):
                    final = update
                outcomes[ln.PaymentFailureReason.Name(final.failure_reason)
                         if final is not None else "none"] += 1

        t0, cpu0, own0 = time.perf_counter(), _children_cpu_s(), time.process_time()
        await asyncio.gather(*(probe(d) for d in targets))
        wall = time.perf_counter() - t0
        cpu, own = _children_cpu_s() - cpu0, time.process_time() - own0
        print(f"probes: {n_probes} in {wall:.1f} s = {n_probes / wall:.0f}/s "
              f"(target >= 300/s; concurrency {concurrency}); {dict(outcomes)}")
        print(f"  CPU per probe: simnet {cpu / n_probes * 1000:.2f} ms (so at most "
              f"{n_probes / cpu:.0f} probes/s on one core), this client "
              f"{own / n_probes * 1000:.2f} ms; load average {os.getloadavg()[0]:.1f}")
    print(f"simnet peak RSS: {_children_hwm_kib() / 1024:.0f} MiB (target <= 1024 MiB)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--probes", type=int, default=1200)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--skip-day", action="store_true")
    args = parser.parse_args()
    if not args.skip_day:
        simulated_day()
    with tempfile.TemporaryDirectory(prefix="satrank-bench-") as tmp, start_simnet(
            Path(tmp), graph=MAINNET, time_scale=0.01) as sim:
        asyncio.run(over_grpc(sim, args.probes, args.concurrency))


if __name__ == "__main__":
    main()
