"""Time `satrank crawl --once --probes 0` as a whole process, as an operator runs it.

    .venv/bin/python bench/crawl.py [--runs 2]

Per run: a fresh database, `satrank migrate`, then the crawl twice against simnet on the
mainnet snapshot (DescribeGraph over gRPC + TLS, readonly macaroon): the first cycle
(empty database: full sync + scoring) and an unchanged cycle (same graph again). Prints
wall time, the phases the command reports and its peak RSS (wait4), and the ratio to
the anchor: `satrank migrate` with nothing to apply, i.e. starting a satrank process and
reaching Postgres, measured in the same run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.deployed import deployment, run_satrank  # noqa: E402

CRAWL = ("crawl", "--once", "--probes", "0")


def phases(stdout: str) -> str:
    """The command's own `phase: N s` lines, on one line."""
    return ", ".join(line.replace(": ", " ", 1) for line in stdout.splitlines()
                     if line.endswith(" s"))


def spy(folder: Path | None, run: int, cycle: str) -> Path | None:
    return None if folder is None else folder / f"crawl-{cycle}-{run + 1}.txt"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--py-spy", type=Path, default=None, metavar="DIR",
                        help="record both cycles of each run under py-spy into DIR")
    args = parser.parse_args()
    rows: dict[str, list[tuple[float, float]]] = {}
    for run in range(args.runs):
        with deployment(f"bench_crawl_{run}") as dep:
            run_satrank(dep.env, "migrate")
            anchor = run_satrank(dep.env, "migrate")
            first = run_satrank(dep.env, *CRAWL, profile=spy(args.py_spy, run, "first"))
            again = run_satrank(dep.env, *CRAWL, profile=spy(args.py_spy, run, "unchanged"))
        for name, r in (("anchor: satrank migrate (nothing to apply)", anchor),
                        ("first cycle (target <= 5 s)", first),
                        ("unchanged cycle (target <= 2 s)", again)):
            rows.setdefault(name, []).append((r.seconds, r.peak_rss_mb))
            ratio = r.seconds / anchor.seconds
            print(f"run {run + 1}: {name}: {r.seconds:.2f} s ({ratio:.1f}x anchor), "
                  f"peak RSS {r.peak_rss_mb:.0f} MB; {phases(r.stdout)}", flush=True)
    print(f"median of {args.runs} runs (mainnet snapshot over gRPC from simnet):")
    anchor_s = statistics.median(s for s, _ in rows[next(iter(rows))])
    for name, values in rows.items():
        seconds = statistics.median(s for s, _ in values)
        print(f"  {name}: {seconds:.2f} s ({seconds / anchor_s:.1f}x anchor), "
              f"peak RSS {max(m for _, m in values):.0f} MB")


if __name__ == "__main__":
    main()
