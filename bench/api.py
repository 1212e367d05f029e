"""Benchmark `satrank serve` as deployed against a trivial Starlette endpoint, same run.

    .venv/bin/python bench/api.py [--duration 10] [--rounds 1] [--tree DIR ...]
                                  [--probe-writes-per-s N] [--connections 50]

What operators run (bench/deployed.py): Postgres reached by DATABASE_URL, simnet on the
mainnet snapshot as LND, `satrank crawl --once --probes 0` scoring the mainnet graph, then
`satrank serve` with SATRANK_ENV=production, one worker, its access log on (stderr to a
file, as journald would take it) and redaction installed; only the free routes' per-IP
limits are lifted by their settings (wrk is one client). The anchor is the trivial app
(`bench/apps.py:trivial`) on uvicorn with the same loop, parser and worker count. wrk
(Debian package `wrk`) -t2 -c50 on loopback, Lua scripts rotating over 1,000 scored node
ids. Prints req/s, p99, the ratio to the anchor, the server's own CPU time per request
and the anchor's CPU per request divided by it (which other sessions' load moves much
less than req/s), the api's peak RSS and checks that the access log has one line per
request. `--tree DIR` (repeatable) loads the code of other
checkouts in the same run, each on its own database, after the same anchor run.
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
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.deployed import OPERATOR_TOKEN, Deployment, deployment, run_satrank  # noqa: E402

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


LIFTED_FREE_LIMITS = {"RATE_LIMIT_AGENT_PER_MIN": "1e9", "RATE_LIMIT_AGENT_BURST": "1000000000",
                      "RATE_LIMIT_SEARCH_PER_MIN": "1e9", "RATE_LIMIT_SEARCH_BURST": "1000000000"}


def start_server(argv: list[str], env: dict[str, str], port: int,
                 log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as sink:
        proc = subprocess.Popen(argv, cwd=env.get("PYTHONPATH", ROOT), env=env, stdout=sink,
                                stderr=sink,
                                start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{argv} exited {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            time.sleep(1.0)  # lifespan done, caches warm enough to answer
            return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"{argv} did not start")


def trivial_server(port: int, log: Path) -> subprocess.Popen[bytes]:
    """The anchor on uvicorn as `satrank serve` runs it: one worker, uvloop, httptools."""
    return start_server(
        [sys.executable, "-m", "uvicorn", "--factory", "bench.apps:trivial", "--host",
         "127.0.0.1", "--port", str(port), "--workers", "1", "--loop", "uvloop", "--http",
         "httptools", "--no-access-log", "--log-level", "warning"],
        {**os.environ, "PYTHONPATH": str(ROOT)}, port, log)


SNAPSHOT_BUILT = "intent snapshot built"
SNAPSHOT_WAIT_S = 120


def satrank_server(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    """`satrank serve`, measured once its start-up work is done: the worker builds its
    intent snapshot in the background after it starts answering (seconds of CPU on a busy
    box), which would otherwise land in the first route's figures."""
    env = {**env, **LIFTED_FREE_LIMITS, "HOST": "127.0.0.1", "PORT": str(port),
           "API_WORKERS": "1"}
    proc = start_server([sys.executable, "-m", "satrank", "serve"], env, port, log)
    deadline = time.monotonic() + SNAPSHOT_WAIT_S
    while SNAPSHOT_BUILT not in log.read_text(errors="replace"):
        if time.monotonic() > deadline:
            stop_server(proc)
            raise RuntimeError(f"no '{SNAPSHOT_BUILT}' in {log} after {SNAPSHOT_WAIT_S} s")
        time.sleep(0.2)
    return proc


