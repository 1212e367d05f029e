"""POST /api/intent: speed on the mainnet graph as deployed (issue 16 item 6), and its
p_success against real outcomes on simnet v2 (item 7).

    .venv/bin/python bench/intent.py [--duration 10] [--connections 20]
    .venv/bin/python bench/intent.py --calibration [--generate 1000] [--rounds 8]
                                     [--probes 300] [--fit 600] [--holdout 1500]
                                     [--world-seed 7]

Calibration (bench/intent_calibration.py): a living simnet v2 world with
`--announce-own-channels` (the oracle, our reference payer, and the customer are public
nodes); the crawler's own phases with production settings train the scores (model v2's
grid); `--fit` payments at the end of the training window choose the route model's weight
in the log-odds shift (best Brier over a grid of weights); the world then runs 6 simulated
hours on; `--holdout` (payer, target, amount, budget) rows, half paid by simnet's customer
and half by random graph nodes, with a normal budget (two thirds) or the tight 10 sat, each
labelled by the outcome a real payment from that payer would have (simnet's truth endpoint
runs the payment without settling it). On the held-out rows the intent's p_success (at the
chosen weight, and at the code's) is compared with the caller-agnostic figures on the same
rows: the target's default-tier node p_success, and the grid read for the reference payer
at the payment's amount and budget (ECE, Brier).

As bench/api.py: Postgres by DATABASE_URL, simnet on the mainnet snapshot as LND (so the
reference payer is our node), `satrank crawl --once --probes 0` scoring the graph, then
`satrank serve` (SATRANK_ENV=production, one worker) loaded by wrk through the operator
bypass (the paid path without Lightning), against the trivial anchor in the same run.
Lua scripts rotate over 1,000 scored targets and amounts {1k, 50k, 250k} sat, with:
- "warm callers": 32 payers (their trees stay in the snapshot's LRU, as an agent paying
  from its own node sees it);
- "cold callers": 1,000 payers (every request runs its payer's Dijkstra);
- "no caller": the reference payer (precomputed trees).
A second crawl during a last warm run moves the data version: the worker rebuilds its
snapshot while serving (p99 under reload). Also in this process: the snapshot's build
time from the database (the reload) and the memory it holds (tracemalloc).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import sys
import threading
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.api import (  # noqa: E402
    free_port,
    peak_rss_mb,
    recorded,
    run_wrk,
    satrank_server,
    stop_server,
    trivial_server,
)
from bench.deployed import OPERATOR_TOKEN, Deployment, deployment, run_satrank  # noqa: E402

LUA_POST = """
local bodies = {%s}
local i = 0
request = function()
  i = i + 1
  return wrk.format("POST", "/api/intent", {["X-Operator-Token"] = "%s",
                    ["Content-Type"] = "application/json"}, bodies[(i %% #bodies) + 1])
end
"""
AMOUNTS = (1_000, 50_000, 250_000)


async def node_ids(dsn: str) -> tuple[list[str], list[str]]:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        scored = [r[0] for r in await conn.fetch("SELECT pubkey FROM scores ORDER BY 1")]
        active = [r[0] for r in await conn.fetch(
            "SELECT pubkey FROM nodes WHERE is_active ORDER BY 1")]
        return scored, active
    finally:
        await conn.close()


async def build_in_process(dsn: str) -> tuple[float, float, float, float]:
    """(database read s, build s, MB held by the snapshot) of one snapshot build, and the
    seconds of a reload that reuses its graph (a scoring pass, same graph)."""
    import asyncpg

    from satrank.api.cache.intent import build_snapshot
    from satrank.db.intent import load_intent_inputs

    conn = await asyncpg.connect(dsn)
    try:
        await load_intent_inputs(conn)  # a worker reloads from a warm database
        tracemalloc.start()
        t0 = time.perf_counter()
        inputs = await load_intent_inputs(conn)
        t1 = time.perf_counter()
        snapshot = build_snapshot(inputs, version=0, our_pubkey=None, now_unix=time.time())
        t2 = time.perf_counter()
        held = tracemalloc.get_traced_memory()[0] / 2**20
        tracemalloc.stop()
        t3 = time.perf_counter()
        again = await load_intent_inputs(conn, previous=inputs)
        build_snapshot(again, version=1, our_pubkey=None, now_unix=time.time(),
                       previous=snapshot)
        t4 = time.perf_counter()
    finally:
        await conn.close()
    return t1 - t0, t2 - t1, held, t4 - t3


def lua_file(path: Path, bodies: list[dict[str, object]]) -> Path:
    quoted = ",".join("'" + json.dumps(b) + "'" for b in bodies)
    path.write_text(LUA_POST % (quoted, OPERATOR_TOKEN))
    return path


def build_log_seconds(log: Path) -> list[float]:
    return [float(s) for s in re.findall(r"intent snapshot built in ([\d.]+) s",
                                         log.read_text(errors="replace"))]


def bench(dep: Deployment, args: argparse.Namespace) -> None:
    dsn, env = dep.database("bench_intent")
    run_satrank(env, "migrate")
    crawl = run_satrank(env, "crawl", "--once", "--probes", "0")
    print(f"scored the mainnet graph with satrank crawl --once in {crawl.seconds:.1f} s")
    scored, active = asyncio.run(node_ids(dsn))
    rng = random.Random(7)
    targets = rng.sample(scored, 1000)
    read_s, build_s, held_mb, reuse_s = asyncio.run(build_in_process(dsn))
    print(f"snapshot in process: database read {read_s:.2f} s + build {build_s:.2f} s = "
          f"{read_s + build_s:.2f} s (target <= 2 s); held {held_mb:.0f} MB; reload of "
          f"the same graph (new scores) {reuse_s:.2f} s")

    def bodies(callers: list[str | None]) -> list[dict[str, object]]:
        out: list[dict[str, object]] = []
        for k, target in enumerate(targets):
            body: dict[str, object] = {"target": target, "amount_sat": AMOUNTS[k % 3]}
            caller = callers[k % len(callers)]
            if caller is not None and caller != target:
                body["caller"] = caller
            out.append(body)
        return out

    scripts = {
        "warm callers (32)": lua_file(dep.tmp / "warm.lua", bodies(rng.sample(active, 32))),
        "cold callers (1000)": lua_file(dep.tmp / "cold.lua",
                                        bodies(rng.sample(active, 1000))),
        "no caller (reference)": lua_file(dep.tmp / "ref.lua", bodies([None])),
    }
    print(f"wrk -t2 -c{args.connections} -d{args.duration}s --latency; one worker; "
          f"cores={os.cpu_count()}")
    port = free_port()
    proc = trivial_server(port, dep.tmp / "trivial.log")
    try:
        trivial_rps, trivial_p99, _ = run_wrk(f"http://127.0.0.1:{port}/trivial", None,
                                              args.duration, args.connections, proc.pid)
        trivial_rss = peak_rss_mb(proc.pid)
    finally:
        stop_server(proc)
    print(f"{'trivial GET (anchor)':<34} {trivial_rps:>8.0f} req/s  p99 {trivial_p99:>7.2f} ms")
    port = free_port()
    log = dep.tmp / "serve.log"
    proc = satrank_server(env, port, log)
    base = f"http://127.0.0.1:{port}"
    try:
        for name, script in scripts.items():
            for connections in (args.connections, 2):  # saturated; then latency, not queue
                spy = (None if args.py_spy is None or connections == 2 else
                       args.py_spy / f"intent-{name.split()[0]}.txt")
                with recorded(proc.pid, spy):
                    rps, p99, cpu = run_wrk(base, script, args.duration, connections,
                                            proc.pid)
                print(f"{'POST /api/intent ' + name:<34} -c{connections:<3} {rps:>8.0f} req/s"
                      f"  p99 {p99:>7.2f} ms  {rps / trivial_rps:>6.1%} of trivial"
                      f"  server CPU {cpu:>6.0f} us/req", flush=True)
        # a crawl moves the data version while wrk runs: the worker rebuilds meanwhile
        crawler = threading.Thread(target=run_satrank, args=(env, "crawl", "--once",
                                                             "--probes", "0"))
        crawler.start()
        time.sleep(1.0)
        rps, p99, _ = run_wrk(base, scripts["warm callers (32)"], args.duration,
                              args.connections, proc.pid)
        crawler.join()
        print(f"{'... warm, crawl + reload meanwhile':<34} {rps:>8.0f} req/s  p99 {p99:>7.2f}"
              f" ms", flush=True)
        rss = peak_rss_mb(proc.pid)
    finally:
        stop_server(proc)
    builds = build_log_seconds(log)
    print(f"worker snapshot builds (s): {', '.join(f'{b:.2f}' for b in builds)}")
    print(f"peak RSS: api worker {rss:.0f} MB, trivial {trivial_rss:.0f} MB; snapshot "
          f"{held_mb:.0f} MB + payer trees (256 x 13k x 12 B = 40 MB) (target <= 250 MB added)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--py-spy", type=Path, default=None, metavar="DIR",
                        help="record the worker under py-spy during each saturated run")
    parser.add_argument("--calibration", action="store_true")
    parser.add_argument("--generate", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--probes", type=int, default=300)
    parser.add_argument("--fit", type=int, default=600,
                        help="training-window payments that choose the model's weight")
    parser.add_argument("--holdout", type=int, default=1500)
    parser.add_argument("--dump", type=Path, default=None,
                        help="write the training-window rows here (.npz)")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--world-seed", type=int, default=7)
    args = parser.parse_args()
    if args.calibration:
        from bench.intent_calibration import run_calibration

        run_calibration(args)
        return
    if shutil.which("wrk") is None:
        sys.exit("wrk not found: apt-get install wrk")
    with deployment() as dep:
        bench(dep, args)


if __name__ == "__main__":
    main()
