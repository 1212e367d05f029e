"""The crawler's phases as plain async functions over a pool: sync, score, plan (probes
into the queue) and probe (plan, then drain the queue with this process's vantages).

Database failures leave a phase as `db.errors.DatabaseError` (the service backs off on it).

Each phase is its own transaction, so a crawler killed mid-cycle leaves the database at a
phase boundary (graph sync, score store, a plan, a worker's batch are atomic) and the
next cycle just runs again; probes its workers had claimed are sent again once the claim
TTL passed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Protocol

import numpy as np

from satrank.config import ORACLE_VANTAGE, CrawlerSettings
from satrank.crawler.metrics import (
    GRAPH_CHANNELS,
    GRAPH_NODES,
    LAST_SUCCESS,
    QUEUE_OPEN,
    SCORING_SECONDS,
    SYNC_SECONDS,
)
from satrank.crawler.probes import ProbeSender
from satrank.crawler.rescore import ScoringSkipped, inputs_key, max_pass_age_s, rescore_reason
from satrank.crawler.scheduler import (
    FEE_BUDGETS,
    PlannedProbe,
    ProbeBudget,
    ProbeCandidates,
    assign_vantages,
    plan_probes,
)
from satrank.crawler.worker import Vantage, drain_queue, worker_id
from satrank.db.graph import GraphSyncReport, record_sync_payer, sync_graph
from satrank.db.interest import forget_requests_before
from satrank.db.knowledge import delete_knowledge_before
from satrank.db.pool import Pool, connection
from satrank.db.probe_queue import (
    QueuedProbe,
    enqueue_probes,
    load_planning_inputs,
    open_targets,
    prune_queue,
)
from satrank.db.probes import (
    count_crawler_probes_since,
    delete_probes_before,
    load_probe_history,
)
from satrank.db.scores import StoredScores, load_scoring_inputs
from satrank.db.scoring_inputs import last_scoring_pass, scoring_inputs_summary, store_scores_of
from satrank.db.vantages import live_vantages, probes_by_vantage
from satrank.lightning.backend import DeferredGraph, NodeStatus
from satrank.scoring.budgets import budget_of_limit
from satrank.scoring.engine import ScoringParams, score_nodes
from satrank.scoring.evidence import DEFAULT_LIVENESS_HALF_LIFE_S
from satrank.scoring.payer import OwnChannel
from satrank.scoring.tiers import DEFAULT_TIER_SAT

# Nodes asked about through the API within this window are probed first.
REQUEST_WINDOW_S = 3600
QUEUE_KEEP_DONE = timedelta(days=1)  # finished queue rows kept for inspection
QUEUE_MAX_OPEN = timedelta(days=1)  # a row nobody finished in this time is dropped
# a vantage whose worker looked at the queue within this is planned for by name
VANTAGE_LIVE = timedelta(minutes=5)
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
    sent_by: dict[str, int] = field(default_factory=dict)  # vantage name -> probes sent


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
                      clock: Callable[[], datetime] = utc_now,
                      payer_channels: Sequence[OwnChannel] = ()
                      ) -> StoredScores | ScoringSkipped:
    """A scoring pass as the reference payer (our vantages' own channels,
    `payer_channels`, crawler/payer.py, when known), unless the stored one is of the same
    inputs and recent enough (`crawler/rescore.py`)."""
    started = time.perf_counter()
    now = clock()
    half_life_s = settings.half_life_days * 86_400.0
    window = timedelta(days=settings.probe_retention_days)
    params = ScoringParams(
        settings.probe_tiers_sat, DEFAULT_TIER_SAT,
        probe_budget=budget_of_limit(settings.probe_fee_limit_sat, DEFAULT_TIER_SAT))
    async with connection(pool) as conn:
        # summarised before the inputs are read (a write in between changes the next key);
        # publishing is part of it: turned on, it must queue what differs from the last
        # published scores, which only a pass does; the payer's channels (their balances
        # move with our own payments) too
        channels = tuple(sorted(payer_channels, key=lambda c: (c.vantage, c.peer)))
        key = inputs_key(await scoring_inputs_summary(conn, since=now - window, now=now),
                         (params, half_life_s, window, enqueue_nostr, channels))
        last = await last_scoring_pass(conn)
        if last is not None and rescore_reason(last, key, now=now, max_age_s=max_pass_age_s(
                settings.rescore_max_age_s,
                min(half_life_s, DEFAULT_LIVENESS_HALF_LIFE_S))) is None:
            LAST_SUCCESS.labels("scoring").set(time.time())
            return ScoringSkipped(last.computed_at)
        inputs = replace(await load_scoring_inputs(conn, now=now, half_life_s=half_life_s,
                                                   evidence_window=window),
                         payer_channels=channels)
        result = score_nodes(inputs, now_unix=now.timestamp(), params=params)
        link = result.model.link
        _log.info("scoring pass: liveness mu %.3f, kappa %.2f, link %.2f %+.2f logit m%s, %s",
                  result.model.liveness.mu, result.model.kappa, link.a, link.b,
                  "" if link.fitted else " (not fitted)", result.model.persistence.describe())
        stored = await store_scores_of(conn, result, inputs_key=key, computed_at=now,
                                       enqueue_nostr=enqueue_nostr)
    SCORING_SECONDS.observe(time.perf_counter() - started)
    LAST_SUCCESS.labels("scoring").set(time.time())
    return stored


async def plan_phase(pool: Pool, settings: CrawlerSettings, *, n_probes: int,
                     rng: np.random.Generator,
                     clock: Callable[[], datetime] = utc_now) -> list[PlannedProbe]:
    """The leader's part of a probe round: plan up to `n_probes` probes of nodes with no
    open queue row and put them in the probe queue, each for the live vantage that
    probed its target least (any vantage when fewer than two are live); prune old
    queue rows."""
    now = clock()
    day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    async with connection(pool) as conn:
        inputs = await load_planning_inputs(
            conn, tiers_sat=settings.probe_tiers_sat,
            requested_since=now - timedelta(seconds=REQUEST_WINDOW_S), budgets=FEE_BUDGETS)
        window = timedelta(days=settings.probe_retention_days)
        history = await load_probe_history(conn, day_start=day_start, since=now - window)
        today = await count_crawler_probes_since(conn, day_start)
        queued = await open_targets(conn)
    budget = ProbeBudget(settings.probe_cooldown_s, settings.probe_stale_s,
                         settings.node_daily_probe_cap,
                         max(0, settings.daily_probe_cap - int(today) - len(queued)))
    keep = np.array([p not in queued for p in inputs.pubkeys], dtype=bool)
    candidates = ProbeCandidates([p for p, k in zip(inputs.pubkeys, keep, strict=True) if k],
                                 inputs.pagerank[keep], inputs.alpha[keep],
                                 inputs.beta[keep], inputs.asks[keep], inputs.n_eff[keep],
                                 inputs.max_routable_sat[keep])
    plan = plan_probes(candidates, n=n_probes, now=now, last_probed=history.last_probed,
                       probes_today=history.probes_since_day_start, budget=budget,
                       tiers_sat=settings.probe_tiers_sat, rng=rng,
                       tight_fee_sat=settings.probe_fee_limit_sat,
                       sample_share=settings.probe_sample_share)
    async with connection(pool) as conn:
        live = await live_vantages(conn, since=now - VANTAGE_LIVE)
        counts = await probes_by_vantage(conn, since=now - window,
                                         targets=[p.pubkey for p in plan])
    senders = assign_vantages([p.pubkey for p in plan], live, counts)
    async with connection(pool, transaction=True) as conn:
        await enqueue_probes(conn, [
            QueuedProbe(p.pubkey, p.amount_sat,
                        settings.probe_fee_limit_sat if p.fee_limit_sat is None
                        else p.fee_limit_sat, p.reason, p.priority, sender)
            for p, sender in zip(plan, senders, strict=True)],
            planned_at=now)
        await prune_queue(conn, done_before=now - QUEUE_KEEP_DONE,
                          planned_before=now - QUEUE_MAX_OPEN)
    QUEUE_OPEN.set(len(queued) + len(plan))
    _log.info("probe round: %d probes planned (%d asked about through the API, %d drawn "
              "as a sample)", len(plan), sum(p.reason == "requested" for p in plan),
              sum(p.reason == "sample" for p in plan))
    return plan


async def forget_old_probes(pool: Pool, settings: CrawlerSettings, *,
                            clock: Callable[[], datetime] = utc_now) -> int:
    """Retention: probes and channel knowledge older than PROBE_RETENTION_DAYS, API requests
    older than the request window. Returns the probes deleted."""
    async with connection(pool, transaction=True) as conn:
        cutoff = clock() - timedelta(days=settings.probe_retention_days)
        deleted = await delete_probes_before(conn, cutoff)
        await delete_knowledge_before(conn, cutoff)
        await forget_requests_before(conn, clock() - timedelta(seconds=REQUEST_WINDOW_S))
    return deleted


async def probe_phase(pool: Pool, sender: ProbeSender, settings: CrawlerSettings, *,
                      n_probes: int, rng: np.random.Generator,
                      clock: Callable[[], datetime] = utc_now, oracle_pubkey: str | None = None,
                      vantages: Sequence[Vantage] = (), batch: int | None = None
                      ) -> ProbeRoundReport:
    """One whole round in this process: plan into the queue, then drain it with the
    oracle (`sender`) and every other vantage in `vantages` side by side (each claims
    `batch` rows at a time: by default a share of the round per vantage)."""
    plan = await plan_phase(pool, settings, n_probes=n_probes, rng=rng, clock=clock)
    workers = [Vantage(ORACLE_VANTAGE, oracle_pubkey, sender), *vantages]
    share = batch or max(1, -(-n_probes // len(workers)))
    reports = await asyncio.gather(*(
        drain_queue(pool, v, settings, batch=share, worker=worker_id(v.name), clock=clock)
        for v in workers))
    deleted = await forget_old_probes(pool, settings, clock=clock)
    outcomes: dict[str, int] = {}
    for report in reports:
        for outcome, count in report.outcomes.items():
            outcomes[outcome] = outcomes.get(outcome, 0) + count
    LAST_SUCCESS.labels("probes").set(time.time())
    return ProbeRoundReport(len(plan), outcomes, deleted,
                            {r.vantage: r.sent for r in reports})
