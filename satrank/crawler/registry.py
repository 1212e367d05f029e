"""The `registry` job: check every due L402 endpoint stage by stage (registry/stages.py),
store what each stage found, rescore the endpoint (scoring/registry.py) and read each
registered host's /.well-known/l402.json for its provider key, its other resources and
the response schemas they declare (there or in the OpenAPI document it links).

Bounded and polite: at most REGISTRY_CONCURRENCY hosts at once, one request at a time per
host with REGISTRY_HOST_GAP_S between them, every fetch under the egress policy's caps.
Due endpoints are claimed (their next check pushed ahead) in the statement that selects
them, so a second crawler process's round skips them. Observations older than scoring
reads are deleted at the start of each round. Payments happen only with a daily budget
(REGISTRY_SPEND_SAT_PER_DAY), each reserved in the database before it is sent.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx

from satrank.config import RegistrySettings
from satrank.crawler.metrics import REGISTRY_SPENT_SAT, REGISTRY_STAGES
from satrank.db.nostr_outbox import enqueue_event_if_changed
from satrank.db.pool import Pool, connection
from satrank.db.registry import (
    NewService,
    Observation,
    ServiceRow,
    advertise_prices,
    claim_due,
    payee_p_success,
    prune_observations,
    record_observations,
    register_service,
    store_summary,
)
from satrank.db.registry_spend import reserve_payment, settle_payment
from satrank.nostr.service_assertions import (
    KIND_EXTERNAL_ASSERTION,
    ScoredService,
    service_tags,
)
from satrank.registry.egress import (
    EgressError,
    EgressPolicy,
    Resolver,
    fetch,
    new_client,
    system_resolver,
)
from satrank.registry.manifest import Manifest, manifest_url, ownership, parse_manifest
from satrank.registry.quality import Schema, openapi_response_schema
from satrank.registry.report import HORIZON_HALF_LIVES, score_service, summary_of
from satrank.registry.stages import InvoicePayer, Payments, Target, check_endpoint

_log = logging.getLogger(__name__)


@dataclass
class RoundSummary:
    checked: int = 0
    stages: dict[str, int] = field(default_factory=dict)  # "stage:REASON" -> count
    discovered: int = 0


def egress_policy(settings: RegistrySettings) -> EgressPolicy:
    return EgressPolicy(allow_private=settings.allow_private, allow_http=settings.allow_private,
                        deadline_s=settings.fetch_deadline_s)


async def run_registry_round(
    pool: Pool, settings: RegistrySettings, *, half_life_s: float,
    payer: InvoicePayer | None = None, resolver: Resolver = system_resolver,
    publish_nostr: bool = False,
) -> RoundSummary:
    """One round over the due endpoints; returns what it saw. `publish_nostr`: queue a
    kind 30385 assertion for each endpoint whose figures changed."""
    summary = RoundSummary()
    await prune_observations(pool, datetime.now(UTC) - timedelta(
        seconds=HORIZON_HALF_LIVES * half_life_s))
    due = await claim_due(pool, settings.endpoints_per_round, settings.recheck_s)
    if not due:
        return summary
    by_host: dict[str, list[ServiceRow]] = defaultdict(list)
    for service in due:
        by_host[service.host].append(service)
    slots = asyncio.Semaphore(settings.concurrency)
    async with new_client() as client:
        round_ = _Round(pool, settings, client, half_life_s, payer, resolver, summary,
                        publish_nostr)
        # every host's checks run to their end (each fetch has its deadline) before a
        # failure (the database, say) fails the round
        outcomes = await asyncio.gather(
            *(round_.host(services, slots) for services in by_host.values()),
            return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
    return summary


@dataclass
class _Round:
    pool: Pool
    settings: RegistrySettings
    client: httpx.AsyncClient
    half_life_s: float
    payer: InvoicePayer | None
    resolver: Resolver
    summary: RoundSummary
    publish_nostr: bool

    async def host(self, services: Sequence[ServiceRow], slots: asyncio.Semaphore) -> None:
        async with slots:
            asked, manifest = await self._manifest(services)
            owner = manifest.provider_pubkey if manifest else None
            prices = {(r.method, r.url): r.price_sat for r in manifest.resources} if manifest \
                else {}
            openapi = None
            if manifest is not None and manifest.openapi_url is not None:
                await asyncio.sleep(self.settings.host_gap_s)
                openapi = await self._openapi(manifest.openapi_url)
            schemas = _declared_schemas(manifest, openapi, services)
            for service in services:
                if asked:  # politeness: a gap after each request to this host
                    await asyncio.sleep(self.settings.host_gap_s)
                price = prices.get((service.method, service.url), service.advertised_price_sat)
                await self._check(service, price, owner, schemas.get(service.id))
                asked = True

    async def _openapi(self, url: str) -> object:
        """The host's OpenAPI document (JSON), None when it cannot be read."""
        try:
            response = await fetch(self.client, "GET", url,
                                   policy=egress_policy(self.settings), resolver=self.resolver)
        except EgressError:
            return None
        if response.status != 200:
            return None
        try:
            return json.loads(response.body)  # the body is capped by the egress policy
        except (ValueError, UnicodeDecodeError, RecursionError):
            return None

    async def _manifest(self, services: Sequence[ServiceRow]) -> tuple[bool, Manifest | None]:
        """(whether the host was asked, its manifest); the resources the manifest lists are
        registered. Only a host with a registered service is asked."""
        registered = next((s for s in services if s.source == "registered"), None)
        if registered is None:
            return False, None
        try:
            response = await fetch(self.client, "GET", manifest_url(registered.url),
                                   policy=egress_policy(self.settings), resolver=self.resolver)
        except EgressError:
            return True, None
        manifest = (parse_manifest(response.body, registered.url,
                                   allow_private=self.settings.allow_private)
                    if response.status == 200 else None)
        if manifest is None:
            return True, None
        await self._enrol(manifest, registered)
        return True, manifest

    async def _enrol(self, manifest: Manifest, registered: ServiceRow) -> None:
        for resource in manifest.resources:
            _, created = await register_service(self.pool, NewService(
                url=resource.url, method=resource.method, host=registered.host,
                category=registered.category, name=resource.name,
                description=resource.description, source="manifest",
                advertised_price_sat=resource.price_sat))
            self.summary.discovered += created
        await advertise_prices(self.pool, registered.host, [
            (r.method, r.url, r.price_sat) for r in manifest.resources])

    async def _check(self, service: ServiceRow, advertised_price_sat: int | None,
                     owner: str | None, response_schema: Schema | None) -> None:
        results = await check_endpoint(
            self.client, Target(service.url, service.method, advertised_price_sat,
                                response_schema),
            policy=egress_policy(self.settings),
            payee_score=lambda pubkey: payee_p_success(self.pool, pubkey),
            now_unix=datetime.now(UTC).timestamp(), payments=self._payments(service),
            resolver=self.resolver)
        await record_observations(self.pool, service.id, [
            Observation(r.stage, r.ok, r.reason, r.latency_ms, r.price_sat, r.payee_pubkey)
            for r in results])
        score = await score_service(self.pool, service.id, now=datetime.now(UTC),
                                    half_life_s=self.half_life_s)
        payee = next((r.payee_pubkey for r in results if r.stage == "invoice"), None)
        claimed, against = ownership(owner, next(
            (r.provider_pubkey for r in results if r.stage == "challenge"), None))
        stored = summary_of(score, payee, () if against is None else (against,))
        await store_summary(self.pool, service.id, stored, claimed)
        if self.publish_nostr:
            tags = service_tags(ScoredService(
                service.url, service.method, stored.verdict, stored.p_success, stored.uptime,
                stored.median_latency_ms, stored.price_sat, payee or service.payee_pubkey))
            async with connection(self.pool) as conn:  # queued only when the tags changed
                await enqueue_event_if_changed(conn, KIND_EXTERNAL_ASSERTION, service.url,
                                               tags, "")
        self.summary.checked += 1
        for r in results:
            key = f"{r.stage}:{r.reason}"
            self.summary.stages[key] = self.summary.stages.get(key, 0) + 1
            # the code only: a schema error path is the third party's text, unbounded
            REGISTRY_STAGES.labels(r.stage, r.reason.split("@", 1)[0]).inc()
            if r.stage == "payment" and r.ok and r.price_sat:
                REGISTRY_SPENT_SAT.inc(r.price_sat)

    def _payments(self, service: ServiceRow) -> Payments | None:
        if self.payer is None or self.settings.spend_sat_per_day <= 0:
            return None
        pool, budget = self.pool, self.settings.spend_sat_per_day

        async def reserve(payment_hash: bytes, amount_sat: int) -> bool:
            return await reserve_payment(pool, service_id=service.id, payment_hash=payment_hash,
                                         amount_sat=amount_sat, budget_sat=budget)

        async def settle(payment_hash: bytes, succeeded: bool) -> None:
            await settle_payment(pool, payment_hash, succeeded=succeeded)

        return Payments(self.payer, reserve, settle, self.settings.max_payment_sat)



def _declared_schemas(manifest: Manifest | None, openapi: object,
                      services: Sequence[ServiceRow]) -> dict[int, Schema]:
    """service id -> the response schema its host declares: the manifest resource's own
    first, else the OpenAPI operation of its path and method."""
    listed = {(r.method, r.url): r.response_schema for r in manifest.resources} \
        if manifest else {}
    found: dict[int, Schema] = {}
    for service in services:
        schema = listed.get((service.method, service.url)) or openapi_response_schema(
            openapi, httpx.URL(service.url).path, service.method)
        if schema is not None:
            found[service.id] = schema
    return found
