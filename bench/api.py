"""Benchmark the api against a trivial Starlette endpoint, same server settings, same run.

    .venv/bin/python bench/api.py [--workers 1 2] [--duration 10] [--connections 50]
                                  [--probe-writes-per-s N]

Loads the mainnet snapshot (../shared/data) into a fresh database on an embedded Postgres
(or on DATABASE_URL), starts uvicorn (uvloop + httptools) for each app and worker count,
and runs wrk (Debian package `wrk`) with Lua scripts rotating over 1,000 real node ids.
Prints req/s, p99 and the ratio to the trivial endpoint. With --probe-writes-per-s N, a
second profile run has a writer inserting N probes per second for random ids of the
rotation (what a crawler does), so cached profiles keep being invalidated.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.api_load import load_snapshot  # noqa: E402
from bench.apps import OPERATOR_TOKEN  # noqa: E402
from satrank.db.admin import create_database  # noqa: E402
from satrank.db.embedded import embedded_postgres  # noqa: E402
from satrank.db.migrations import migrate_dsn  # noqa: E402
from tests.data import MAINNET  # noqa: E402

LUA_ROTATE = """
local ids = {%s}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", "%s" .. ids[(i %% #ids) + 1], {["X-Operator-Token"] = "%s"})
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(factory: str, workers: int,
                 env: dict[str, str]) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", factory, "--host", "127.0.0.1",
         "--port", str(port), "--workers", str(workers), "--loop", "uvloop", "--http",
         "httptools", "--no-access-log", "--log-level", "warning"],
        cwd=ROOT, env=env, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            time.sleep(1.0)  # let every worker finish its lifespan
            return proc, port
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"{factory} did not start")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=30)


def _ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(us|ms|s)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run_wrk(url: str, script: Path | None, duration: int, connections: int) -> tuple[float, float]:
    """(req/s, p99 ms) of a measured run, after a 2 s unrecorded warm-up (steady state)."""
    warm = ["wrk", "-t2", f"-c{connections}", "-d2s", url]
    if script is not None:
        warm[1:1] = ["-s", str(script)]
    subprocess.run(warm, capture_output=True, check=True)
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", url]
    if script is not None:
        cmd[1:1] = ["-s", str(script)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        raise RuntimeError(f"{url}: {non2xx.group(1)} non-2xx answers\n{out}")
    return rps, p99


@contextmanager
def probe_writer(dsn: str, ids: list[str], per_s: float) -> Iterator[list[int]]:
    """Insert `per_s` probes per second for random `ids` until the block ends; yields a
    one-item list holding the count written."""
    import asyncpg

    stop = threading.Event()
    written = [0]

    async def write() -> None:
        conn = await asyncpg.connect(dsn)
        rng = random.Random(11)
        try:
            while not stop.is_set():
                await conn.execute(
                    """INSERT INTO probes (target_pubkey, amount_sat, sent_at, duration_ms,
                         outcome) VALUES ($1, 100000, now(), 500, 'reached')""",
                    rng.choice(ids))
                written[0] += 1
                await asyncio.sleep(1.0 / per_s)
        finally:
            await conn.close()

    thread = threading.Thread(target=lambda: asyncio.run(write()))
    thread.start()
    try:
        yield written
    finally:
        stop.set()
        thread.join()


async def prepare(admin_dsn: str) -> tuple[str, list[str]]:
    dsn = await create_database(admin_dsn, f"satrank_bench_{os.getpid()}")
    await migrate_dsn(dsn)
    started = time.perf_counter()
    pubkeys = await load_snapshot(dsn, MAINNET)
    print(f"loaded {len(pubkeys)} nodes in {time.perf_counter() - started:.1f} s", flush=True)
    return dsn, pubkeys


def bench(dsn: str, pubkeys: list[str], args: argparse.Namespace, tmp: Path) -> None:
    ids = random.Random(7).sample(pubkeys, 1000)
    quoted = ",".join(f'"{i}"' for i in ids)
    agent_lua, profile_lua = tmp / "agent.lua", tmp / "profile.lua"
    agent_lua.write_text(LUA_ROTATE % (quoted, "/api/agent/", OPERATOR_TOKEN))
    profile_lua.write_text(LUA_ROTATE % (quoted, "/api/profile/", OPERATOR_TOKEN))
    env = {**os.environ, "BENCH_DSN": dsn, "PYTHONPATH": str(ROOT)}
    print(f"wrk -t2 -c{args.connections} -d{args.duration}s --latency; "
          f"uvicorn uvloop/httptools; cores={os.cpu_count()}")
    print(f"{'workers':>7} {'endpoint':<28} {'req/s':>9} {'p99 ms':>8} {'ratio':>7}")
    for workers in args.workers:
        results = {}
        proc, port = start_server("bench.apps:trivial", workers, env)
        try:
            results["trivial"] = run_wrk(f"http://127.0.0.1:{port}/trivial", None,
                                         args.duration, args.connections)
        finally:
            stop_server(proc)
        proc, port = start_server("bench.apps:satrank", workers, env)
        base = f"http://127.0.0.1:{port}"
        try:
            results["GET /api/agent/{id}"] = run_wrk(base, agent_lua, args.duration,
                                                     args.connections)
            results["GET /api/profile/{id}"] = run_wrk(base, profile_lua, args.duration,
                                                       args.connections)
            if args.probe_writes_per_s:
                with probe_writer(dsn, ids, args.probe_writes_per_s) as written:
                    results[f"profile +{args.probe_writes_per_s:g} probes/s"] = run_wrk(
                        base, profile_lua, args.duration, args.connections)
                print(f"(writer inserted {written[0]} probes)", flush=True)
            results["GET /api/agents/top"] = run_wrk(f"{base}/api/agents/top", None,
                                                     args.duration, args.connections)
        finally:
            stop_server(proc)
        trivial_rps = results["trivial"][0]
        for name, (rps, p99) in results.items():
            print(f"{workers:>7} {name:<28} {rps:>9.0f} {p99:>8.2f} {rps / trivial_rps:>7.1%}",
                  flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--probe-writes-per-s", type=float, default=0.0)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk not found: apt-get install wrk")
    with tempfile.TemporaryDirectory(prefix="satrank-bench-") as tmp:
        if os.environ.get("DATABASE_URL"):
            dsn, pubkeys = asyncio.run(prepare(os.environ["DATABASE_URL"]))
            bench(dsn, pubkeys, args, Path(tmp))
            return
        with embedded_postgres(Path(tmp) / "pg") as admin_dsn:
            dsn, pubkeys = asyncio.run(prepare(admin_dsn))
            bench(dsn, pubkeys, args, Path(tmp))


if __name__ == "__main__":
    main()
