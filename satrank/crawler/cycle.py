"""The crawler's phases as plain async functions over a pool: sync, score, probe.

Database failures leave a phase as `db.errors.DatabaseError` (the service backs off on it).

Each phase is its own transaction, so a crawler killed mid-cycle leaves the database at a
phase boundary (graph sync and score store are atomic) and the next cycle just runs again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

import numpy as np

from satrank.config import CrawlerSettings
from satrank.crawler.metrics import (
    GRAPH_CHANNELS,
    GRAPH_NODES,
    LAST_SUCCESS,
    SCORING_SECONDS,
    SYNC_SECONDS,
)
from satrank.crawler.probes import ProbeSender, run_probe_round
from satrank.crawler.scheduler import ProbeBudget, plan_probes
from satrank.db.graph import GraphSyncReport, record_sync_payer, sync_graph
from satrank.db.interest import forget_requests_before, recently_requested
from satrank.db.pool import Pool, connection
from satrank.db.probes import (
    count_crawler_probes_since,
    delete_probes_before,
    load_probe_candidates,
    load_probe_history,
    record_probes,
)
from satrank.db.scores import StoredScores, load_scoring_inputs, store_scores
from satrank.lightning.backend import DeferredGraph, NodeStatus
from satrank.scoring.budgets import budget_of_limit
from satrank.scoring.engine import ScoringParams, score_nodes
from satrank.scoring.tiers import DEFAULT_TIER_SAT

# Nodes asked about through the API within this window are probed first.
REQUEST_WINDOW_S = 3600
_log = logging.getLogger(__name__)


class GraphSource(Protocol):
    """What a graph sync needs from LND (readonly macaroon). The graph comes deferred: an
    unchanged one (same digest as the last sync) is never converted into values."""

    async def get_info(self) -> NodeStatus: ...

    async def describe_graph_deferred(self) -> DeferredGraph: ...


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ProbeRoundReport:
    planned: int
    outcomes: dict[str, int]
    deleted_old: int


async def sync_phase(pool: Pool, source: GraphSource, *,
                     clock: Callable[[], datetime] = utc_now) -> GraphSyncReport:
    started = time.perf_counter()
    info = await source.get_info()
    graph = await source.describe_graph_deferred()
    async with connection(pool) as conn:
        report = await sync_graph(conn, graph, block_height=info.block_height, now=clock())
        await record_sync_payer(conn, report.sync_id, info.identity_pubkey)
    SYNC_SECONDS.observe(time.perf_counter() - started)
    GRAPH_NODES.set(report.nodes)
    GRAPH_CHANNELS.set(report.channels)
    LAST_SUCCESS.labels("graph_sync").set(time.time())
    return report


async def score_phase(pool: Pool, settings: CrawlerSettings, *, enqueue_nostr: bool,
                      clock: Callable[[], datetime] = utc_now) -> StoredScores:
    started = time.perf_counter()
    now = clock()
    async with connection(pool) as conn:
        inputs = await load_scoring_inputs(
            conn, now=now, half_life_s=settings.half_life_days * 86_400.0,
            evidence_window=timedelta(days=settings.probe_retention_days))
        result = score_nodes(inputs, now_unix=now.timestamp(), params=ScoringParams(
            settings.probe_tiers_sat, DEFAULT_TIER_SAT,
            probe_budget=budget_of_limit(settings.probe_fee_limit_sat, DEFAULT_TIER_SAT)))
        stored = await store_scores(conn, result, computed_at=now,
                                    enqueue_nostr=enqueue_nostr)
    SCORING_SECONDS.observe(time.perf_counter() - started)
    LAST_SUCCESS.labels("scoring").set(time.time())
    return stored


async def probe_phase(pool: Pool, sender: ProbeSender, settings: CrawlerSettings, *,
                      n_probes: int, rng: np.random.Generator,
                      clock: Callable[[], datetime] = utc_now) -> ProbeRoundReport:
    now = clock()
    day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    async with connection(pool) as conn:
        rows = await load_probe_candidates(conn)
        window = timedelta(days=settings.probe_retention_days)
        history = await load_probe_history(conn, day_start=day_start, since=now - window)
        today = await count_crawler_probes_since(conn, day_start)
        requested = await recently_requested(
            conn, since=now - timedelta(seconds=REQUEST_WINDOW_S), limit=n_probes)
    budget = ProbeBudget(settings.probe_cooldown_s, settings.probe_stale_s,
                         settings.node_daily_probe_cap,
                         max(0, settings.daily_probe_cap - int(today)))
    plan = plan_probes([r["pubkey"] for r in rows], [r["pagerank"] for r in rows],
                       n=n_probes, now=now, last_probed=history.last_probed,
                       probes_today=history.probes_since_day_start, budget=budget,
                       tiers_sat=settings.probe_tiers_sat, rng=rng, requested=requested)
    _log.info("probe round: %d probes planned (%d asked about through the API)",
              len(plan), sum(p.reason == "requested" for p in plan))
    sent = await run_probe_round(sender, plan, concurrency=settings.probe_concurrency,
                                 fee_limit_sat=settings.probe_fee_limit_sat,
                                 timeout_s=settings.probe_timeout_s, clock=clock)
    async with connection(pool, transaction=True) as conn:
        await record_probes(conn, sent)
        deleted = await delete_probes_before(
            conn, clock() - timedelta(days=settings.probe_retention_days))
        await forget_requests_before(conn, clock() - timedelta(seconds=REQUEST_WINDOW_S))
    outcomes: dict[str, int] = {}
    for p in sent:
        outcomes[p.result.outcome.value] = outcomes.get(p.result.outcome.value, 0) + 1
    LAST_SUCCESS.labels("probes").set(time.time())
    return ProbeRoundReport(len(plan), outcomes, deleted)
