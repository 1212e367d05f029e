"""The crawler's jobs as data: one table of what runs, how often, and where.

`crawler_jobs(settings)` is the table `service.run_forever` schedules. Adding a job is one
entry in it:

    Job("registry", s.registry.interval_s, leader_only=True, run=check_registry),

where `run` is `async def check_registry(ctx: JobContext) -> object` (the return value is
only logged at debug level). The service then, with no other edit:

- runs the job every `interval_s` seconds, counted from the end of its previous run, the
  first run as soon as the job may run (after leadership for a `leader_only` job; at once
  for the others, which also run on a standby);
- counts it per job, the label `phase` being the job's name (the label the alert rules
  already use): `satrank_crawler_job_runs_total`, `satrank_crawler_failures_total`,
  `satrank_crawler_job_seconds`, `satrank_crawler_last_success_timestamp_seconds`;
- backs off after a failure: 1 s, doubling up to CRAWL_LND_BACKOFF_MAX_S, back to
  `interval_s` after a success. A failing job never stops the others.

Jobs in the same `lane` never run at the same time, and when several are due together
they run in table order; a job with no lane runs beside everything else. The graph sync
and the probe planner (which also rescores) share the "lightning" lane: one writer of
the graph and the scores. Each vantage's probe worker has its own lane
("vantage:<name>"), so the vantages send side by side and a long batch delays no sync.
A job that runs until `ctx.stop` (the Nostr publisher) is simply one long run.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from satrank.config import ORACLE_VANTAGE, Settings
from satrank.crawler.cycle import (
    GraphSource,
    forget_old_probes,
    plan_phase,
    score_phase,
    sync_phase,
    utc_now,
)
from satrank.crawler.metrics import FAILURES
from satrank.crawler.payer import vantage_channels
from satrank.crawler.probes import ProbeSender
from satrank.crawler.worker import Vantage, batch_size, drain_queue, worker_id
from satrank.db.nostr_outbox import prune_finished
from satrank.db.pool import Pool, connection
from satrank.db.reports import REPORT_RETENTION, delete_reports_before
from satrank.lightning.errors import LightningError
from satrank.scoring.payer import OwnChannel

_log = logging.getLogger(__name__)
Connect = Callable[[], Awaitable[tuple[GraphSource, ProbeSender]]]
ConnectVantage = Callable[[str], Awaitable[tuple[str, ProbeSender]]]
LIGHTNING_LANE = "lightning"
WORKER_POLL_S = 5.0  # how often an idle probe worker looks at the queue again
OUTBOX_PRUNE_INTERVAL_S = 600.0
OUTBOX_KEEP_DELIVERED_S = 86_400.0  # the newest delivered event per node, for inspection


async def _no_vantages(name: str) -> tuple[str, ProbeSender]:
    raise LightningError(f"no LND configured for the vantage {name}")


class LightningLink:
    """The LND clients, opened on first use and kept: only jobs that need LND wait for it,
    and a job run fails (and backs off) while LND cannot be opened. `connect_vantage`
    opens another vantage node by name: its pubkey and a probe sender."""

    def __init__(self, connect: Connect, connect_vantage: ConnectVantage = _no_vantages
                 ) -> None:
        self._connect = connect
        self._connect_vantage = connect_vantage
        self._clients: tuple[GraphSource, ProbeSender] | None = None
        self._vantages: dict[str, Vantage] = {}

    async def vantage(self, name: str) -> Vantage:
        """The vantage `name` ("oracle": the LND_* node, its pubkey from GetInfo)."""
        if name not in self._vantages:
            try:
                if name == ORACLE_VANTAGE:
                    source, sender = await self.clients()
                    pubkey = (await source.get_info()).identity_pubkey
                else:
                    pubkey, sender = await self._connect_vantage(name)
            except (LightningError, OSError) as exc:
                FAILURES.labels("lnd_connect").inc()
                _log.warning("cannot open the vantage %s: %s", name, exc)
                raise
            self._vantages[name] = Vantage(name, pubkey, sender)
        return self._vantages[name]

    async def clients(self) -> tuple[GraphSource, ProbeSender]:
        if self._clients is None:
            try:
                self._clients = await self._connect()
            except (LightningError, OSError) as exc:
                FAILURES.labels("lnd_connect").inc()
                _log.warning("cannot open LND: %s", exc)
                raise
        return self._clients


@dataclass
class JobContext:
    """What a job may use: shared by every job of one crawler process."""

    pool: Pool
    settings: Settings
    lightning: LightningLink
    stop: asyncio.Event  # set when jobs must end (shutdown, or leadership lost)
    rng: np.random.Generator = field(default_factory=np.random.default_rng)
    worker_ids: dict[str, str] = field(default_factory=dict)  # vantage -> claim holder
    # the vantages' own channels as the last graph sync listed them (crawler/payer.py)
    payer_channels: tuple[OwnChannel, ...] = ()


@dataclass(frozen=True)
class Job:
    name: str  # the `phase` label of its metrics
    interval_s: float  # pause between the end of one run and the start of the next
    leader_only: bool  # False: also runs on a standby crawler
    run: Callable[[JobContext], Awaitable[object]]
    lane: str | None = None  # jobs of one lane run one at a time, in table order


async def sync_and_score(ctx: JobContext) -> object:
    source, _ = await ctx.lightning.clients()
    await sync_phase(ctx.pool, source)
    ctx.payer_channels = await vantage_channels(await _vantage_clients(ctx, source))
    return await score_phase(ctx.pool, ctx.settings.crawler,
                             enqueue_nostr=ctx.settings.nostr.publishing,
                             payer_channels=ctx.payer_channels)


async def _vantage_clients(ctx: JobContext, source: GraphSource) -> list[tuple[str, object]]:
    """(pubkey, client) of every vantage that can be opened now (the oracle's readonly
    client: its pay client need not read channels)."""
    nodes: list[tuple[str, object]] = []
    for name in vantage_names(ctx.settings):
        try:
            vantage = await ctx.lightning.vantage(name)
        except (LightningError, OSError):
            continue  # counted and logged by LightningLink
        if vantage.pubkey:
            nodes.append((vantage.pubkey,
                          source if name == ORACLE_VANTAGE else vantage.sender))
    return nodes


async def plan_and_score(ctx: JobContext) -> object:
    """The leader plans the next probes into the queue (the workers send them) and
    rescores with what the workers stored since the last pass."""
    cs = ctx.settings.crawler
    await plan_phase(ctx.pool, cs, n_probes=cs.probes_per_round, rng=ctx.rng)
    await forget_old_probes(ctx.pool, cs)
    return await score_phase(ctx.pool, cs, enqueue_nostr=ctx.settings.nostr.publishing,
                             payer_channels=ctx.payer_channels)


def probe_worker(name: str) -> Callable[[JobContext], Awaitable[object]]:
    """The job of the vantage `name`: send what the queue holds for it, until empty."""

    async def run(ctx: JobContext) -> object:
        vantage = await ctx.lightning.vantage(name)
        return await drain_queue(ctx.pool, vantage, ctx.settings.crawler,
                                 batch=batch_size(ctx.settings.crawler, ctx.settings.lnd),
                                 worker=ctx.worker_ids.setdefault(name, worker_id(name)),
                                 clock=utc_now)

    return run


def probe_worker_job(name: str, *, leader_only: bool) -> Job:
    return Job(f"probe_worker_{name}", WORKER_POLL_S, leader_only=leader_only,
               run=probe_worker(name), lane=f"vantage:{name}")


def vantage_names(settings: Settings) -> list[str]:
    return [ORACLE_VANTAGE, *(v.name for v in settings.lnd.vantages)]


async def prune_nostr_outbox(ctx: JobContext) -> object:
    """Deletes finished outbox rows; runs with publishing off too, to clear what an earlier
    configuration left."""
    async with connection(ctx.pool) as conn:
        return await prune_finished(conn, keep_delivered_s=OUTBOX_KEEP_DELIVERED_S)


async def publish_to_nostr(ctx: JobContext) -> object:
    """Drains the outbox `store_scores` fills until `ctx.stop`: only the leader publishes,
    and a slow relay never delays a sync or a probe round (its own lane)."""
    # imported here: pynostr and its requests/cryptography stack cost every crawler
    # process ~0.15 s at start, and `crawl --once` never publishes
    from satrank.nostr.publisher import run_publisher

    await run_publisher(ctx.pool, ctx.settings.nostr, stop=ctx.stop)
    return None


async def check_registry(ctx: JobContext) -> object:
    """One registry round (crawler/registry.py); pays services through the pay macaroon's
    client only with a daily budget, and checks the unpaid stages while LND is down."""
    # imported here: its HTTP and JSON-schema stack costs every `crawl --once` ~0.2 s
    from satrank.crawler.registry import run_registry_round
    from satrank.registry.stages import InvoicePayer

    rs = ctx.settings.registry
    payer: InvoicePayer | None = None
    if rs.spend_sat_per_day > 0:
        try:
            _, sender = await ctx.lightning.clients()
        except (LightningError, OSError):
            sender = None  # counted and logged by LightningLink
        payer = sender if isinstance(sender, InvoicePayer) else None
    return await run_registry_round(ctx.pool, rs, payer=payer,
                                    half_life_s=ctx.settings.crawler.half_life_days * 86_400,
                                    publish_nostr=ctx.settings.nostr.publishing)


REPORT_RETENTION_INTERVAL_S = 3600.0


async def prune_reports(ctx: JobContext) -> object:
    """Reports are kept for REPORT_RETENTION (db/reports.py), then deleted."""
    async with connection(ctx.pool) as conn:
        return await delete_reports_before(conn, datetime.now(UTC) - REPORT_RETENTION)


def crawler_jobs(settings: Settings) -> list[Job]:
    """The table. An entry whose condition is false (no probes, no relays) is left out."""
    cs = settings.crawler
    table = [
        (True, Job("graph_sync", cs.graph_interval_s, leader_only=True, run=sync_and_score,
                   lane=LIGHTNING_LANE)),
        (cs.probes_per_round > 0,
         Job("probes", cs.probe_interval_s, leader_only=True, run=plan_and_score,
             lane=LIGHTNING_LANE)),
        *((cs.probes_per_round > 0, probe_worker_job(name, leader_only=True))
          for name in vantage_names(settings)),
        (settings.nostr.publishing,
         Job("nostr_publisher", settings.nostr.poll_interval_s, leader_only=True,
             run=publish_to_nostr)),
        (True, Job("report_retention", REPORT_RETENTION_INTERVAL_S, leader_only=True,
                   run=prune_reports)),
        (True, Job("nostr_prune", OUTBOX_PRUNE_INTERVAL_S, leader_only=True,
                   run=prune_nostr_outbox)),
        (True, Job("registry", settings.registry.interval_s, leader_only=True,
                   run=check_registry)),
    ]
    return [job for wanted, job in table if wanted]
