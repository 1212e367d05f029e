"""Scores of one L402 endpoint from its stage observations (pure; time is a parameter).

Each stage (challenge, invoice, payment, delivery, quality) gets a Beta posterior of "this stage
succeeds, given the one before it did", from decayed counts (evidence.decay_factor: an
observation one half-life old counts half) over a weak uniform prior (mean 0.5, strength
2). Stages are observed only after the previous one passed, so the product of the stage
means is the end-to-end probability: that an agent's unpaid request leads to a delivered
answer. Stages never observed (no payment budget) are left out of the product and named
in the reasons (PAYMENT_UNTESTED), so an untested endpoint cannot read as SAFE. A quality
check skipped (SKIPPED_REASONS: no response schema declared, or none usable) is no
evidence either way and is not counted; a failed one (the body breaks the declared schema)
counts like any stage's failure.

Verdicts, first matching rule wins:
1. INSUFFICIENT  under MIN_CHECKS decayed checks (challenge observations);
2. RISKY         end-to-end p < RISKY_P;
3. SAFE          delivery tested, p >= SAFE_P and every observed stage's ci95_low >= SAFE_CI_LOW;
4. UNKNOWN       otherwise.
Reasons: every failure reason that makes up at least REASON_SHARE of its stage's decayed
observations, as `stage:REASON`, the largest share first; then the untested stages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from satrank.scoring.evidence import decay_factor
from satrank.scoring.posterior import beta_posterior

STAGES = ("challenge", "invoice", "payment", "delivery", "quality")
SKIPPED_REASONS = frozenset({"NO_SCHEMA", "SCHEMA_INVALID"})  # registry/quality.py
PRIOR_MEAN, PRIOR_STRENGTH = 0.5, 2.0
MIN_CHECKS = 2.5  # three recent checks pass it, however few seconds old
RISKY_P = 0.5
SAFE_P = 0.7
SAFE_CI_LOW = 0.5
REASON_SHARE = 0.1
# Reasons that mean the endpoint was not up at all (no HTTP answer, or a server error).
DOWN_REASONS = frozenset({"TIMEOUT", "CONNECT_FAILED", "DNS_FAILED", "PROTOCOL_ERROR",
                          "HTTP_5XX"})


@dataclass(frozen=True)
class StageObservation:
    stage: str
    ok: bool
    reason: str
    latency_ms: int
    age_s: float  # how long before the scoring time it was made
    price_sat: int | None = None


@dataclass(frozen=True)
class StagePosterior:
    stage: str
    p: float
    ci95_low: float
    ci95_high: float
    n_eff: float


@dataclass(frozen=True)
class EndpointScore:
    stages: tuple[StagePosterior, ...]  # the observed stages, in STAGES order
    p_success: float  # end to end over the observed stages
    uptime: float  # decayed share of checks that got an HTTP answer (not 5xx)
    median_latency_ms: int | None  # of the successful challenges
    price_sat: int | None  # the newest invoice's amount
    verdict: str
    reasons: tuple[str, ...]


def score_endpoint(observations: Sequence[StageObservation], *,
                   half_life_s: float) -> EndpointScore:
    weights = decay_factor(np.array([o.age_s for o in observations], dtype=np.float64),
                           half_life_s) if observations else np.zeros(0)
    posteriors: list[StagePosterior] = []
    weighted_reasons: list[tuple[float, str]] = []  # (share of its stage, reason)
    for stage in STAGES:
        picked = [(w, o) for w, o in zip(weights.tolist(), observations, strict=True)
                  if o.stage == stage and o.reason not in SKIPPED_REASONS]
        if not picked:
            continue
        s = sum(w for w, o in picked if o.ok)
        f = sum(w for w, o in picked if not o.ok)
        post = beta_posterior(np.array([PRIOR_MEAN]), PRIOR_STRENGTH, np.array([s]),
                              np.array([f]))
        posteriors.append(StagePosterior(stage, float(post.p_success[0]),
                                         float(post.ci95_low[0]), float(post.ci95_high[0]),
                                         s + f))
        weighted_reasons += _reasons(stage, picked, s + f)
    p = float(np.prod([sp.p for sp in posteriors])) if posteriors else 0.0
    observed = {sp.stage for sp in posteriors}
    untested = [f"{stage.upper()}_UNTESTED" for stage in ("payment", "delivery")
                if stage not in observed]
    reasons = tuple(r for _, r in sorted(weighted_reasons, key=lambda wr: -wr[0])) + tuple(
        untested)
    checks = next((sp.n_eff for sp in posteriors if sp.stage == "challenge"), 0.0)
    return EndpointScore(
        stages=tuple(posteriors), p_success=p,
        uptime=_uptime(weights, observations), median_latency_ms=_median_latency(observations),
        price_sat=_newest_price(observations),
        verdict=_verdict(checks, p, posteriors, "delivery" in observed), reasons=reasons)


def _reasons(stage: str, picked: list[tuple[float, StageObservation]],
             total: float) -> list[tuple[float, str]]:
    by_reason: dict[str, float] = {}
    for w, o in picked:
        if not o.ok:
            by_reason[o.reason] = by_reason.get(o.reason, 0.0) + w
    return [(w / total, f"{stage}:{reason}") for reason, w in by_reason.items()
            if total > 0 and w / total >= REASON_SHARE]


def _uptime(weights: np.ndarray, observations: Sequence[StageObservation]) -> float:
    up = down = 0.0
    for w, o in zip(weights.tolist(), observations, strict=True):
        if o.stage == "challenge":
            if not o.ok and o.reason in DOWN_REASONS:
                down += w
            else:
                up += w
    return up / (up + down) if up + down > 0 else 0.0


def _median_latency(observations: Sequence[StageObservation]) -> int | None:
    latencies = [o.latency_ms for o in observations if o.stage == "challenge" and o.ok]
    return int(np.median(latencies)) if latencies else None


def _newest_price(observations: Sequence[StageObservation]) -> int | None:
    priced = [o for o in observations if o.stage == "invoice" and o.price_sat is not None]
    return min(priced, key=lambda o: o.age_s).price_sat if priced else None


def _verdict(checks: float, p: float, posteriors: Sequence[StagePosterior],
             delivery_tested: bool) -> str:
    if checks < MIN_CHECKS:
        return "INSUFFICIENT"
    if p < RISKY_P:
        return "RISKY"
    if delivery_tested and p >= SAFE_P and all(sp.ci95_low >= SAFE_CI_LOW for sp in posteriors):
        return "SAFE"
    return "UNKNOWN"
