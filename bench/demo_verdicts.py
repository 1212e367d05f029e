"""Bench: verdicts among the 500 highest-ranked nodes in the first 5 minutes of `satrank demo`.

    .venv/bin/python bench/demo_verdicts.py [--minutes 5] [--every 30] [-- DEMO ARGS...]

Runs the demo as a user does (`satrank demo`, its own process group, a fresh data
directory, free ports), waits for it to print that it is running, then asks its api every
30 s for the top 500 by `rank` (/api/agents/top, the leaderboard) and by PageRank
(sort_by=pagerank), and counts the verdicts. Prints one row per poll and the figure at
the end: the share of the top 500 by rank whose verdict is not INSUFFICIENT (issue 15
item 6 target: >= 80 % within 5 minutes of ready). Ctrl-C (SIGINT) then stops the demo.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOP = 500
PAGE = 100
READY_MARK = "SatRank demo is running"
READY_TIMEOUT_S = 900.0
VERDICTS = ("SAFE", "RISKY", "UNKNOWN", "INSUFFICIENT")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def top_verdicts(base_url: str, sort: str) -> Counter[str]:
    """Verdicts of the first TOP nodes of the leaderboard sorted by `sort`."""
    counts: Counter[str] = Counter()
    for offset in range(0, TOP, PAGE):
        url = f"{base_url}/api/agents/top?sort_by={sort}&limit={PAGE}&offset={offset}"
        with urllib.request.urlopen(url, timeout=30) as response:
            page = json.loads(response.read())
        for item in page["data"]:
            block = item.get("bayesian")
            counts[block["verdict"] if block else "INSUFFICIENT"] += 1
    return counts


def decided_share(counts: Counter[str]) -> float:
    total = sum(counts.values())
    return (total - counts["INSUFFICIENT"]) / total if total else 0.0


def row(at_s: float, by_rank: Counter[str], by_pr: Counter[str]) -> str:
    cells = " | ".join(f"{by_rank[v]:>5d}" for v in VERDICTS)
    return (f"| {at_s:5.0f} | {cells} | {100 * decided_share(by_rank):5.1f} % "
            f"| {100 * decided_share(by_pr):5.1f} % |")


def wait_ready(demo: subprocess.Popen[str], lines: list[str]) -> float:
    deadline = time.monotonic() + READY_TIMEOUT_S
    assert demo.stdout is not None
    for line in demo.stdout:
        lines.append(line)
        if READY_MARK in line:
            return time.monotonic()
        if time.monotonic() > deadline:
            break
    raise SystemExit("demo did not get ready:\n" + "".join(lines[-30:]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--every", type=float, default=30.0)
    parser.add_argument("--keep-data", action="store_true",
                        help="keep the demo's data directory (Postgres, logs) to inspect")
    parser.add_argument("demo_args", nargs="*")
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="satrank-demo-bench-"))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("SATRANK_ENV", "DATABASE_URL")}
    env.update(SATRANK_DATA_DIR=str(data_dir), CRAWLER_METRICS_PORT=str(free_port()))
    started = time.monotonic()
    demo = subprocess.Popen(
        [sys.executable, "-m", "satrank", "demo", "--port", str(port), *args.demo_args],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True)
    lines: list[str] = []
    try:
        ready = wait_ready(demo, lines)
        # keep draining the demo's output so it never blocks on a full pipe
        threading.Thread(target=lambda: [lines.append(x) for x in demo.stdout or []],
                         daemon=True).start()
        print(f"ready after {ready - started:.0f} s; data {data_dir}; api "
              f"http://127.0.0.1:{port}", flush=True)
        base_url = f"http://127.0.0.1:{port}"
        print(f"| s after ready | {' | '.join(VERDICTS)} | decided, top {TOP} by rank "
              f"| decided, top {TOP} by PageRank |")
        print("|---|---|---|---|---|---|---|")
        end = ready + args.minutes * 60.0
        at = ready
        by_rank: Counter[str] = Counter()
        while at <= end + 1e-6:
            time.sleep(max(0.0, at - time.monotonic()))
            by_rank = top_verdicts(base_url, "rank")
            by_pr = top_verdicts(base_url, "pagerank")
            print(row(at - ready, by_rank, by_pr), flush=True)
            at += args.every
        print(f"at {args.minutes:.0f} min: {100 * decided_share(by_rank):.1f} % of the top "
              f"{TOP} by rank have a verdict other than INSUFFICIENT (target >= 80 %)")
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGINT)
            try:
                demo.wait(120)
            except subprocess.TimeoutExpired:
                os.killpg(demo.pid, signal.SIGKILL)
                demo.wait()
        if not args.keep_data:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
