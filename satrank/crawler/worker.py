"""A probe worker: one vantage node taking its work from the Postgres probe queue.

The leader plans rows (cycle.plan_phase); each worker claims a batch (`FOR UPDATE SKIP
LOCKED`: no row goes to two workers), sends it through its own LND with bounded
concurrency, then stores the probes with its vantage and marks the rows done in one
transaction. A worker killed mid-batch leaves its rows claimed; once the claim is older
than CRAWL_PROBE_CLAIM_TTL_S another worker takes them. Workers run in the crawler
process (one per configured vantage, jobs.py) or alone (`satrank crawl --probe-worker`).
"""

from __future__ import annotations

import logging
import math
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from satrank.config import CrawlerSettings, LndSettings
from satrank.crawler.metrics import VANTAGE_PROBES
from satrank.crawler.probes import ProbeSender, run_probe_round
from satrank.crawler.scheduler import PlannedProbe
from satrank.db.pool import Pool, connection
from satrank.db.probe_queue import claim_probes, finish_probes
from satrank.db.vantages import register_vantage

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Vantage:
    """A node probes are sent from."""

    name: str  # "oracle" (the LND_* node) or the <NAME> of LND_VANTAGE_<NAME>_*
    pubkey: str | None  # None: not known (probes stored with vantage NULL, the oracle's)
    sender: ProbeSender


@dataclass
class WorkerReport:
    vantage: str
    sent: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)


def worker_id(vantage: str) -> str:
    """Who holds a claim: the vantage, this process and a random tag (no host, no IP)."""
    return f"{vantage}/{os.getpid()}/{secrets.token_hex(3)}"


def batch_size(settings: CrawlerSettings, lnd: LndSettings) -> int:
    """Rows one claim takes: a round's share per configured vantage, so that every
    vantage gets part of each round rather than the first worker taking all of it."""
    return max(1, math.ceil(settings.probes_per_round / (1 + len(lnd.vantages))))


async def drain_queue(pool: Pool, vantage: Vantage, settings: CrawlerSettings, *,
                      batch: int, worker: str, clock: Callable[[], datetime]
                      ) -> WorkerReport:
    """Claim, send and finish batches until no row is left for `vantage`."""
    report = WorkerReport(vantage.name)
    if vantage.pubkey is not None:
        async with connection(pool) as conn:
            await register_vantage(conn, name=vantage.name, pubkey=vantage.pubkey,
                                   now=clock())
    while True:
        async with connection(pool) as conn:
            claimed = await claim_probes(conn, vantage=vantage.pubkey or "", worker=worker,
                                         limit=batch, now=clock(),
                                         claim_ttl_s=settings.probe_claim_ttl_s)
        if not claimed:
            return report
        _log.info("probe worker %s: claimed %d probes", vantage.name, len(claimed))
        plan = [PlannedProbe(c.target, c.amount_sat, c.reason, c.fee_limit_sat)
                for c in claimed]
        sent = await run_probe_round(vantage.sender, plan,
                                     concurrency=settings.probe_concurrency,
                                     fee_limit_sat=settings.probe_fee_limit_sat,
                                     timeout_s=settings.probe_timeout_s, clock=clock,
                                     vantage=vantage.pubkey)
        async with connection(pool) as conn:
            await finish_probes(conn, claimed, sent, worker=worker, now=clock())
        VANTAGE_PROBES.labels(vantage.name).inc(len(sent))
        report.sent += len(sent)
        for p in sent:
            key = p.result.outcome.value
            report.outcomes[key] = report.outcomes.get(key, 0) + 1
