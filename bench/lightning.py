"""Benchmark the lnd client against simnet over real gRPC + TLS.

    .venv/bin/python bench/lightning.py [--probes 2000] [--invoices 2000] [--in-flight 16]

1. DescribeGraph of the mainnet snapshot through LndClient (target <= 3 s), split into
   the raw RPC (server build + transfer + protobuf parse) and our conversion to values.
2. Probe throughput: `--in-flight` concurrent send_probe at --time-scale 0 on a generated
   graph (target >= 200 probes/s).
3. AddInvoice calls/s, sequential and `--in-flight` concurrent (target >= 500/s).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from satrank.lightning import lightning_pb2 as ln  # noqa: E402
from satrank.lightning import lnd_values  # noqa: E402
from satrank.lightning.lnd import LndClient  # noqa: E402
from tests.data import MAINNET  # noqa: E402
from tests.simnet_fixture import SimnetHandle, start_simnet  # noqa: E402


def _client(host: str, lnd_dir: Path, macaroon: str) -> LndClient:
    return LndClient.connect(host, (lnd_dir / "tls.cert").read_bytes(),
                             (lnd_dir / f"{macaroon}.macaroon").read_bytes(),
                             rpc_timeout_s=60)


async def bench_describe_graph(sim: SimnetHandle, repeats: int) -> None:
    async with _client(sim.oracle_host, sim.oracle_dir, "readonly") as c:
        await c.describe_graph()  # warm: TLS handshake, server-side caches
        full, raw, convert, parse = [], [], [], []
        for _ in range(repeats):
            t0 = time.perf_counter()
            graph = await c.describe_graph()
            full.append(time.perf_counter() - t0)
            lightning = c._stubs()[0]
            t0 = time.perf_counter()
            message = await lightning.DescribeGraph(ln.ChannelGraphRequest(),
                                                    metadata=c._metadata, timeout=120)
            raw.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            lnd_values.channel_graph(message)
            convert.append(time.perf_counter() - t0)
            data = message.SerializeToString()
            t0 = time.perf_counter()
            ln.ChannelGraph.FromString(data)
            parse.append(time.perf_counter() - t0)
    print(f"describe_graph: {len(graph.nodes)} nodes, {len(graph.edges)} channels, "
          f"{len(data) / 1e6:.1f} MB")
    print(f"  LndClient.describe_graph   median {statistics.median(full):.2f} s "
          f"(min {min(full):.2f}, target <= 3 s)")
    print(f"  raw RPC incl. parse        median {statistics.median(raw):.2f} s")
    print(f"    of which protobuf parse  median {statistics.median(parse):.3f} s")
    print(f"  conversion to values       median {statistics.median(convert):.2f} s")


async def bench_probes(sim: SimnetHandle, count: int, in_flight: int) -> None:
    async with _client(sim.oracle_host, sim.oracle_dir, "readonly") as ro:
        graph = await ro.describe_graph()
    targets = [n.pubkey for n in graph.nodes
               if n.pubkey not in (sim.oracle_pubkey, sim.customer_pubkey)]
    rng = random.Random(7)
    picks = [rng.choice(targets) for _ in range(count)]
    outcomes: collections.Counter[str] = collections.Counter()
    async with _client(sim.oracle_host, sim.oracle_dir, "pay") as c:
        gate = asyncio.Semaphore(in_flight)

        async def one(dest: str) -> None:
            async with gate:
                r = await c.send_probe(dest, rng.choice((1_000, 10_000, 100_000)),
                                       fee_limit_sat=5_000, timeout_s=30)
                outcomes[r.outcome.value] += 1

        await asyncio.gather(*(one(d) for d in picks[:in_flight]))  # warm up
        outcomes.clear()
        t0 = time.perf_counter()
        await asyncio.gather(*(one(d) for d in picks))
        elapsed = time.perf_counter() - t0
    print(f"probes: {count} with {in_flight} in flight in {elapsed:.2f} s = "
          f"{count / elapsed:.0f} probes/s (target >= 200/s); {dict(outcomes)}")


async def bench_invoices(sim: SimnetHandle, count: int, in_flight: int) -> None:
    async with _client(sim.oracle_host, sim.oracle_dir, "invoice") as c:
        await c.add_invoice(1, "warm", 600)
        t0 = time.perf_counter()
        for i in range(count // 4):
            await c.add_invoice(1 + i, "bench", 600)
        sequential = (count // 4) / (time.perf_counter() - t0)
        gate = asyncio.Semaphore(in_flight)

        async def one(i: int) -> None:
            async with gate:
                await c.add_invoice(1 + i, "bench", 600)

        t0 = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(count)))
        concurrent = count / (time.perf_counter() - t0)
    print(f"add_invoice: sequential {sequential:.0f}/s, {in_flight} in flight "
          f"{concurrent:.0f}/s (target >= 500/s)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--probes", type=int, default=2000)
    parser.add_argument("--invoices", type=int, default=2000)
    parser.add_argument("--in-flight", type=int, default=16)
    parser.add_argument("--graph-repeats", type=int, default=3)
    parser.add_argument("--generate", type=int, default=2000, help="nodes for probe bench")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-lightning-") as tmp:
        with start_simnet(Path(tmp) / "mainnet", graph=MAINNET, seed=1, time_scale=0) as sim:
            asyncio.run(bench_describe_graph(sim, args.graph_repeats))
        with start_simnet(Path(tmp) / "gen", generate=args.generate, seed=1,
                          time_scale=0) as sim:
            asyncio.run(bench_probes(sim, args.probes, args.in_flight))
            asyncio.run(bench_invoices(sim, args.invoices, args.in_flight))
    return 0


if __name__ == "__main__":
    sys.exit(main())
