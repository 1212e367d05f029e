"""Time `satrank crawl --once --probes 0` as a whole process, as an operator runs it.

    .venv/bin/python bench/crawl.py [--runs 2] [--tree DIR ...] [--py-spy DIR]

Simnet on the mainnet snapshot is LND (DescribeGraph over gRPC + TLS, readonly macaroon),
Postgres is reached by DATABASE_URL, SATRANK_ENV=production. Per run and tree (`--tree`:
checkouts to compare in one run, interleaved): a fresh database, `satrank migrate`, then
the crawl twice: the first cycle (empty database: full sync + scoring) and an unchanged
cycle (same graph again). Prints wall time, the phases the command reports, its peak RSS
(wait4), its own CPU time (steadier than wall time when other sessions load the box)
and the ratio to the anchor: `satrank migrate` with nothing to apply (starting a
satrank process and reaching Postgres), measured in the same run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.deployed import deployment, run_satrank  # noqa: E402

CRAWL = ("crawl", "--once", "--probes", "0")
ANCHOR = "anchor: satrank migrate (nothing to apply)"
FIRST = "first cycle (target <= 5 s)"
AGAIN = "unchanged cycle (target <= 2 s)"
ROOT = Path(__file__).resolve().parents[1]


def phases(stdout: str) -> str:
    """The command's own `phase: N s` lines, on one line."""
    return ", ".join(line.replace(": ", " ", 1) for line in stdout.splitlines()
                     if line.endswith(" s"))


def spy(folder: Path | None, label: str, run: int, cycle: str) -> Path | None:
    return None if folder is None else folder / f"crawl-{label}-{cycle}-{run + 1}.txt"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--tree", type=Path, action="append", default=None, metavar="DIR",
                        help="a checkout whose code to time (repeat to compare commits in "
                             "one run, interleaved); default: this one")
    parser.add_argument("--py-spy", type=Path, default=None, metavar="DIR",
                        help="record both cycles of each run under py-spy into DIR")
    args = parser.parse_args()
    trees: list[Path] = args.tree or [ROOT]
    rows: dict[tuple[str, str], list[tuple[float, float, float]]] = {}
    with deployment() as dep:
        for run in range(args.runs):
            for t, tree in enumerate(trees):
                label = tree.name if len(trees) > 1 else "this tree"
                _dsn, env = dep.database(f"bench_crawl_{run}_{t}", tree)
                run_satrank(env, "migrate")
                anchor = run_satrank(env, "migrate")
                first = run_satrank(env, *CRAWL, profile=spy(args.py_spy, label, run, "first"))
                again = run_satrank(env, *CRAWL,
                                    profile=spy(args.py_spy, label, run, "unchanged"))
                for name, r in ((ANCHOR, anchor), (FIRST, first), (AGAIN, again)):
                    rows.setdefault((label, name), []).append(
                        (r.seconds, r.peak_rss_mb, r.cpu_s))
                    print(f"run {run + 1} {label}: {name}: {r.seconds:.2f} s "
                          f"({r.seconds / anchor.seconds:.1f}x anchor), CPU {r.cpu_s:.2f} s, "
                          f"peak RSS "
                          f"{r.peak_rss_mb:.0f} MB; {phases(r.stdout)}", flush=True)
    print(f"medians of {args.runs} runs (mainnet snapshot over gRPC from simnet):")
    for (label, name), values in rows.items():
        seconds = statistics.median(s for s, _, _ in values)
        anchor_s = statistics.median(s for s, _, _ in rows[(label, ANCHOR)])
        print(f"  {label}: {name}: {seconds:.2f} s ({seconds / anchor_s:.1f}x anchor), "
              f"CPU {statistics.median(c for _, _, c in values):.2f} s, "
              f"peak RSS {max(m for _, m, _ in values):.0f} MB")


if __name__ == "__main__":
    main()
