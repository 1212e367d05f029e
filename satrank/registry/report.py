"""An endpoint's scores from its stored observations: what the registry job stores after
each check, and what `POST /api/intent` on an L402 URL reads (`endpoint_report`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from satrank.db.pool import Pool
from satrank.db.registry import (
    ServiceRow,
    ServiceSummary,
    fetch_service_by_url,
    observations_since,
)
from satrank.scoring.registry import EndpointScore, StageObservation, score_endpoint

# Evidence older than this many half-lives weighs under 1/32: not read.
HORIZON_HALF_LIVES = 5


@dataclass(frozen=True)
class EndpointReport:
    service: ServiceRow
    score: EndpointScore  # stage posteriors, end-to-end p, price, verdict, reasons
    payee_pubkey: str | None  # the newest invoice's payee


async def score_service(pool: Pool, service_id: int, *, now: datetime,
                        half_life_s: float) -> EndpointScore:
    since = now - timedelta(seconds=HORIZON_HALF_LIVES * half_life_s)
    rows = await observations_since(pool, service_id, since)
    return score_endpoint([
        StageObservation(o.stage, o.ok, o.reason, o.latency_ms,
                         max(0.0, (now - o.observed_at).total_seconds())
                         if o.observed_at is not None else 0.0, o.price_sat)
        for o in rows], half_life_s=half_life_s)


def summary_of(score: EndpointScore, payee_pubkey: str | None,
               more_reasons: tuple[str, ...] = ()) -> ServiceSummary:
    """`more_reasons`: what the last check found beyond the stages (an ownership claim
    the manifest and the challenge disagree on), listed first."""
    return ServiceSummary(price_sat=score.price_sat, payee_pubkey=payee_pubkey,
                          p_success=score.p_success, uptime=score.uptime,
                          median_latency_ms=score.median_latency_ms, verdict=score.verdict,
                          reasons=more_reasons + score.reasons)


async def endpoint_report(pool: Pool, url: str, *, now: datetime,
                          half_life_s: float) -> EndpointReport | None:
    """For a URL an agent is about to pay: the registered endpoint's stage posteriors,
    price and payee node, scored at `now`; None when the URL is not registered."""
    service = await fetch_service_by_url(pool, url)
    if service is None:
        return None
    score = await score_service(pool, service.id, now=now, half_life_s=half_life_s)
    return EndpointReport(service, score, service.payee_pubkey)