def peak_rss_mb(pid: int, field: str = "VmHWM") -> float:
    """The process's peak RSS (VmHWM), or its RSS now (field="VmRSS")."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=30)


def _ms(value: str) -> float:
    found = re.match(r"([\d.]+)(us|ms|s|m)$", value)
    if found is None:
        return float("nan")
    number, unit = found.groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


WARM_REQUESTS = 3000  # 3x the rotation of 1,000 ids
WARM_TRIES = 10
# requests wrk sent (warm-ups included) since the last reset: the access log must match
wrk_requests = [0]


def cpu_s(pid: int) -> float:
    """User + system CPU seconds the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_wrk(url: str, script: Path | None, duration: int, connections: int,
            pid: int) -> tuple[float, float, float]:
    """(req/s, p99 ms, server CPU µs per request) of a measured run, after unrecorded 2 s
    warm-ups until at least WARM_REQUESTS were served (every rotating id seen: steady
    state, not first lookups). The CPU per request is the server process's own (`pid`):
    other sessions' load moves it much less than req/s and p99."""
    warm = ["wrk", "-t2", f"-c{connections}", "-d2s", url]
    if script is not None:
        warm[1:1] = ["-s", str(script)]
    served = 0
    for _ in range(WARM_TRIES):
        out = subprocess.run(warm, capture_output=True, text=True, check=True).stdout
        served += int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
        if served >= WARM_REQUESTS:
            break
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", url]
    if script is not None:
        cmd[1:1] = ["-s", str(script)]
    cpu_before = cpu_s(pid)
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    cpu_used = cpu_s(pid) - cpu_before
    measured = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    wrk_requests[0] += served + measured
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        raise RuntimeError(f"{url}: {non2xx.group(1)} non-2xx answers\n{out}")
    return rps, p99, cpu_used / measured * 1e6


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


async def scored_ids(dsn: str) -> list[str]:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        return [r["pubkey"] for r in await conn.fetch("SELECT pubkey FROM scores ORDER BY 1")]
    finally:
        await conn.close()


def gc_collections(base: str) -> str:
    """The api's cyclic-collector runs per generation so far, from its own /metrics (open
    to loopback): full collections stop the event loop and land in the p99."""
    import urllib.request

    with urllib.request.urlopen(f"{base}/metrics", timeout=10) as answer:
        text = answer.read().decode()
    found = re.findall(r'python_gc_collections_total\{generation="(\d)"\} ([\d.e+]+)', text)
    return " ".join(f"gen{g}={float(n):.0f}" for g, n in found)


def access_lines(log: Path) -> int:
    return sum(1 for line in log.read_text(errors="replace").splitlines()
               if " satrank.access request " in line)


