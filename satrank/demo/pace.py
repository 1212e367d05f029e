"""How fast the demo's crawler probes.

The production pace (100 probes a minute, each node at most once an hour) is polite to a
real network, but a verdict other than INSUFFICIENT needs two effective observations of a
node (scoring.verdict.MIN_EVIDENCE): at that pace no node can have one within minutes, so a
fresh demo showed only INSUFFICIENT and graph-only RISKY for its first hour. simnet is our
own network, so the demo probes as fast as it answers: short rounds, more probes in flight,
a node probed again after a minute. The evidence bar of the verdicts is unchanged.
Variables the user sets win.
"""

from __future__ import annotations

from collections.abc import Mapping

DEMO_CRAWLER_PACE: dict[str, str] = {
    "CRAWL_PROBE_INTERVAL_S": "20",  # a round, then a rescore (~6 s on the snapshot)
    "CRAWL_PROBES_PER_ROUND": "300",
    "CRAWL_PROBE_CONCURRENCY": "32",  # simnet's probes wait on simulated hop latency
    "CRAWL_PROBE_COOLDOWN_S": "60",
}


def demo_pace_env(base: Mapping[str, str]) -> dict[str, str]:
    """`base` with the demo's crawler pace for every pace variable it does not set."""
    return {**DEMO_CRAWLER_PACE, **base}
