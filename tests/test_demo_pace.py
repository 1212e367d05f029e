"""Unit: the demo's crawler pace lets a fresh demo reach verdicts within minutes (issue 15
item 6), without touching the evidence bar, and the user's own settings win."""

from __future__ import annotations

import math
from pathlib import Path

from satrank.config import Settings
from satrank.demo.run import SimnetNodes, service_env
from satrank.scoring.verdict import MIN_EVIDENCE

SIMNET = SimnetNodes("127.0.0.1:1", "127.0.0.1:2", Path("/o"), Path("/c"), "test graph")
DEMO_WINDOW_S = 300.0
TOP = 500


def _settings(base: dict[str, str]) -> Settings:
    env = service_env({"L402_MACAROON_SECRET": "x" * 40, **base},
                      dsn="postgresql://u@127.0.0.1/d", port=3000, simnet=SIMNET,
                      operator_secret="s" * 32)
    return Settings.from_environ(env)


def test_a_node_can_gather_the_evidence_of_a_verdict_within_the_demo_window() -> None:
    crawler = _settings({}).crawler
    assert crawler.probe_cooldown_s * (MIN_EVIDENCE - 1) < DEMO_WINDOW_S
    rounds = DEMO_WINDOW_S / crawler.probe_interval_s
    # room for the top 500 in the value-chosen part (the sample share goes to random nodes)
    valued = math.ceil(crawler.probes_per_round * (1.0 - crawler.probe_sample_share))
    assert rounds * valued >= MIN_EVIDENCE * TOP


def test_the_users_own_pace_wins() -> None:
    crawler = _settings({"CRAWL_PROBE_COOLDOWN_S": "3600", "CRAWL_PROBES_PER_ROUND": "7"})
    assert crawler.crawler.probe_cooldown_s == 3600
    assert crawler.crawler.probes_per_round == 7