@contextmanager
def recorded(pid: int, out: Path | None) -> Iterator[None]:
    """py-spy records process `pid` into `out` (collapsed stacks) while the block runs."""
    if out is None:
        yield
        return
    spy = subprocess.Popen([str(Path(sys.executable).parent / "py-spy"), "record", "--pid",
                            str(pid), "--rate", "250", "--format", "raw", "--nonblocking",
                            "--output", str(out)], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    try:
        yield
    finally:
        spy.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
        spy.wait(timeout=60)


def load_satrank(env: dict[str, str], dsn: str, ids: list[str], lua: dict[str, Path],
                 args: argparse.Namespace, label: str,
                 log: Path) -> tuple[dict[str, tuple[float, float, float]], float, float]:
    """wrk over the routes of one `satrank serve`: results, its peak RSS, and how many
    access log lines it wrote per request wrk counted (wrk leaves out the requests in
    flight when it stops, so slightly above 1 is one line per request)."""
    wrk_requests[0] = 0
    port = free_port()
    proc = satrank_server(env, port, log)
    base = f"http://127.0.0.1:{port}"
    results: dict[str, tuple[float, float, float]] = {}

    def spy(route: str) -> Path | None:
        return None if args.py_spy is None else args.py_spy / f"api-{label}-{route}.txt"

    try:
        with recorded(proc.pid, spy("agent")):
            results["GET /api/agent/{id}"] = run_wrk(base, lua["agent"], args.duration,
                                                     args.connections, proc.pid)
        with recorded(proc.pid, spy("top")):
            results["GET /api/agents/top"] = run_wrk(f"{base}/api/agents/top", None,
                                                     args.duration, args.connections,
                                                     proc.pid)
        with recorded(proc.pid, spy("profile")):
            results["GET /api/profile/{id} bypass"] = run_wrk(base, lua["profile"],
                                                              args.duration, args.connections,
                                                              proc.pid)
        if args.probe_writes_per_s:
            with probe_writer(dsn, ids, args.probe_writes_per_s) as written:
                results[f"profile +{args.probe_writes_per_s:g} probes/s"] = run_wrk(
                    base, lua["profile"], args.duration, args.connections, proc.pid)
            print(f"(writer inserted {written[0]} probes)", flush=True)
        rss = peak_rss_mb(proc.pid)
        # the peak includes the intent snapshot's build (its own budget, bench/intent.py);
        # the RSS after the load is what the worker holds while serving
        print(f"({label}: RSS after the load {peak_rss_mb(proc.pid, 'VmRSS'):.0f} MB, "
              "the intent snapshot included)", flush=True)
        print(f"({label}: collections by the cyclic GC since start: {gc_collections(base)})",
              flush=True)
    finally:
        stop_server(proc)
    # /metrics above was one request more than wrk counted
    return results, rss, (access_lines(log) - 1) / wrk_requests[0]


def bench(dep: Deployment, args: argparse.Namespace) -> None:
    trees: list[Path] = args.tree or [ROOT]
    envs = []
    for t, tree in enumerate(trees):
        dsn, env = dep.database(f"bench_api_{t}", tree)
        run_satrank(env, "migrate")
        crawl = run_satrank(env, "crawl", "--once", "--probes", "0")
        envs.append((tree.name if len(trees) > 1 else "satrank", dsn, env))
        print(f"{tree}: scored the mainnet graph with satrank crawl --once in "
              f"{crawl.seconds:.1f} s", flush=True)
    pubkeys = asyncio.run(scored_ids(envs[0][1]))
    ids = random.Random(7).sample(pubkeys, 1000)
    quoted = ",".join(f'"{i}"' for i in ids)
    lua = {"agent": dep.tmp / "agent.lua", "profile": dep.tmp / "profile.lua"}
    lua["agent"].write_text(LUA_ROTATE % (quoted, "/api/agent/", OPERATOR_TOKEN))
    lua["profile"].write_text(LUA_ROTATE % (quoted, "/api/profile/", OPERATOR_TOKEN))
    print(f"wrk -t2 -c{args.connections} -d{args.duration}s --latency; one worker, "
          f"uvloop/httptools; cores={os.cpu_count()}")
    print(f"{'round':>5} {'server':<10} {'endpoint':<30} {'req/s':>9} {'p99 ms':>8} "
          f"{'ratio':>7} {'CPU us/req':>10} {'CPU ratio':>9}")
    for rnd in range(1, args.rounds + 1):
        port = free_port()
        proc = trivial_server(port, dep.tmp / "trivial.log")
        try:
            trivial = run_wrk(f"http://127.0.0.1:{port}/trivial", None, args.duration,
                              args.connections, proc.pid)
        finally:
            stop_server(proc)
        print(f"{rnd:>5} {'trivial':<10} {'GET /trivial (anchor)':<30} {trivial[0]:>9.0f} "
              f"{trivial[1]:>8.2f} {1:>7.1%} {trivial[2]:>10.0f} {1:>9.1%}", flush=True)
        for label, dsn, env in envs:
            results, rss, lines = load_satrank(env, dsn, ids, lua, args, label,
                                               dep.tmp / f"serve-{label}-{rnd}.log")
            for name, (rps, p99, cpu_us) in results.items():
                print(f"{rnd:>5} {label:<10} {name:<30} {rps:>9.0f} {p99:>8.2f} "
                      f"{rps / trivial[0]:>7.1%} {cpu_us:>10.0f} {trivial[2] / cpu_us:>9.1%}",
                      flush=True)
            print(f"{rnd:>5} {label:<10} peak RSS {rss:.0f} MB (target <= 150 MB); "
                  f"access log lines per request: {lines:.3f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--probe-writes-per-s", type=float, default=0.0)
    parser.add_argument("--py-spy", type=Path, default=None, metavar="DIR",
                        help="record the api under py-spy during each route's load, into DIR")
    parser.add_argument("--tree", type=Path, action="append", default=None, metavar="DIR",
                        help="a checkout whose `satrank serve` to load (repeat to compare "
                             "commits in one run); default: this one")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk not found: apt-get install wrk")
    with deployment() as dep:
        bench(dep, args)


if __name__ == "__main__":
    main()
